#include "expect_shape.hpp"

#include <map>

#include "vmref/vocab/types.hpp"
#include "vmref/vocab/vseg_attrs.hpp"

namespace vmref::trace {

using nlohmann::json;

namespace {

enum class Kind { u64, boolean, string, prot, label, vseg_kind };

void check_value(const json& v, Kind k, const std::string& field, const Fields& f) {
  switch (k) {
    case Kind::u64: f.u64_in(v, field); return;
    case Kind::boolean:
      if (!v.is_boolean()) f.fail(field, "expected true or false");
      return;
    case Kind::prot:
      if (!v.is_string() || !vocab::Prot::parse(v.get<std::string>())) f.fail(field, "expected three characters like \"rw-\"");
      return;
    case Kind::vseg_kind:
      if (!v.is_string() || !vocab::parse_kind(v.get<std::string>()))
        f.fail(field, "expected a vseg kind (anon, file, stack, heap, code, data, kernel, special)");
      return;
    case Kind::string:
    case Kind::label:
      if (!v.is_string()) f.fail(field, "expected a string");
      return;
  }
}

/// Each element of array `v` an object with key `key` and only keys from `allowed`.
void check_list(const json& v, const std::string& field, const char* key, const std::map<std::string, Kind>& allowed,
                const Fields& f) {
  if (!v.is_array()) f.fail(field, "expected an array");
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string at = field + "[" + std::to_string(i) + "]";
    if (!v[i].is_object() || !v[i].contains(key)) f.fail(at + "." + key, "missing");
    for (auto it = v[i].begin(); it != v[i].end(); ++it) {
      auto a = allowed.find(it.key());
      if (a == allowed.end()) f.fail(at + "." + it.key(), "unknown field");
      check_value(*it, a->second, at + "." + it.key(), f);
    }
  }
}

const std::map<std::string, Kind> kVseg{{"start", Kind::u64},   {"end", Kind::u64},     {"prot", Kind::prot},
                                        {"shared", Kind::boolean}, {"kind", Kind::vseg_kind}, {"file", Kind::string},
                                        {"offset", Kind::u64},  {"name", Kind::string}, {"anon_pages", Kind::boolean}};
const std::map<std::string, Kind> kPage{{"va", Kind::u64},          {"present", Kind::boolean}, {"prot", Kind::prot},
                                        {"cow", Kind::boolean},     {"zero", Kind::boolean},    {"refcount", Kind::u64},
                                        {"mapcount", Kind::u64},    {"exclusive", Kind::boolean}, {"kept", Kind::boolean},
                                        {"frame", Kind::label},     {"size", Kind::u64}};

}  // namespace

void check_expect_shape(const json& x, const Fields& f) {
  if (!x.is_object()) f.fail("expect", "expected an object");
  for (auto it = x.begin(); it != x.end(); ++it) {
    const std::string& k = it.key();
    std::string field = "expect." + k;
    if (k == "errno") {
      if (!it->is_string() || !vocab::parse_err(it->get<std::string>()))
        f.fail(field, "expected an errno name (ok, EINVAL, ENOMEM, EEXIST, EACCES, EPERM, EBUSY, EFAULT)");
    } else if (k == "ret") {
      f.u64_in(*it, field);
    } else if (k == "result") {
      if (!it->is_string() || !vocab::parse_access_result(it->get<std::string>()))
        f.fail(field, "expected \"ok\", \"segv_maperr\", \"segv_accerr\" or \"sigbus\"");
    } else if (k == "zero_page") {
      check_value(*it, Kind::boolean, field, f);
    } else if (k == "vsl") {
      check_list(*it, field, "start", kVseg, f);
      for (std::size_t i = 0; i < it->size(); ++i)
        if (!(*it)[i].contains("end")) f.fail(field + "[" + std::to_string(i) + "].end", "missing");
    } else if (k == "pages") {
      check_list(*it, field, "va", kPage, f);
    } else {
      f.fail(field, "unknown expectation (errno, ret, result, zero_page, vsl, pages)");
    }
  }
}

void check_declared_shape(const json& x, const Fields& f) {
  const std::string at = "provenance.expected";
  if (!x.is_object()) f.fail(at, "expected an object {\"verdict\", \"ids\", \"undetermined\", \"error\"}");
  for (auto it = x.begin(); it != x.end(); ++it) {
    const std::string& k = it.key();
    std::string field = at + "." + k;
    if (k == "verdict") {
      std::string v = it->is_string() ? it->get<std::string>() : "";
      if (v != "clean" && v != "findings" && v != "bad-input") f.fail(field, "expected \"clean\", \"findings\" or \"bad-input\"");
    } else if (k == "ids") {
      if (!it->is_array()) f.fail(field, "expected an array of finding IDs");
      for (std::size_t i = 0; i < it->size(); ++i)
        if (!(*it)[i].is_string()) f.fail(field + "[" + std::to_string(i) + "]", "expected a string");
    } else if (k == "undetermined") {
      if (!it->is_number_unsigned()) f.fail(field, "expected a non-negative integer");
    } else if (k == "error") {
      if (!it->is_string()) f.fail(field, "expected a string (part of the expected error message)");
    } else {
      f.fail(field, "unknown field (verdict, ids, undetermined, error)");
    }
  }
}

void check_replay_shape(const json& x, const Fields& f) {
  const std::string at = "provenance.replay";
  if (!x.is_object()) f.fail(at, "expected an object {\"impl\", \"mutant\", \"params\"}");
  if (!x.contains("impl") || !x["impl"].is_string()) f.fail(at + ".impl", "missing or not a string");
  for (auto it = x.begin(); it != x.end(); ++it) {
    const std::string& k = it.key();
    if (k == "impl") continue;
    if (k == "mutant") {
      if (!it->is_string()) f.fail(at + ".mutant", "expected a string");
    } else if (k == "params") {
      if (!it->is_object()) f.fail(at + ".params", "expected an object {name: value}");
      for (auto p = it->begin(); p != it->end(); ++p)
        if (!p->is_number_unsigned() || p->get<std::uint64_t>() > 0xffffffffu)
          f.fail(at + ".params." + p.key(), "expected a non-negative integer");
    } else {
      f.fail(at + "." + k, "unknown field (impl, mutant, params)");
    }
  }
}

}  // namespace vmref::trace
