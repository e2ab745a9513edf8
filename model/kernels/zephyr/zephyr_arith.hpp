// Zephyr's virtual-region arithmetic (spec/kernels/zephyr.md §11), written once over the
// word type (vmref/vocab/word.hpp): the model runs it on std::uint64_t, `vmref prove` on
// 64-bit Z3 bit-vectors (lemmas LEM-ZEPHYR-A*). Bit b of the region bitmap stands for the
// page vm_end - (b + 1) pages (bit 0 is the highest page, as in kernel/mm.c). Addresses
// in bytes; `first` and `pages` in pages; `shift` is log2 of the page size.
#pragma once

#include "vmref/vocab/word.hpp"

namespace vmref::zephyr::arith {

using namespace vmref::word;

/// The lowest address of the run of `pages` bits starting at bit `first` (virt_region_alloc).
template <class W> W region_addr(const W& vm_end, const W& first, const W& pages, unsigned shift) {
  return vm_end - shl(first + pages, lit(first, shift));
}

/// The first bit of the run of `pages` bits whose lowest address is `start` (virt_region_free).
template <class W> W region_first(const W& vm_end, const W& start, const W& pages, unsigned shift) {
  return lshr(vm_end - start, lit(start, shift)) - pages;
}

/// The bitmap bit of the page at `va` (what INV-ZEPHYR-8 reads).
template <class W> W bit_of(const W& vm_start, const W& vm_pages, const W& va, unsigned shift) {
  return vm_pages - lit(va, 1) - lshr(va - vm_start, lit(va, shift));
}

/// k_mem_map's overflow test of the size with its two guard pages (bytes).
template <class W> auto guard_overflows(const W& len, const W& guard) { return ult(len + lit(len, 2) * guard, len); }

}  // namespace vmref::zephyr::arith
