// x86-64 address arithmetic written once over the word type (vmref/vocab/word.hpp): the
// format runs it on std::uint64_t, `vmref prove` on 64-bit Z3 bit-vectors (lemmas
// LEM-X86-*, spec/formats/x86_64.md §9). Addresses in bytes, bit positions 0..63.
#pragma once

#include "vmref/vocab/word.hpp"

namespace vmref::impl::x86_64::arith {

using namespace vmref::word;

/// The mask of bits lo..hi inclusive (0 when hi < lo).
constexpr u64 bits(unsigned lo, unsigned hi) {
  return hi < lo ? 0 : ((hi == 63 ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1));
}

/// `va` made canonical: bits above `top` (47 with 4 levels, 56 with LA57) copy bit `top`
/// (Intel SDM Vol 3A §4.5).
template <class W> W canonical(const W& va, unsigned top) {
  const W low = va & lit(va, bits(0, top));
  return ite((lshr(va, lit(va, top)) & lit(va, 1)) == lit(va, 1), low | lit(va, ~bits(0, top)), low);
}

/// The physical address a leaf of page size 2^`page_shift` maps: bits page_shift..
/// MAXPHYADDR-1 of the entry (SDM Vol 3A Tables 4-15 to 4-20).
template <class W> W leaf_address(const W& raw, unsigned page_shift, unsigned maxphyaddr) {
  return raw & lit(raw, bits(page_shift, maxphyaddr - 1));
}

}  // namespace vmref::impl::x86_64::arith
