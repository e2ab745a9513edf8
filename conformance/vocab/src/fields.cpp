#include "vmref/trace/fields.hpp"

#include <algorithm>
#include <cstdio>

namespace vmref::trace {

using nlohmann::json;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t parse_u64(const json& v, const std::string& file, std::uint64_t line, const std::string& field) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  if (!v.is_string()) throw TraceError(file, line, field, "expected a \"0x...\" hex string");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() < 3 || s.size() > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
    throw TraceError(file, line, field, "expected a \"0x...\" hex string of at most 64 bits, got \"" + s + "\"");
  std::uint64_t r = 0;
  for (std::size_t i = 2; i < s.size(); ++i) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) throw TraceError(file, line, field, "bad hex digit in \"" + s + "\"");
    r = (r << 4) | static_cast<std::uint64_t>(d);
  }
  return r;
}

Fields::Fields(const json& j, const std::string& file, std::uint64_t line) : j_(j), file_(file), line_(line) {
  if (!j.is_object()) throw TraceError(file, line, "", "each line must be a JSON object");
}

bool Fields::has(const char* k) { return j_.contains(k) && (used_.push_back(k), true); }

const json& Fields::raw(const char* k) {
  used_.push_back(k);
  return j_.at(k);
}

void Fields::fail(const std::string& field, const std::string& msg) const { throw TraceError(file_, line_, field, msg); }

std::uint64_t Fields::u64(const char* k) {
  if (!has(k)) fail(k, "missing");
  return parse_u64(j_.at(k), file_, line_, k);
}

std::uint64_t Fields::u64_in(const json& v, const std::string& field) const { return parse_u64(v, file_, line_, field); }

std::optional<std::uint64_t> Fields::recorded_ret() const {
  const json* x = peek("expect");
  if (!x || !x->is_object() || !x->contains("ret")) return std::nullopt;
  return parse_u64((*x)["ret"], file_, line_, "expect.ret");
}

std::string Fields::str(const char* k) {
  if (!has(k)) fail(k, "missing");
  if (!j_.at(k).is_string()) fail(k, "expected a string");
  return j_.at(k).get<std::string>();
}

bool Fields::flag(const char* k) {
  if (!has(k)) return false;
  if (!j_.at(k).is_boolean()) fail(k, "expected true or false");
  return j_.at(k).get<bool>();
}

std::uint64_t Fields::small(const char* k, std::uint64_t max) {
  if (!has(k)) fail(k, "missing");
  const json& v = j_.at(k);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    fail(k, "expected a non-negative integer");
  std::uint64_t n = v.get<std::uint64_t>();
  if (n > max) fail(k, "must be at most " + std::to_string(max));
  return n;
}

vocab::Prot Fields::prot(const char* k) {
  auto p = vocab::Prot::parse(str(k));
  if (!p) fail(k, "expected three characters like \"rw-\"");
  return *p;
}

vocab::AccessKind Fields::access_kind(const char* k, const char* dflt) {
  auto a = vocab::parse_access_kind(str_or(k, dflt));
  if (!a) fail(k, "expected \"read\", \"write\" or \"exec\"");
  return *a;
}

vocab::FileRef Fields::file(const char* k) {
  const json& j = raw(k);
  if (!j.is_object()) fail(k, "expected an object {\"id\", \"path\", \"writable\"}");
  std::string K = k;
  vocab::FileRef r;
  if (!j.contains("id") || !j["id"].is_string()) fail(K + ".id", "missing or not a string");
  r.id = j["id"];
  if (j.contains("path")) {
    if (!j["path"].is_string()) fail(K + ".path", "expected a string");
    r.path = j["path"];
  }
  if (j.contains("writable")) {
    if (!j["writable"].is_boolean()) fail(K + ".writable", "expected true or false");
    r.fd_writable = j["writable"];
  }
  if (j.contains("size")) r.size = u64_in(j["size"], K + ".size");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "id" && it.key() != "path" && it.key() != "writable" && it.key() != "size")
      fail(K + "." + it.key(), "unknown field");
  return r;
}

void Fields::done() const {
  for (auto it = j_.begin(); it != j_.end(); ++it)
    if (std::find(used_.begin(), used_.end(), std::string_view(it.key())) == used_.end())
      fail(it.key(), "unknown field for this op");
}

}  // namespace vmref::trace
