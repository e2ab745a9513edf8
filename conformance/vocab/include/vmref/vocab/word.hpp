// Unsigned machine-word arithmetic written once for two word types (spec/prove.md §4):
// `std::uint64_t`, what the model and the implementations run, and `z3::expr` (64-bit
// bit-vectors), what `vmref prove` checks. A function templated over the word type calls
// these names unqualified; for z3::expr, argument-dependent lookup finds Z3's own
// functions of the same names (z3::ult, z3::ite, z3::shl, ...), so the proof is about
// the code that runs. Comparisons are unsigned, as in C on `unsigned long`; + - wrap
// modulo 2^64.
#pragma once

#include <cstdint>

namespace vmref::word {

using u64 = std::uint64_t;

constexpr bool ult(u64 a, u64 b) { return a < b; }
constexpr bool ule(u64 a, u64 b) { return a <= b; }
constexpr bool ugt(u64 a, u64 b) { return a > b; }
constexpr bool uge(u64 a, u64 b) { return a >= b; }
/// `c ? a : b` (z3::ite for bit-vectors).
constexpr u64 ite(bool c, u64 a, u64 b) { return c ? a : b; }
/// Shifts by a word amount; 64 or more gives 0, as Z3 (and unlike C, where it is UB).
constexpr u64 shl(u64 a, u64 n) { return n >= 64 ? 0 : a << n; }
constexpr u64 lshr(u64 a, u64 n) { return n >= 64 ? 0 : a >> n; }
/// A constant of the word type of `like` (for z3::expr: a 64-bit numeral of its context).
constexpr u64 lit(u64 /*like*/, u64 v) { return v; }
/// Bit `n` of `a` as a truth value.
constexpr bool bit(u64 a, unsigned n) { return (a >> n) & 1; }

}  // namespace vmref::word
