// Strict reading of one JSON object of a trace line (spec/trace-format.md §1): every
// field is typed, 64-bit values are hex strings, and a key nobody read is an error.
// Operation decoders of every kernel use this, so every error names file, line, field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vmref/trace/error.hpp"
#include "vmref/vocab/types.hpp"
#include "vmref/vocab/vseg_attrs.hpp"

namespace vmref::trace {

/// "0x1234": the form every 64-bit value takes in traces and reports.
std::string hex(std::uint64_t v);

/// Parses "0x..." (or a non-negative JSON integer) as uint64; throws TraceError.
std::uint64_t parse_u64(const nlohmann::json& v, const std::string& file, std::uint64_t line,
                        const std::string& field);

/// Field reader that remembers which keys were used, so leftovers can be reported.
class Fields {
 public:
  /// Throws TraceError when `j` is not an object.
  Fields(const nlohmann::json& j, const std::string& file, std::uint64_t line);
  /// Whether key `k` is present (and marks it read).
  bool has(const char* k);
  /// The value of `k` without marking it read (another reader owns it), or nullptr.
  const nlohmann::json* peek(const char* k) const { return j_.contains(k) ? &j_.at(k) : nullptr; }
  /// `expect.ret` of this line when it has one: what the recorded kernel returned
  /// (spec/trace-format.md §3.2). Throws naming "expect.ret" when malformed.
  std::optional<std::uint64_t> recorded_ret() const;
  /// The raw value of `k` (marks it read); `k` must be present.
  const nlohmann::json& raw(const char* k);
  [[noreturn]] void fail(const std::string& field, const std::string& msg) const;
  std::uint64_t u64(const char* k);
  std::uint64_t u64_or(const char* k, std::uint64_t d) { return has(k) ? u64(k) : d; }
  /// A u64 nested below this line's fields, named `field` in errors.
  std::uint64_t u64_in(const nlohmann::json& v, const std::string& field) const;
  std::string str(const char* k);
  std::string str_or(const char* k, const std::string& d) { return has(k) ? str(k) : d; }
  /// A boolean; false when absent.
  bool flag(const char* k);
  /// A JSON integer in [0, max].
  std::uint64_t small(const char* k, std::uint64_t max);
  /// A CPU number (0..4095).
  int cpu(const char* k = "cpu") { return static_cast<int>(small(k, 4095)); }
  vocab::Prot prot(const char* k);
  vocab::AccessKind access_kind(const char* k, const char* dflt);
  vocab::FileRef file(const char* k);
  /// Throws naming the first key nobody read ("unknown field for this op").
  void done() const;
  const std::string& file_name() const { return file_; }
  std::uint64_t line() const { return line_; }

 private:
  const nlohmann::json& j_;
  const std::string& file_;
  std::uint64_t line_;
  std::vector<std::string_view> used_;  // keys read so far (literals: no allocation)
};

}  // namespace vmref::trace
