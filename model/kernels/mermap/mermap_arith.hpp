// The mermap allocator's unsigned arithmetic (spec/kernels/mermap.md §2 step 4, §10.3),
// written once over the word type (vmref/vocab/word.hpp): the model runs it on
// std::uint64_t, `vmref prove` on 64-bit Z3 bit-vectors (lemmas LEM-MERMAP-*).
// Every argument and result is in bytes.
#pragma once

#include "vmref/vocab/word.hpp"

namespace vmref::mermap::arith {

using namespace vmref::word;

/// PAGE_ALIGN(n): n rounded up to a multiple of `page` (a power of two). Wraps to 0 near
/// 2^64, as the kernel's macro does; callers bound n first (§2 step 1).
template <class W> W page_align(const W& n, const W& page) { return (n + page - lit(n, 1)) & ~(page - lit(n, 1)); }

/// The first byte of CPU `cpu`'s region: base + cpu * region.
template <class W> W cpu_base(const W& base, const W& cpu, const W& region) { return base + cpu * region; }

/// mermap_alloc's "out of already-available space?": next + size > cpu_end (unsigned;
/// the sum is not checked for wrap-around, as posted).
template <class W> auto bump_exhausted(const W& next, const W& size, const W& cpu_end) {
  return ugt(next + size, cpu_end);
}

/// The reset path's refusal: size > cpu_end - new_next, unsigned, as posted (R5: when
/// new_next > cpu_end the difference wraps and the test passes). `bound_fix` refuses
/// new_next > cpu_end first.
template <class W, class B> auto reset_refuses(const W& size, const W& cpu_end, const W& new_next, const B& bound_fix) {
  return (bound_fix && ugt(new_next, cpu_end)) || ugt(size, cpu_end - new_next);
}

}  // namespace vmref::mermap::arith
