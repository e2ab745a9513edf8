// Reading user-supplied JSON safely (spec/trace-format.md §1): bounded nesting, no
// duplicate keys, no numbers out of range. Every value that reaches the rest of the tool
// has been through here, so nothing downstream recurses deeper than kMaxJsonDepth.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vmref::trace {

/// Deepest nesting of objects and arrays a trace line or a result file may use.
inline constexpr int kMaxJsonDepth = 64;

/// Parses one JSON text (a trace line). Throws TraceError(file, line, field) when it is
/// malformed, nests deeper than kMaxJsonDepth, repeats a key within one object (field =
/// that key), or holds a number out of range (1e400).
nlohmann::json parse_json(std::string_view text, const std::string& file, std::uint64_t line);
/// The same for a whole stream (a result file); errors name line 0 (the file).
nlohmann::json parse_json(std::istream& in, const std::string& file);

}  // namespace vmref::trace
