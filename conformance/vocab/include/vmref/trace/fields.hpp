// Strict reading of one JSON object of a trace line (spec/trace-format.md §1): every
// field is typed, 64-bit values are hex strings, and a key nobody read is an error.
// Operation decoders of every kernel use this, so every error names file, line, field.
//
// The object is a simdjson DOM element (trace/codec.hpp's LineDecoder parses each line
// with one reused dom::parser). DOM rather than On-Demand: decoders ask for keys in any
// order, test presence (has) before reading, and look at `expect` from inside an
// operation's decoder (recorded_ret); On-Demand is forward-only and would have to
// re-scan the line for each out-of-order key, and could not list the keys nobody read
// without a second pass anyway. The top-level keys are collected once into a small
// table, so each lookup is a short linear search and done() a scan of flags.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "vmref/trace/error.hpp"
#include "vmref/trace/hex.hpp"
#include "vmref/vocab/types.hpp"
#include "vmref/vocab/vseg_attrs.hpp"

namespace vmref::trace {

/// Parses "0x..." (or a non-negative JSON integer) as uint64; throws TraceError.
std::uint64_t parse_u64(const nlohmann::json& v, const std::string& file, std::uint64_t line,
                        const std::string& field);
/// The same for a simdjson value. `field` is copied only into an error.
std::uint64_t parse_u64(simdjson::dom::element v, const std::string& file, std::uint64_t line, std::string_view field);

/// A simdjson value as nlohmann::json (numbers typed as nlohmann's parser types them:
/// non-negative integers unsigned): for the cold paths that keep a value (expect,
/// provenance) or print one in an error message.
nlohmann::json to_nlohmann(simdjson::dom::element v);

/// One element of an array field (Fields::each).
class JsonValue {
 public:
  explicit JsonValue(simdjson::dom::element v) : v_(v) {}
  bool is_string() const { return v_.is_string(); }
  /// The string's text; call only when is_string().
  std::string_view str() const { return std::string_view(v_.get_string().value_unsafe()); }
  /// The value as JSON text, as error messages quote it.
  std::string dump() const { return to_nlohmann(v_).dump(); }

 private:
  simdjson::dom::element v_;
};

/// Field reader that remembers which keys were used, so leftovers can be reported.
class Fields {
 public:
  /// Throws TraceError when `j` is not an object. `j` (the parser's document) must
  /// outlive this reader. Keys are taken as string_view: a literal's length is known
  /// where it is written.
  Fields(simdjson::dom::element j, const std::string& file, std::uint64_t line);
  Fields(const Fields&) = delete;
  Fields& operator=(const Fields&) = delete;
  /// Whether key `k` is present (and marks it read).
  bool has(std::string_view k);
  /// The value of `k` without marking it read (another reader owns it).
  std::optional<simdjson::dom::element> peek(std::string_view k) const;
  /// `expect.ret` of this line when it has one: what the recorded kernel returned
  /// (spec/trace-format.md §3.2). Throws naming "expect.ret" when malformed.
  std::optional<std::uint64_t> recorded_ret() const;
  /// The value of `k` as nlohmann::json (marks it read); `k` must be present. A copy:
  /// for cold paths (provenance, expect).
  nlohmann::json raw(std::string_view k);
  /// Calls `each(JsonValue)` for every element of the array `k` (marks it read); fails
  /// naming `k` with `not_array` when it is missing or not an array.
  template <class F>
  void each(std::string_view k, const std::string& not_array, F&& each);
  [[noreturn]] void fail(std::string_view field, const std::string& msg) const;
  std::uint64_t u64(std::string_view k);
  std::uint64_t u64_or(std::string_view k, std::uint64_t d) { return has(k) ? u64(k) : d; }
  /// A u64 nested below this line's fields, named `field` in errors.
  std::uint64_t u64_in(const nlohmann::json& v, const std::string& field) const;
  std::uint64_t u64_in(simdjson::dom::element v, const std::string& field) const;
  std::string str(std::string_view k);
  /// The string `k` as a view into the parsed line (valid while the line's document is):
  /// for hot paths that only compare it.
  std::string_view str_view(std::string_view k);
  std::string str_or(std::string_view k, const std::string& d) { return has(k) ? str(k) : d; }
  /// A boolean; false when absent.
  bool flag(std::string_view k);
  /// A JSON integer in [0, max].
  std::uint64_t small(std::string_view k, std::uint64_t max);
  /// A CPU number (0..4095).
  int cpu(std::string_view k = "cpu") { return static_cast<int>(small(k, 4095)); }
  vocab::Prot prot(std::string_view k);
  vocab::AccessKind access_kind(std::string_view k, const char* dflt);
  vocab::FileRef file(std::string_view k);
  /// Throws naming the first key nobody read, in byte order of the keys ("unknown field
  /// for this op").
  void done() const;
  /// Whether some object of the line repeats a key (simdjson keeps both; the caller
  /// hands such a line to parse_json, which names it).
  bool repeats_key() const { return repeats_key_; }
  const std::string& file_name() const { return file_; }
  std::uint64_t line() const { return line_; }

 private:
  struct Entry {
    std::string_view key;
    simdjson::dom::element value;
    bool used = false;
  };
  static constexpr std::size_t kInline = 16;  // trace lines have about a dozen keys at most
  Entry* find(std::string_view k) const;
  /// The value of `k`, marked read; fails "missing" when absent.
  simdjson::dom::element need(std::string_view k);

  const std::string& file_;
  std::uint64_t line_;
  std::array<Entry, kInline> inline_;
  std::unique_ptr<Entry[]> more_;  // objects with more keys than kInline
  Entry* entries_ = nullptr;
  std::size_t size_ = 0;
  bool repeats_key_ = false;
};

/// Whether any object in `v` repeats a key.
bool repeats_key(simdjson::dom::element v);

template <class F>
void Fields::each(std::string_view k, const std::string& not_array, F&& each) {
  simdjson::dom::array a;
  if (need(k).get_array().get(a) != simdjson::SUCCESS) fail(k, not_array);
  for (simdjson::dom::element x : a) each(JsonValue(x));
}

}  // namespace vmref::trace
