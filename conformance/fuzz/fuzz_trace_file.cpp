// Fuzz target: a whole trace file (spec/trace-format.md), plain or zstd, read by
// trace::TraceReader from memory: the header on the first non-empty line, then every
// event line. Bad input must give trace::TraceError (naming a line within the file);
// anything else escaping, a crash, a leak or unbounded memory is a bug.
#include <algorithm>
#include <string>

#include "fuzz_support.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/trace_reader.hpp"

using namespace vmref;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::init();
  try {
    trace::TraceReader in(fuzz::open_input(data, size), "fuzz");
    vocab::Event e;
    std::uint64_t last = in.line();
    while (in.next(e)) {
      if (in.line() <= last) fuzz::broken("line numbers do not increase: " + std::to_string(in.line()));
      last = in.line();
    }
  } catch (const trace::TraceError& e) {
    // An error names a line of the file (or 0, the file): in plain input, at most one
    // more than its newlines. zstd input expands, so only plain input is checked.
    if (!fuzz::zstd_magic(data, size) && e.line > static_cast<std::uint64_t>(std::count(data, data + size, '\n')) + 1)
      fuzz::broken(std::string("error names a line beyond the input: ") + e.what());
  }
  return 0;
}
