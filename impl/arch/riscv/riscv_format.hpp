// RISC-V Sv39, Sv48 and Sv57 page tables (RISC-V Privileged ISA 20211203 (v1.12): §4.3.1
// PTE format and §4.3.2 the translation process, stated for Sv32 and extended by §4.4
// Sv39, §4.5 Sv48, §4.6 Sv57; §4.1.11 satp). Chapter 12 in the 20240411 edition.
// spec/formats/riscv.md is the prose; this is the codec and the architectural decoder.
#pragma once

#include <cstdint>
#include <string>

#include "vmref/impl/mutant.hpp"
#include "vmref/impl/radix_format.hpp"

namespace vmref::impl::riscv {

// PTE bits (Priv ISA §4.4.1, Figure "Sv39 page table entry"); no Svnapot, no Svpbmt.
inline constexpr std::uint64_t kV = 1ull << 0, kR = 1ull << 1, kW = 1ull << 2, kX = 1ull << 3, kU = 1ull << 4,
                               kG = 1ull << 5, kA = 1ull << 6, kD = 1ull << 7;
inline constexpr unsigned kRswShift = 8;     ///< RSW: bits 9:8, left to the supervisor
inline constexpr unsigned kPpnShift = 10;    ///< PPN: bits 53:10 (44 bits)
inline constexpr std::uint64_t kPpnMask = (1ull << 44) - 1;
inline constexpr std::uint64_t kHighReserved = ~0ull << 54;  ///< bits 63:54 (N, PBMT, reserved)

/// Format parameters. `sv` is the mode: 39, 48 or 57 (3, 4 or 5 levels).
struct Config {
  unsigned sv = 48;
  /// Svade: an access to a leaf with A = 0, or a store to one with D = 0, raises a page
  /// fault instead of the hardware setting the bit (Priv ISA §4.3.1, §4.3.2 step 7).
  bool ad_fault = false;
  Mutant mutant = nullptr;  ///< a format mutant of the codec; never set in the decoder
};

class Format : public RadixCodec {
 public:
  /// Throws std::invalid_argument unless `c.sv` is 39, 48 or 57.
  explicit Format(Config c);
  unsigned levels() const override { return levels_; }
  /// VPN[i] of Sv39/48/57 sits at bits 12 + 9i; level 0 is the root (VPN[levels-1]).
  unsigned shift(unsigned level) const override { return 12 + 9 * (levels_ - 1 - level); }
  unsigned index_bits(unsigned) const override { return 9; }
  unsigned entry_bytes() const override { return 8; }
  Entry decode(std::uint64_t raw, unsigned level) const override;
  bool is_present(std::uint64_t raw) const override { return raw & kV; }
  /// Any of R, W, X set makes a leaf, at any level (§4.3.2 step 4); R=W=X=0 a pointer.
  bool is_leaf(std::uint64_t raw, unsigned) const override { return raw & (kR | kW | kX); }
  /// PPN << 12 (bytes), for a table pointer and a leaf alike.
  std::uint64_t address(std::uint64_t raw, unsigned level) const override;
  /// Reserved bits and encodings of a valid PTE, 0 when none (each faults, §4.3.2):
  /// bits 63:54; W without R; A/D/U in a pointer; a pointer at the last level (reported
  /// as its V bit); the PPN bits below a superpage's size (misaligned superpage).
  std::uint64_t reserved_bits(std::uint64_t raw, unsigned level) const override;
  /// A pointer restricts nothing; a leaf grants W, U, X as its bits say (§4.3.1).
  Rights combine(Rights parent, std::uint64_t raw) const override;
  /// Bits 63..sv copy bit sv-1 (§4.4: "bits 63–39 must all equal bit 38" for Sv39).
  std::uint64_t canonical(std::uint64_t va) const override;
  /// A leaf may sit at every level: superpages of 2 MiB, 1 GiB, 512 GiB, 256 TiB.
  bool leaf_allowed(unsigned) const override { return true; }
  /// V only, R=W=X=0 and A/D/U clear (they are reserved in a pointer).
  std::uint64_t encode_table(std::uint64_t table_pa) const override;
  /// V, R always (a leaf without R is execute-only or reserved), W/X/U/G/A/D from `a`,
  /// RSW from a.soft bits 1:0 (bit 0 = COW mark). `pa` aligned to the level's page size.
  std::uint64_t encode_leaf(std::uint64_t pa, unsigned level, const LeafAttrs& a) const override;
  LeafAttrs leaf_attrs(std::uint64_t raw, unsigned level) const override;
  /// A leaf after an access: A set, D set on a store (§4.3.2 step 7). Pointers are never
  /// written (their A/D are reserved). With `ad_fault` the same words result: the access
  /// traps, the kernel's handler sets the bits and the access is retried.
  std::uint64_t mark_used(std::uint64_t raw, bool leaf, bool write) const override;
  /// With Svade (`ad_fault`), whether an access to leaf `raw` faults on its A/D bits.
  bool ad_faults(std::uint64_t raw, bool write) const {
    return cfg_.ad_fault && (!(raw & kA) || (write && !(raw & kD)));
  }
  bool is_canonical(std::uint64_t va) const { return canonical(va) == va; }
  /// satp.MODE of this format: 8 (Sv39), 9 (Sv48), 10 (Sv57) (§4.1.11, Table 4.4).
  unsigned satp_mode() const { return cfg_.sv == 39 ? 8 : cfg_.sv == 48 ? 9 : 10; }

 private:
  bool is(Mutant m) const { return cfg_.mutant == m; }
  Config cfg_;
  unsigned levels_;
};

/// The root table's PA (bytes) from a satp value: PPN (bits 43:0) << 12. Throws
/// std::invalid_argument when MODE (bits 63:60) is Bare (0) or another mode than `sv`
/// (Priv ISA §4.1.11).
std::uint64_t root_from_satp(std::uint64_t satp, unsigned sv);

}  // namespace vmref::impl::riscv
