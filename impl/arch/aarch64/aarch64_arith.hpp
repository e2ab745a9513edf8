// AArch64 VMSAv8-64 stage-1 descriptor and VA arithmetic written once over the word type
// (vmref/vocab/word.hpp): the format runs it on std::uint64_t, `vmref prove --format
// aarch64` on 64-bit Z3 bit-vectors (lemmas LEM-A64-*, spec/formats/aarch64.md "Lemmas").
// Addresses in bytes. `page_shift` is the granule's (12, 14 or 16); `block_shift` the
// log2 of the size one descriptor at its level maps. Sources: Arm ARM (DDI 0487)
// D8.3 "Translation table descriptor formats" and D8.4 "Memory access control", read
// through Linux arch/arm64/include/asm/pgtable-hwdef.h and QEMU target/arm/ptw.c
// (../shared/references/page-table-formats.md §2).
#pragma once

#include "vmref/vocab/word.hpp"

namespace vmref::impl::aarch64::arith {

using namespace vmref::word;

inline constexpr unsigned kPaBits = 48;  ///< output addresses below 2^48 (no FEAT_LPA/LPA2)
/// The output-address field of a descriptor: bits 47:page_shift (D8.3, "OA").
constexpr u64 oa_field(unsigned page_shift) { return ((1ull << kPaBits) - 1) & ~((1ull << page_shift) - 1); }

// Stage-1 permission bits (D8.4.1, D8.4.2) and their hierarchical table forms (D8.4.1.1).
inline constexpr u64 kApUser = 1ull << 6, kApRdonly = 1ull << 7, kDbm = 1ull << 51;
inline constexpr u64 kPxn = 1ull << 53, kUxn = 1ull << 54;
inline constexpr u64 kPxnTable = 1ull << 59, kUxnTable = 1ull << 60, kApTable0 = 1ull << 61, kApTable1 = 1ull << 62;
inline constexpr u64 kHierBits = kPxnTable | kUxnTable | kApTable0 | kApTable1;

/// Effective-permission word bits, as perm() returns them.
inline constexpr u64 kPermW = 1, kPermU = 2, kPermX = 4;

/// The PA a descriptor points to (next table, block or page): bits 47:page_shift.
template <class W> W desc_address(const W& raw, unsigned page_shift) { return raw & lit(raw, oa_field(page_shift)); }

/// A descriptor for `pa` (aligned to its block, below 2^48) with every bit outside the
/// OA field taken from `attrs` (type bits 1:0, lower and upper attributes).
template <class W> W make_desc(const W& pa, const W& attrs, unsigned page_shift) {
  return (pa & lit(pa, oa_field(page_shift))) | (attrs & lit(attrs, ~oa_field(page_shift)));
}

/// The OA bits below a block's size (RES0, D8.3.1): non-zero for a misaligned block.
template <class W> W misaligned_bits(const W& raw, unsigned page_shift, unsigned block_shift) {
  return raw & lit(raw, oa_field(page_shift) & ((1ull << block_shift) - 1));
}

/// The table index of `va` at a level that resolves `bits` VA bits from `shift` up.
template <class W> W va_index(const W& va, unsigned shift, unsigned bits) {
  return lshr(va, lit(va, shift)) & lit(va, (1ull << bits) - 1);
}

/// The canonical VA of a tree of `width` bits holding TTBR0's region (bits 63..width-1
/// all 0) and TTBR1's (all 1): bits 63..width copy bit width-1 (D8.1.3 "VA ranges").
template <class W> W canonical(const W& va, unsigned width) {
  const W low = va & lit(va, (1ull << width) - 1);
  return ite((lshr(va, lit(va, width - 1)) & lit(va, 1)) == lit(va, 1), low | lit(va, ~((1ull << width) - 1)), low);
}

/// The hierarchical restrictions of the tables walked so far, `acc`, after one more
/// table descriptor: they accumulate (D8.4.1.1: a table's APTable/XNTable bits apply to
/// every later level of the walk; none can grant what a higher one removed).
template <class W> W restrict_by_table(const W& acc, const W& table) { return acc | (table & lit(table, kHierBits)); }

/// Effective rights of leaf `leaf` under accumulated table restrictions `acc`, as kPerm*
/// bits: W when AP[2] = 0, or DBM = 1 with hardware dirty management (TCR.HD = 1, D8.4.6),
/// and no APTable[1] above; U (EL0 access) when AP[1] = 1 and no APTable[0] above; X
/// the execute right at the page's own privilege: UXN/UXNTable for an EL0 page, PXN/
/// PXNTable for an EL1-only one (D8.4.2, D8.4.1.1).
template <class W> W perm(const W& acc, const W& leaf) {
  const W zero = lit(leaf, 0);
  const W w = ite((leaf & lit(leaf, kApRdonly)) == zero || (leaf & lit(leaf, kDbm)) != zero, lit(leaf, kPermW), zero) &
              ite((acc & lit(acc, kApTable1)) == zero, lit(leaf, kPermW), zero);
  const W u = ite((leaf & lit(leaf, kApUser)) != zero && (acc & lit(acc, kApTable0)) == zero, lit(leaf, kPermU), zero);
  const W xu = ite((leaf & lit(leaf, kUxn)) == zero && (acc & lit(acc, kUxnTable)) == zero, lit(leaf, kPermX), zero);
  const W xp = ite((leaf & lit(leaf, kPxn)) == zero && (acc & lit(acc, kPxnTable)) == zero, lit(leaf, kPermX), zero);
  return w | u | ite(u != zero, xu, xp);
}

}  // namespace vmref::impl::aarch64::arith
