// NVIDIA GMMU VER3 entry and VA arithmetic written once over the word type
// (vmref/vocab/word.hpp): the format runs it on std::uint64_t, `vmref prove --format
// nv_mmu_v3` on 64-bit Z3 bit-vectors (lemmas LEM-NV3-*, spec/formats/nv_mmu_v3.md
// "Lemmas"). Addresses in bytes. Field positions: [NV-MMU3] gh100 dev_mmu.h VER3 PTE,
// PDE and DUAL_PDE.
#pragma once

#include "vmref/vocab/word.hpp"

namespace vmref::impl::nv_mmu_v3::arith {

using namespace vmref::word;

inline constexpr unsigned kVaBits = 57;                        ///< v3 GPU VA width [NV-FMT gh10x]
inline constexpr u64 kAddrField = ((1ull << 40) - 1) << 12;    ///< PTE/PDE ADDRESS 51:12 (shift 12)
inline constexpr u64 kBigField = ((1ull << 44) - 1) << 8;      ///< DUAL_PDE ADDRESS_BIG 51:8 (shift 8)

/// The index VA bits [shift + bits - 1 : shift] select in a table.
template <class W> W va_index(const W& va, unsigned shift, unsigned bits) {
  return lshr(va, lit(va, shift)) & lit(va, (1ull << bits) - 1);
}

/// The byte address in ADDRESS 51:12 (a PTE, a PDE, the dual PDE's small half in its
/// upper word): PFN × 4096, which is the field in place.
template <class W> W address(const W& raw) { return raw & lit(raw, kAddrField); }

/// The byte address in the dual PDE's big half (ADDRESS_BIG 51:8, shift 8: the big page
/// table is 256-byte aligned) [NV-MMU3].
template <class W> W big_address(const W& raw) { return raw & lit(raw, kBigField); }

/// A word with `pa` (4 KiB aligned, below 2^52) in ADDRESS 51:12 and the bits of `low`
/// outside that field.
template <class W> W make_entry(const W& pa, const W& low) {
  return (pa & lit(pa, kAddrField)) | (low & lit(low, ~kAddrField));
}

/// A big-half word pointing at `pa` (256-byte aligned, below 2^52) with APERTURE_BIG and
/// PCF_BIG from `low` bits 5:0.
template <class W> W make_big(const W& pa, const W& low) { return (pa & lit(pa, kBigField)) | (low & lit(low, 0x3f)); }

/// The PFN bits below a leaf's page size (2^page_shift bytes): non-zero for a misaligned
/// large page (the spec's choice V3-C3 refuses it). 0 for 4 KiB.
template <class W> W misaligned_bits(const W& raw, unsigned page_shift) {
  return raw & lit(raw, ((1ull << (page_shift - 12)) - 1) << 12);
}

/// Big-page PTE states by PCF 7:3 [NV-MMU3]: V (VALID), S (VALID 0, PCF 1 SPARSE), U (VALID
/// 0, PCF 0 INVALID), the only one under which the small PTEs are read, and I for every
/// other invalid PCF (3 NO_VALID_4KB_PAGE; 2 and 4..31 by choice V3-C4).
template <class W> auto big_valid(const W& raw) { return (raw & lit(raw, 1)) != lit(raw, 0); }
template <class W> auto big_sparse(const W& raw) { return (raw & lit(raw, 0xf9)) == lit(raw, 0x08); }
template <class W> auto big_unmapped(const W& raw) { return (raw & lit(raw, 0xf9)) == lit(raw, 0); }
template <class W> auto big_invalid(const W& raw) {
  return (raw & lit(raw, 1)) == lit(raw, 0) && (raw & lit(raw, 0xf8)) != lit(raw, 0) && (raw & lit(raw, 0xf8)) != lit(raw, 0x08);
}

}  // namespace vmref::impl::nv_mmu_v3::arith
