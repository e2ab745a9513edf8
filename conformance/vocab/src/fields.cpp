#include "vmref/trace/fields.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace vmref::trace {

using nlohmann::json;
using simdjson::dom::element;
using simdjson::dom::element_type;

namespace {

/// "0x..." with 1 to 16 hex digits.
std::uint64_t parse_hex(std::string_view s, const std::string& file, std::uint64_t line, std::string_view field) {
  if (s.size() < 3 || s.size() > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
    throw TraceError(file, line, std::string(field),
                     "expected a \"0x...\" hex string of at most 64 bits, got \"" + std::string(s) + "\"");
  std::uint64_t r = 0;
  for (std::size_t i = 2; i < s.size(); ++i) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) throw TraceError(file, line, std::string(field), "bad hex digit in \"" + std::string(s) + "\"");
    r = (r << 4) | static_cast<std::uint64_t>(d);
  }
  return r;
}

/// A non-negative JSON integer (nlohmann's number_unsigned, or a non-negative
/// number_integer); simdjson types integers up to INT64_MAX as int64.
std::optional<std::uint64_t> natural(element v) {
  switch (v.type()) {
    case element_type::UINT64: return v.get_uint64().value_unsafe();
    case element_type::INT64: {
      std::int64_t n = v.get_int64().value_unsafe();
      if (n >= 0) return static_cast<std::uint64_t>(n);
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

/// a == b, byte by byte without a call to memcmp: keys are a few bytes long, and most keys
/// of a line differ in length or first byte ("as", "va", "op" have one length).
bool same_key(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace

std::uint64_t parse_u64(const json& v, const std::string& file, std::uint64_t line, const std::string& field) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  if (!v.is_string()) throw TraceError(file, line, field, "expected a \"0x...\" hex string");
  return parse_hex(v.get_ref<const std::string&>(), file, line, field);
}

std::uint64_t parse_u64(element v, const std::string& file, std::uint64_t line, std::string_view field) {
  if (auto n = natural(v)) return *n;
  if (!v.is_string()) throw TraceError(file, line, std::string(field), "expected a \"0x...\" hex string");
  return parse_hex(v.get_string().value_unsafe(), file, line, field);
}

json to_nlohmann(element v) {
  switch (v.type()) {
    case element_type::OBJECT: {
      json o = json::object();
      simdjson::dom::object obj = v.get_object().value_unsafe();  // a copy: the result is a temporary
      for (simdjson::dom::key_value_pair kv : obj)
        o[std::string(kv.key)] = to_nlohmann(kv.value);
      return o;
    }
    case element_type::ARRAY: {
      json a = json::array();
      simdjson::dom::array arr = v.get_array().value_unsafe();
      for (element x : arr) a.push_back(to_nlohmann(x));
      return a;
    }
    case element_type::INT64: {
      std::int64_t n = v.get_int64().value_unsafe();
      return n >= 0 ? json(static_cast<std::uint64_t>(n)) : json(n);
    }
    case element_type::UINT64: return json(v.get_uint64().value_unsafe());
    case element_type::DOUBLE: return json(v.get_double().value_unsafe());
    case element_type::STRING: return json(std::string(v.get_string().value_unsafe()));
    case element_type::BOOL: return json(v.get_bool().value_unsafe());
    case element_type::NULL_VALUE: return json(nullptr);
  }
  return json();
}

bool repeats_key(element v) {
  if (v.is_array()) {
    simdjson::dom::array a = v.get_array().value_unsafe();  // a copy: the result is a temporary
    for (element x : a)
      if (repeats_key(x)) return true;
    return false;
  }
  if (!v.is_object()) return false;
  simdjson::dom::object o = v.get_object().value_unsafe();
  std::vector<std::string_view> keys;
  for (simdjson::dom::key_value_pair kv : o) keys.push_back(kv.key);
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) return true;
  for (simdjson::dom::key_value_pair kv : o)
    if ((kv.value.is_object() || kv.value.is_array()) && repeats_key(kv.value)) return true;
  return false;
}

Fields::Fields(element j, const std::string& file, std::uint64_t line) : file_(file), line_(line) {
  simdjson::dom::object o;
  if (j.get_object().get(o) != simdjson::SUCCESS) throw TraceError(file, line, "", "each line must be a JSON object");
  size_ = o.size();
  if (size_ > kInline) more_ = std::make_unique<Entry[]>(size_);
  entries_ = more_ ? more_.get() : inline_.data();
  std::size_t i = 0;
  for (simdjson::dom::key_value_pair kv : o) {
    // A repeated key, compared pairwise while the line has few (a dozen at most in traces).
    if (i < kInline)
      for (std::size_t k = 0; k < i && !repeats_key_; ++k) repeats_key_ = same_key(entries_[k].key, kv.key);
    if ((kv.value.is_object() || kv.value.is_array()) && !repeats_key_) repeats_key_ = trace::repeats_key(kv.value);
    entries_[i++] = Entry{kv.key, kv.value, false};
  }
  if (size_ > kInline && !repeats_key_) repeats_key_ = trace::repeats_key(j);
}

Fields::Entry* Fields::find(std::string_view k) const {
  for (std::size_t i = 0; i < size_; ++i)
    if (same_key(entries_[i].key, k)) return &entries_[i];
  return nullptr;
}

bool Fields::has(std::string_view k) {
  Entry* e = find(k);
  return e && (e->used = true);
}

std::optional<element> Fields::peek(std::string_view k) const {
  if (const Entry* e = find(k)) return e->value;
  return std::nullopt;
}

element Fields::need(std::string_view k) {
  Entry* e = find(k);
  if (!e) fail(k, "missing");
  e->used = true;
  return e->value;
}

json Fields::raw(std::string_view k) { return to_nlohmann(need(k)); }

void Fields::fail(std::string_view field, const std::string& msg) const { throw TraceError(file_, line_, std::string(field), msg); }

std::uint64_t Fields::u64(std::string_view k) { return parse_u64(need(k), file_, line_, k); }

std::uint64_t Fields::u64_in(const json& v, const std::string& field) const { return parse_u64(v, file_, line_, field); }

std::uint64_t Fields::u64_in(element v, const std::string& field) const {
  return parse_u64(v, file_, line_, std::string_view(field));
}

std::optional<std::uint64_t> Fields::recorded_ret() const {
  auto x = peek("expect");
  element ret;
  if (!x || !x->is_object() || (*x)["ret"].get(ret) != simdjson::SUCCESS) return std::nullopt;
  return parse_u64(ret, file_, line_, "expect.ret");
}

std::string_view Fields::str_view(std::string_view k) {
  std::string_view s;
  if (need(k).get_string().get(s) != simdjson::SUCCESS) fail(k, "expected a string");
  return s;
}

std::string Fields::str(std::string_view k) { return std::string(str_view(k)); }

bool Fields::flag(std::string_view k) {
  if (!has(k)) return false;
  bool b = false;
  if (find(k)->value.get_bool().get(b) != simdjson::SUCCESS) fail(k, "expected true or false");
  return b;
}

std::uint64_t Fields::small(std::string_view k, std::uint64_t max) {
  auto n = natural(need(k));
  if (!n) fail(k, "expected a non-negative integer");
  if (*n > max) fail(k, "must be at most " + std::to_string(max));
  return *n;
}

vocab::Prot Fields::prot(std::string_view k) {
  auto p = vocab::Prot::parse(str(k));
  if (!p) fail(k, "expected three characters like \"rw-\"");
  return *p;
}

vocab::AccessKind Fields::access_kind(std::string_view k, const char* dflt) {
  auto a = vocab::parse_access_kind(has(k) ? str(k) : std::string(dflt));
  if (!a) fail(k, "expected \"read\", \"write\" or \"exec\"");
  return *a;
}

vocab::FileRef Fields::file(std::string_view k) {
  simdjson::dom::object j;
  if (need(k).get_object().get(j) != simdjson::SUCCESS) fail(k, "expected an object {\"id\", \"path\", \"writable\"}");
  std::string K(k);
  vocab::FileRef r;
  std::string_view s;
  element v;
  if (j["id"].get(v) != simdjson::SUCCESS || v.get_string().get(s) != simdjson::SUCCESS)
    fail(K + ".id", "missing or not a string");
  r.id = std::string(s);
  if (j["path"].get(v) == simdjson::SUCCESS) {
    if (v.get_string().get(s) != simdjson::SUCCESS) fail(K + ".path", "expected a string");
    r.path = std::string(s);
  }
  if (j["writable"].get(v) == simdjson::SUCCESS) {
    bool b = false;
    if (v.get_bool().get(b) != simdjson::SUCCESS) fail(K + ".writable", "expected true or false");
    r.fd_writable = b;
  }
  if (j["size"].get(v) == simdjson::SUCCESS) r.size = u64_in(v, K + ".size");
  // The first unknown key in byte order, as the nlohmann-based decoder (std::map) named it.
  std::optional<std::string_view> unknown;
  for (simdjson::dom::key_value_pair kv : j)
    if (kv.key != "id" && kv.key != "path" && kv.key != "writable" && kv.key != "size" && (!unknown || kv.key < *unknown))
      unknown = kv.key;
  if (unknown) fail(K + "." + std::string(*unknown), "unknown field");
  return r;
}

void Fields::done() const {
  // The first unread key in byte order (the order the nlohmann-based decoder's std::map
  // listed them in), so the error does not depend on the order of keys in the line.
  const Entry* first = nullptr;
  for (std::size_t i = 0; i < size_; ++i)
    if (!entries_[i].used && (!first || entries_[i].key < first->key)) first = &entries_[i];
  if (first) fail(std::string(first->key), "unknown field for this op");
}

}  // namespace vmref::trace
