// Helpers shared by the fuzz targets of this folder (one target per parser, see
// CMakeLists.txt): the registries, input as a FILE*, and the way a target reports a
// broken property (an abort, which libFuzzer and the replay driver both catch).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "vmref/registered.hpp"
#include "vmref/trace/line_io.hpp"

namespace vmref::fuzz {

/// Fills every registry once (kernels, operations, formats...), as the CLI does first.
inline void init() {
  static const bool done = (vmref::register_all(), true);
  (void)done;
}

/// The fuzz input as a read-only stream (the readers take it over and close it). The
/// bytes must outlive the stream.
inline std::FILE* open_input(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return std::fopen("/dev/null", "rb");  // fmemopen refuses a zero size
  return fmemopen(const_cast<std::uint8_t*>(data), size, "rb");
}

/// True when the input starts as zstd does for LineReader.
inline bool zstd_magic(const std::uint8_t* d, std::size_t n) { return trace::zstd_start(d, n); }

/// A property of the parser does not hold: print why and abort (a crash for libFuzzer).
[[noreturn]] inline void broken(const std::string& what) {
  std::fprintf(stderr, "fuzz property broken: %s\n", what.c_str());
  std::abort();
}

/// The round-trip property of a reader/writer pair: `encode(value)` must read back with
/// `decode` and encode to the same text again.
template <class T, class Encode, class Decode>
void check_round_trip(const std::string& what, const T& value, Encode encode, Decode decode) {
  std::string once = encode(value);
  T again;
  try {
    again = decode(once);
  } catch (const std::exception& e) {
    broken("a written " + what + " does not read back: " + once + ": " + e.what());
  }
  std::string twice = encode(again);
  if (twice != once) broken("writing the " + what + " again changed it:\n  " + once + "\n  " + twice);
}

}  // namespace vmref::fuzz
