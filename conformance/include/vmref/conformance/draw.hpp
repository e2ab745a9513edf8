// Seeded draws that are the same on every toolchain: std::mt19937_64's output sequence is
// fixed by the C++ standard, std::uniform_int_distribution's algorithm is not (libstdc++
// and libc++ differ), so a `--seed` would give other runs elsewhere.
#pragma once

#include <cstdint>
#include <random>

namespace vmref::conformance {

/// A draw in [0, n) (n >= 1) by Lemire's multiply-shift of one 64-bit output: the high
/// 64 bits of output × n. Its bias is below n / 2^64, far under anything a campaign sees.
inline std::uint64_t draw(std::mt19937_64& rng, std::uint64_t n) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

}  // namespace vmref::conformance
