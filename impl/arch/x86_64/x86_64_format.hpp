// x86-64 4-level and 5-level (LA57) paging (Intel SDM Vol 3A §4.5, Tables 4-14 to 4-20).
#pragma once

#include "vmref/impl/radix_format.hpp"

namespace vmref::impl::x86_64 {

// Entry bits (Intel SDM Vol 3A §4.5, Table 4-20 and its neighbours).
inline constexpr std::uint64_t kP = 1ull << 0, kRW = 1ull << 1, kUS = 1ull << 2, kPWT = 1ull << 3,
                               kPCD = 1ull << 4, kA = 1ull << 5, kD = 1ull << 6, kPS = 1ull << 7,
                               kG = 1ull << 8, kXD = 1ull << 63;

struct Config {
  unsigned levels = 4;        ///< 4, or 5 with CR4.LA57
  unsigned maxphyaddr = 52;   ///< CPUID.80000008H:EAX[7:0]; bits above are reserved
  bool nxe = true;            ///< IA32_EFER.NXE: bit 63 is XD, else reserved
  unsigned xd_bit = 63;       ///< always 63 on hardware; 62 only for the xd-wrong-bit mutant
};

inline constexpr std::uint64_t kPatSmall = 1ull << 7, kPatLarge = 1ull << 12;
inline constexpr unsigned kPkeyShift = 59;  ///< protection key: bits 62:59 of a leaf

class Format : public RadixCodec {
 public:
  explicit Format(Config c);  ///< throws std::invalid_argument for levels other than 4/5
  unsigned levels() const override { return cfg_.levels; }
  unsigned shift(unsigned level) const override { return 12 + 9 * (cfg_.levels - 1 - level); }
  unsigned index_bits(unsigned) const override { return 9; }
  unsigned entry_bytes() const override { return 8; }
  Entry decode(std::uint64_t raw, unsigned level) const override;
  bool is_present(std::uint64_t raw) const override { return raw & kP; }
  bool is_leaf(std::uint64_t raw, unsigned level) const override {
    return level == cfg_.levels - 1 || (raw & kPS);
  }
  std::uint64_t address(std::uint64_t raw, unsigned level) const override;
  std::uint64_t reserved_bits(std::uint64_t raw, unsigned level) const override;
  Rights combine(Rights parent, std::uint64_t raw) const override;
  std::uint64_t canonical(std::uint64_t va) const override;
  /// Leaves at every level but the PML4/PML5 (SDM Vol 3A Table 4-15 to 4-19).
  bool leaf_allowed(unsigned level) const override { return level + 3 > cfg_.levels - 1; }
  std::uint64_t encode_table(std::uint64_t table_pa) const override;
  std::uint64_t encode_leaf(std::uint64_t pa, unsigned level, const LeafAttrs& a) const override;
  LeafAttrs leaf_attrs(std::uint64_t raw, unsigned level) const override;
  std::uint64_t mark_used(std::uint64_t raw, bool leaf, bool write) const override;
  /// "cache": the memory-type (PAT) index = PAT<<2 | PCD<<1 | PWT (SDM Vol 3A §11.12.3);
  /// "pkey": the protection key of bits 62:59 (SDM Vol 3A §4.6.2).
  std::vector<AttrField> arch_fields() const override { return {{"cache", 3}, {"pkey", 4}}; }
  /// Whether `va` is canonical for this paging mode (SDM Vol 3A §4.5).
  bool is_canonical(std::uint64_t va) const { return canonical(va) == va; }

 private:
  std::uint64_t xd() const { return 1ull << cfg_.xd_bit; }
  Config cfg_;
  std::uint64_t table_addr_ = 0;                 ///< address bits of a table pointer
  std::uint64_t leaf_addr_[5] = {}, reserved_[5] = {}, reserved_large_[5] = {};
};

/// QEMU's `info tlb` line for a leaf (target/i386/monitor.c print_pte, QEMU 7.2):
/// "VA: PA XGPDACTUW" with the leaf's own bits, PA masked as QEMU masks it.
std::string qemu_tlb_line(std::uint64_t va, std::uint64_t raw, std::uint64_t page_size);

}  // namespace vmref::impl::x86_64
