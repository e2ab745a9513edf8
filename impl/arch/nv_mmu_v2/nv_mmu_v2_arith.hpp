// NVIDIA GMMU VER2 entry and VA arithmetic written once over the word type
// (vmref/vocab/word.hpp): the format runs it on std::uint64_t, `vmref prove --format
// nv_mmu_v2` on 64-bit Z3 bit-vectors (lemmas LEM-NV2-*, spec/formats/nv_mmu_v2.md
// "Lemmas"). Addresses in bytes. Field positions: [NV-MMU2] tu102 dev_mmu.h VER2 PTE,
// PDE and DUAL_PDE; [NV-PASCAL] for their meaning.
#pragma once

#include "vmref/vocab/word.hpp"

namespace vmref::impl::nv_mmu_v2::arith {

using namespace vmref::word;

inline constexpr unsigned kVaBits = 49;                          ///< v2 GPU VA width [NV-PASCAL]
inline constexpr u64 kVidField = ((1ull << 25) - 1) << 8;        ///< ADDRESS_VID 32:8 (PFN, shift 12)
inline constexpr u64 kSysField = ((1ull << 46) - 1) << 8;        ///< ADDRESS_SYS 53:8 (PFN, shift 12)
inline constexpr u64 kBigVidField = ((1ull << 29) - 1) << 4;     ///< ADDRESS_BIG_VID 32:4 (shift 8)
inline constexpr u64 kLowBits = 0xff;                            ///< VALID..ATOMIC_DISABLE (7:0)
inline constexpr u64 kHarnessField = 0x3full << 36;              ///< bits 41:36, see the spec's choice V2-C1

/// The index VA bits [shift + bits - 1 : shift] select in a table.
template <class W> W va_index(const W& va, unsigned shift, unsigned bits) {
  return lshr(va, lit(va, shift)) & lit(va, (1ull << bits) - 1);
}

/// The byte address in a 12-shift vidmem address field (PTE ADDRESS_VID, PDE ADDRESS_VID,
/// the dual PDE's ADDRESS_SMALL_VID in its upper word): PFN 32:8 × 4096.
template <class W> W vid_address(const W& raw) { return shl(lshr(raw & lit(raw, kVidField), lit(raw, 8)), lit(raw, 12)); }

/// The byte address in a sysmem field (ADDRESS_SYS 53:8, shift 12).
template <class W> W sys_address(const W& raw) { return shl(lshr(raw & lit(raw, kSysField), lit(raw, 8)), lit(raw, 12)); }

/// The byte address in the dual PDE's big half (ADDRESS_BIG_VID 32:4, shift 8: the big
/// page table is 256-byte aligned) [NV-MMU2].
template <class W> W big_address(const W& raw) { return shl(lshr(raw & lit(raw, kBigVidField), lit(raw, 4)), lit(raw, 8)); }

/// A word with `pa` (4 KiB aligned, below 2^37) in the 12-shift vidmem field and the bits
/// of `low` outside that field (its 7:0 and 63:33).
template <class W> W make_vid(const W& pa, const W& low) {
  return (shl(lshr(pa, lit(pa, 12)), lit(pa, 8)) & lit(pa, kVidField)) | (low & lit(low, ~kVidField));
}

/// A big-half word pointing at `pa` (256-byte aligned, below 2^37) with `low` bits 3:0.
template <class W> W make_big(const W& pa, const W& low) {
  return (shl(lshr(pa, lit(pa, 8)), lit(pa, 4)) & lit(pa, kBigVidField)) | (low & lit(low, 0xf));
}

/// The vidmem PFN bits below a leaf's page size (2^page_shift bytes): non-zero for a
/// misaligned large page (the spec's choice V2-C3 refuses it). 0 for 4 KiB.
template <class W> W misaligned_bits(const W& raw, unsigned page_shift) {
  return raw & lit(raw, ((1ull << (page_shift - 12)) - 1) << 8);
}

/// Big-page PTE states [NV-PASCAL]: V (VALID), I (VALID 0, PRIVILEGE), S (VALID 0, VOL, no
/// PRIVILEGE), and U, the only one under which the small PTEs are read (VALID, VOL and
/// PRIVILEGE all 0). Each is a predicate on the word (bool, or a Z3 boolean).
template <class W> auto big_valid(const W& raw) { return (raw & lit(raw, 1)) != lit(raw, 0); }
template <class W> auto big_invalid(const W& raw) { return (raw & lit(raw, 0x21)) == lit(raw, 0x20); }
template <class W> auto big_sparse(const W& raw) { return (raw & lit(raw, 0x29)) == lit(raw, 0x08); }
template <class W> auto big_unmapped(const W& raw) { return (raw & lit(raw, 0x29)) == lit(raw, 0); }

}  // namespace vmref::impl::nv_mmu_v2::arith
