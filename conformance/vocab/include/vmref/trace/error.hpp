// Errors for malformed traces: every message names file, line and field.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace vmref::trace {

/// Bad input. `line` is 1-based (0 = the file as a whole); `field` is a JSON key path
/// such as "expect.ret", or empty when the line itself is broken.
struct TraceError : std::runtime_error {
  TraceError(std::string file_, std::uint64_t line_, std::string field_, const std::string& msg)
      : std::runtime_error(file_ + ":" + std::to_string(line_) +
                           (field_.empty() ? "" : ": field '" + field_ + "'") + ": " + msg),
        file(std::move(file_)), line(line_), field(std::move(field_)) {}
  std::string file;
  std::uint64_t line;
  std::string field;
};

}  // namespace vmref::trace
