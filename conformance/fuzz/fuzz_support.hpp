// Helpers shared by the fuzz targets of this folder (one target per parser, see
// CMakeLists.txt): the registries, input as a FILE*, and the way a target reports a
// broken property (an abort, which libFuzzer and the replay driver both catch).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "vmref/registered.hpp"

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

/// True when the input starts as zstd does for LineReader: a frame (28 b5 2f fd) or a
/// skippable frame (5? 2a 4d 18).
inline bool zstd_magic(const std::uint8_t* d, std::size_t n) {
  return n >= 4 && ((d[0] == 0x28 && d[1] == 0xb5 && d[2] == 0x2f && d[3] == 0xfd) ||
                    ((d[0] & 0xf0) == 0x50 && d[1] == 0x2a && d[2] == 0x4d && d[3] == 0x18));
}

/// A property of the parser does not hold: print why and abort (a crash for libFuzzer).
[[noreturn]] inline void broken(const std::string& what) {
  std::fprintf(stderr, "fuzz property broken: %s\n", what.c_str());
  std::abort();
}

}  // namespace vmref::fuzz
