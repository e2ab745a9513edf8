// AArch64 VMSAv8-64 stage-1 translation tables for the EL1&0 regime: 4 KiB, 16 KiB and
// 64 KiB granules, table, block and page descriptors with AP[2:1], UXN/PXN, AF, nG, SH,
// AttrIndx, the Contiguous bit and DBM, and the hierarchical APTable/UXNTable/PXNTable
// (Arm ARM DDI 0487, D8.2 "Translation tables and the translation process", D8.3
// "Translation table descriptor formats", D8.4 "Memory access control"; read through
// Linux arch/arm64/include/asm/pgtable-hwdef.h and QEMU target/arm/ptw.c, see
// ../shared/references/page-table-formats.md §2). spec/formats/aarch64.md is the prose;
// this is the codec and the architectural decoder.
#pragma once

#include <cstdint>
#include <string>

#include "vmref/impl/mutant.hpp"
#include "vmref/impl/radix_format.hpp"
#include "aarch64_arith.hpp"

namespace vmref::impl::aarch64 {

// Descriptor bits (D8.3.1, D8.3.2); the permission bits are in aarch64_arith.hpp.
inline constexpr std::uint64_t kValid = 1ull << 0;          ///< bit 0: 0 = invalid (fault)
inline constexpr std::uint64_t kTypeTable = 1ull << 1;      ///< bits 1:0 = 0b11: table (or page at the last level)
inline constexpr unsigned kAttrIndxShift = 2;               ///< AttrIndx, bits 4:2: MAIR_EL1 index
inline constexpr std::uint64_t kShInner = 3ull << 8;        ///< SH, bits 9:8 = 0b11: Inner Shareable
inline constexpr std::uint64_t kAf = 1ull << 10;            ///< access flag
inline constexpr std::uint64_t kNg = 1ull << 11;            ///< not global: tagged with the ASID
inline constexpr std::uint64_t kContiguous = 1ull << 52;    ///< Contiguous hint
inline constexpr std::uint64_t kSwDirty = 1ull << 55;       ///< software dirty of a read-only page (Linux PTE_DIRTY)
inline constexpr unsigned kSoftShift = 56;                  ///< LeafAttrs::soft bits 1:0 in bits 57:56
inline constexpr std::uint64_t kOaHighRes0 = 3ull << 48;    ///< bits 49:48: RES0 without FEAT_LPA2

/// Format parameters.
struct Config {
  unsigned granule_kib = 4;  ///< translation granule: 4, 16 or 64 (TCR_EL1.TG0/TG1)
  /// Width of the tree the engine builds, sign-extended as TTBR0/TTBR1 split it: TTBR0
  /// translates VAs whose bits 63..va_bits-1 are 0, TTBR1 those where they are 1, each a
  /// region of va_bits-1 bits (T0SZ = T1SZ = 65 - va_bits). Both regions' level-0 tables
  /// share one table page, TTBR0's in its lower half (see spec "Geometry").
  unsigned va_bits = 48;
  /// Whether the implementation builds tables with this codec (the shared engine's table
  /// pages are 4 KiB frames, so it takes the 4 KiB granule only); false for the decoder.
  bool engine = false;
  Mutant mutant = nullptr;  ///< a format mutant of the codec; never set in the decoder
};

class Format : public RadixCodec {
 public:
  /// Throws std::invalid_argument for a granule other than 4/16/64, a width whose
  /// per-TTBR level-0 table would not fit in half a table page, or (engine) a granule
  /// other than 4 KiB.
  explicit Format(Config c);
  unsigned levels() const override { return levels_; }
  /// Lowest VA bit indexed at engine level `level` (0 = the root).
  unsigned shift(unsigned level) const override { return page_shift_ + stride_ * (levels_ - 1 - level); }
  /// The root level resolves the TTBR-selecting bit va_bits-1 too.
  unsigned index_bits(unsigned level) const override { return level == 0 ? cfg_.va_bits - shift(0) : stride_; }
  unsigned entry_bytes() const override { return 8; }
  Entry decode(std::uint64_t raw, unsigned level) const override;
  bool is_present(std::uint64_t raw) const override { return raw & kValid; }
  /// A page at the last level, a block (bits 1:0 = 0b01) above it.
  bool is_leaf(std::uint64_t raw, unsigned level) const override {
    return level + 1 == levels_ || !(raw & kTypeTable);
  }
  /// The OA field, bits 47:granule (bytes), for a table, block and page alike.
  std::uint64_t address(std::uint64_t raw, unsigned) const override { return arith::desc_address(raw, page_shift_); }
  /// Bits of a valid descriptor that make the walk fault, 0 when none: the type bits of
  /// a block where the granule allows none or of 0b01 at the last level (reported as bit
  /// 0), RES0 OA bits 49:48 and below the granule, and a block's OA bits below its size.
  std::uint64_t reserved_bits(std::uint64_t raw, unsigned level) const override;
  Rights combine(Rights parent, std::uint64_t raw) const override;
  /// Tables accumulate APTable/UXNTable/PXNTable; a leaf applies AP[2:1], DBM, UXN/PXN
  /// under them (arith::perm, D8.4.1.1).
  Rights combine_at(Rights parent, std::uint64_t raw, unsigned level) const override;
  std::uint64_t canonical(std::uint64_t va) const override { return arith::canonical(va, cfg_.va_bits); }
  /// Pages at the last level; blocks at level 1 and 2 (4 KiB granule) or 2 (16 and 64
  /// KiB), as numbered by the architecture (D8.2.7; no FEAT_LPA2, 48-bit PA).
  bool leaf_allowed(unsigned level) const override;
  /// 0b11 with the next table's PA; no hierarchical restriction (tables grant all).
  std::uint64_t encode_table(std::uint64_t table_pa) const override;
  /// Page (0b11) or block (0b01), AttrIndx from a.arch, SH Inner Shareable, AF, nG =
  /// !global, AP[1] = user, writable pages with DBM and AP[2] = !dirty (Linux's
  /// hardware-dirty scheme), read-only ones AP[2] = 1 with dirty in bit 55, UXN/PXN per
  /// privilege (an EL0 page is never privileged-executable), soft bits 57:56.
  std::uint64_t encode_leaf(std::uint64_t pa, unsigned level, const LeafAttrs& a) const override;
  LeafAttrs leaf_attrs(std::uint64_t raw, unsigned level) const override;
  /// A leaf after an access with hardware flag management (TCR_EL1.HA = HD = 1, D8.4.6,
  /// D8.4.7): AF set; on a store to a DBM page AP[2] cleared. Tables are not written.
  std::uint64_t mark_used(std::uint64_t raw, bool leaf, bool write) const override;
  std::vector<AttrField> arch_fields() const override { return {{"attrindx", 3}}; }
  unsigned page_shift() const { return page_shift_; }
  /// The architecture's number of the engine's level (the root is 4 - levels).
  int arch_level(unsigned level) const { return 4 - static_cast<int>(levels_) + static_cast<int>(level); }
  /// TxSZ of both regions: 64 minus the region's width.
  unsigned txsz() const { return 65 - cfg_.va_bits; }

 private:
  bool is(Mutant m) const { return cfg_.mutant == m; }
  Config cfg_;
  unsigned page_shift_, stride_, levels_;
};

/// The root table's PA (bytes) from a TTBR0_EL1 value: BADDR, bits 47:1 with the low
/// bits the root table's alignment forces to zero (D19.2 TTBR0_EL1; the ASID in bits
/// 63:48 and CnP in bit 0 are not part of it). Throws std::invalid_argument when BADDR is
/// not aligned to the pair of level-0 tables the format reads (`root_bytes`).
std::uint64_t root_from_ttbr0(std::uint64_t ttbr0, std::uint64_t root_bytes);

}  // namespace vmref::impl::aarch64
