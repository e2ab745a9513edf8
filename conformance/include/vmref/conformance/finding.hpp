// A finding: an invariant violation or an expectation mismatch at one event.
#pragma once

#include <cstdint>
#include <string>

namespace vmref::conformance {

struct Finding {
  std::string id;            ///< "INV-COW-1", or "EXPECT-RET", "EXPECT-VSL"... (spec/trace-format.md §5)
  std::uint64_t event = 0;   ///< 0-based index among events (the header is not an event)
  std::uint64_t line = 0;    ///< 1-based source line
  std::string op;            ///< the event's op
  std::string message;
  std::string diff;          ///< short state diff ("- expected" / "+ model" lines), may be empty
};

}  // namespace vmref::conformance
