// The almos-mkh MMAP allocator's arithmetic (spec/kernels/almos-mkh.md §11), written once
// over the word type (vmref/vocab/word.hpp): the model runs it on std::uint64_t, `vmref
// prove` on 64-bit Z3 bit-vectors (lemmas LEM-ALMOS-A*). Sizes in pages.
#pragma once

#include "vmref/vocab/word.hpp"

namespace vmref::almos::arith {

using namespace vmref::word;

/// The zombie class of a request of `pages` (>= 1): the order k of the smallest power of
/// two 2^k >= pages, i.e. bit_width(pages - 1), counted bit by bit so that it has one
/// form for both word types.
template <class W> W mmap_order(const W& pages) {
  const W x = pages - lit(pages, 1);
  W order = lit(pages, 0);
  for (unsigned i = 0; i < 64; ++i) order = order + ite(lshr(x, lit(x, i)) != lit(x, 0), lit(x, 1), lit(x, 0));
  return order;
}

/// Whether a fresh block of 2^order pages at the bump pointer passes the MMAP zone's end.
template <class W> auto mmap_exhausted(const W& first_free, const W& order, const W& zone_end) {
  return ugt(first_free + shl(lit(order, 1), order), zone_end);
}

}  // namespace vmref::almos::arith
