// RISC-V PTE and VA arithmetic written once over the word type (vmref/vocab/word.hpp): the
// format runs it on std::uint64_t, `vmref prove --format riscv` on 64-bit Z3 bit-vectors
// (lemmas LEM-RV-*, spec/formats/riscv.md "Lemmas"). Addresses in bytes; `sv` is 39, 48
// or 57; `page_shift` is 12 + 9 × (levels below the leaf).
#pragma once

#include "vmref/vocab/word.hpp"

namespace vmref::impl::riscv::arith {

using namespace vmref::word;

inline constexpr unsigned kPpnShift = 10;                     ///< PPN: PTE bits 53:10
inline constexpr u64 kPpnField = ((1ull << 44) - 1) << 10;    ///< the PPN field in place
inline constexpr u64 kAttrBits = (1ull << 10) - 1;            ///< V R W X U G A D, RSW (9:0)

/// `va` made canonical for Sv`sv`: bits 63..sv copy bit sv-1 (Priv ISA §4.4-§4.6).
template <class W> W canonical(const W& va, unsigned sv) {
  const W low = va & lit(va, (1ull << sv) - 1);
  return ite((lshr(va, lit(va, sv - 1)) & lit(va, 1)) == lit(va, 1), low | lit(va, ~((1ull << sv) - 1)), low);
}

/// The PA a PTE points to: PPN × 4096 (§4.3.2 steps 4 and 8).
template <class W> W pte_address(const W& raw) { return shl(lshr(raw & lit(raw, kPpnField), lit(raw, kPpnShift)), lit(raw, 12)); }

/// The PPN bits below a leaf's page size (2^page_shift bytes): non-zero makes a
/// misaligned superpage, which faults (§4.3.2 step 6). 0 for a 4 KiB leaf.
template <class W> W misaligned_bits(const W& raw, unsigned page_shift) {
  return raw & lit(raw, ((1ull << (page_shift - 12)) - 1) << kPpnShift);
}

/// A PTE pointing at `pa` (4 KiB aligned, below 2^56) with bits 9:0 from `attrs`.
template <class W> W make_pte(const W& pa, const W& attrs) {
  return shl(lshr(pa, lit(pa, 12)), lit(pa, kPpnShift)) | (attrs & lit(attrs, kAttrBits));
}

}  // namespace vmref::impl::riscv::arith
