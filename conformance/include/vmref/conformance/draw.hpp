// Seeded draws that are the same on every toolchain: std::mt19937_64's output sequence is
// fixed by the C++ standard, std::uniform_int_distribution's algorithm is not (libstdc++
// and libc++ differ), so a `--seed` would give other runs elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>

namespace vmref::conformance {

/// A draw in [0, n) (n >= 1) by Lemire's multiply-shift of one 64-bit output: the high
/// 64 bits of output × n. Its bias is below n / 2^64, far under anything a campaign sees.
inline std::uint64_t draw(std::mt19937_64& rng, std::uint64_t n) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

/// Where a generator's draws come from: a seeded std::mt19937_64 (campaigns, `gen`,
/// `bench`: a `--seed` gives the same events everywhere), or the bytes of a libFuzzer
/// input (conformance/fuzz/fuzz_differential.cpp), so that the fuzzer's mutations steer
/// each choice. Copies of a byte stream share its position (the fuzz target keeps one to
/// see when the input is used up).
class Random {
 public:
  /// The seeded stream (implicit: a generator made from a seed keeps its old draws).
  Random(std::uint64_t seed = 5489u) : mt_(seed) {}
  /// Draws read from [data, data + size), which must outlive every copy: each takes as
  /// few bytes as its range needs (1 up to 256 values, 2 up to 65,536, 4 up to 2^32,
  /// else 8, little-endian) modulo the range; past the end every draw is 0.
  static Random from_bytes(const std::uint8_t* data, std::size_t size) {
    Random r;
    r.bytes_ = std::make_shared<Cursor>(Cursor{data, size, 0});
    return r;
  }
  /// A draw in [0, n), n >= 1.
  std::uint64_t draw(std::uint64_t n) {
    if (!bytes_) return conformance::draw(mt_, n);
    const unsigned width = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : n <= 0x100000000ull ? 4 : 8;
    std::uint64_t v = 0;
    for (unsigned i = 0; i < width; ++i, ++bytes_->pos)
      if (bytes_->pos < bytes_->size) v |= std::uint64_t{bytes_->data[bytes_->pos]} << (8 * i);
    return v % n;
  }
  /// Whether a byte stream is used up (a seeded one never is).
  bool exhausted() const { return bytes_ && bytes_->pos >= bytes_->size; }

 private:
  struct Cursor {
    const std::uint8_t* data;
    std::size_t size, pos;
  };
  std::mt19937_64 mt_;
  std::shared_ptr<Cursor> bytes_;
};

inline std::uint64_t draw(Random& r, std::uint64_t n) { return r.draw(n); }

}  // namespace vmref::conformance
