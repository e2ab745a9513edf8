// The hex form of 64-bit values in traces and reports (spec/trace-format.md §1). Its own
// header so that code printing addresses does not pull in the trace decoder's JSON parsers.
#pragma once

#include <cstdint>
#include <string>

namespace vmref::trace {

/// "0x1234": lower-case digits, no leading zeros ("0x0" for zero).
std::string hex(std::uint64_t v);

}  // namespace vmref::trace
