// NVIDIA GPU MMU VER3 page tables (Hopper, Blackwell): PD4..PD0 then a page table,
// 57-bit GPU VA, 8-byte PDEs and PTEs, the 16-byte dual PDE at PD0, the PCF fields
// ([NV-MMU3] gh100 dev_mmu.h VER3; [NV-FMT] kern_gmmu_fmt_gh10x.c / gb10x.c; nova-core
// ver3.rs). spec/formats/nv_mmu_v3.md is the prose; this is the codec the implementation
// writes with and the architectural decoder.
#pragma once

#include <cstdint>
#include <string>

#include "vmref/impl/mutant.hpp"
#include "vmref/impl/radix_format.hpp"

namespace vmref::impl::nv_mmu_v3 {

// Engine levels: 0 = PD4 (the PDB), 1 = PD3, 2 = PD2, 3 = PD1, 4 = PD0 (dual), 5 = PT.
inline constexpr unsigned kPd4 = 0, kPd3 = 1, kPd2 = 2, kPd1 = 3, kPd0 = 4, kPt = 5, kLevels = 6;

// VER3 PTE [NV-MMU3].
inline constexpr std::uint64_t kValid = 1ull << 0;          ///< PTE VALID; in a PDE slot: IS_PTE
inline constexpr std::uint64_t kApertureMask = 3ull << 1;   ///< APERTURE 2:1
inline constexpr unsigned kPcfShift = 3;                    ///< PTE PCF 7:3, PDE PCF 5:3
inline constexpr std::uint64_t kPcfMask = 0x1full << kPcfShift;
// Valid-PTE PCF bits [NV-MMU3]: 0 UNCACHED, 1 PRIVILEGE, 2 RO, 3 NO_ATOMIC, 4 ACD.
inline constexpr std::uint64_t kUncached = 1ull << 3, kPrivilege = 1ull << 4, kReadOnly = 1ull << 5,
                               kNoAtomic = 1ull << 6, kAcd = 1ull << 7;
// Invalid-PTE PCF values [NV-MMU3].
inline constexpr unsigned kPcfInvalid = 0, kPcfSparse = 1, kPcfMappingNowhere = 2, kPcfNoValid4K = 3;
inline constexpr unsigned kKindShift = 8;                   ///< KIND 11:8
inline constexpr unsigned kPeerShift = 61;                  ///< PEER_ID 63:61
// The harness's CPU-side bits in PTE bits 60:52, which VER3 leaves undefined (spec choice V3-C1).
inline constexpr std::uint64_t kHarnessX = 1ull << 52, kHarnessG = 1ull << 53, kHarnessA = 1ull << 54,
                               kHarnessD = 1ull << 55;
inline constexpr unsigned kHarnessSoftShift = 56;           ///< soft bits 1:0 at 57:56

inline constexpr unsigned kPteVid = 0, kPtePeer = 1, kPteSysCoh = 2, kPteSysNonCoh = 3;
inline constexpr unsigned kPdeInvalid = 0, kPdeVid = 1, kPdeSysCoh = 2, kPdeSysNonCoh = 3;
inline constexpr std::uint64_t kPdeReservedHigh = ~0ull << 52;  ///< above ADDRESS 51:12

// Markers in the 64-bit view of a dual PDE (Format::load): dual-PDE bits 64, 75:70 and
// 127:116 are unused, so the view's bits 0, 11:6 and 63:52 carry no small-half field.
inline constexpr std::uint64_t kViewBigInUse = 1ull << 7;   ///< the big half (low word) is non-zero
inline constexpr std::uint64_t kViewSmallOdd = 1ull << 6;   ///< an unused upper-word bit is set
inline constexpr std::uint64_t kSmallUnused = 0x1ull | 0x3full << 6 | 0xfffull << 52;

/// GPU generations as CUDA compute capability × 10 (the `gpu` parameter).
inline constexpr unsigned kHopper = 90, kBlackwell = 100;

struct Config {
  unsigned gpu = kHopper;
  Mutant mutant = nullptr;  ///< a format mutant of the codec; never set in the decoder
};

unsigned aperture(std::uint64_t raw);
/// PCF 7:3 of a PTE (5:3 of a PDE is its low three bits).
unsigned pcf(std::uint64_t raw);

class Format : public RadixCodec {
 public:
  /// Throws std::invalid_argument for a `gpu` that is not a v3 generation.
  explicit Format(Config c);
  unsigned levels() const override { return kLevels; }
  /// Lowest VA bit per level: PD4 56, PD3 47, PD2 38, PD1 29, PD0 21, PT 12 [NV-FMT gh10x].
  unsigned shift(unsigned level) const override;
  /// PD4 has 2 entries (VA bit 56), PD0 256 dual PDEs (28:21), the rest 512.
  unsigned index_bits(unsigned level) const override;
  unsigned entry_bytes() const override { return 8; }
  unsigned entry_words(unsigned level) const override { return level == kPd0 ? 2 : 1; }
  /// As nv_mmu_v2: the low word when IS_PTE (a 2 MiB PTE), else the small half with the
  /// unused bits cleared and the kViewBigInUse / kViewSmallOdd markers.
  std::uint64_t load(const std::uint64_t* words, unsigned level) const override;
  void store(std::uint64_t* words, unsigned level, std::uint64_t view) const override;
  Entry decode(std::uint64_t raw, unsigned level) const override;
  /// Level-free: bit 0 (VALID / IS_PTE) or a non-zero aperture (see nv_mmu_v2's note).
  bool is_present(std::uint64_t raw) const override;
  bool is_leaf(std::uint64_t raw, unsigned level) const override;
  /// ADDRESS 51:12 in bytes, for every aperture.
  std::uint64_t address(std::uint64_t raw, unsigned level) const override;
  /// A page where this generation has none, a misaligned large page, a PEER_ID in a
  /// vidmem PTE, PDE bits 63:52, the dual PDE markers, an invalid PT entry with an aperture.
  std::uint64_t reserved_bits(std::uint64_t raw, unsigned level) const override;
  /// A PTE grants W unless PCF RO, user access unless PCF PRIVILEGE, X by its harness bit.
  Rights combine(Rights parent, std::uint64_t raw) const override;
  /// The GMMU indexes VA bits 56:0 only. The harness's CPU kernels put kernel mappings
  /// in the top half of a 64-bit VA, so the engine's VAs copy bit 56 into bits 63:57
  /// (spec choice V3-C9): GPU VA 1 << 56 is shown as the high half. The format's own
  /// walk (`vmref walk`) reports the GPU's 57-bit VAs.
  std::uint64_t canonical(std::uint64_t va) const override {
    constexpr std::uint64_t low = (1ull << 57) - 1;
    return (va >> 56) & 1 ? va | ~low : va & low;
  }
  /// PT, PD0 (2 MiB) and PD1 (512 MiB) always; PD2 (256 GiB) on Blackwell [NV-FMT gb10x].
  bool leaf_allowed(unsigned level) const override;
  /// A VIDEO PDE, PCF 0 (cached, ATS allowed, as nova-core writes for VRAM).
  std::uint64_t encode_table(std::uint64_t table_pa) const override;
  /// A valid vidmem PTE, kind 0, PCF PRIVILEGE = !u, RO = !w, ACD = 1 (as nouveau's
  /// gh100_vmm_valid), and the harness bits (V3-C1).
  std::uint64_t encode_leaf(std::uint64_t pa, unsigned level, const LeafAttrs& a) const override;
  LeafAttrs leaf_attrs(std::uint64_t raw, unsigned level) const override;
  std::uint64_t mark_used(std::uint64_t raw, bool leaf, bool write) const override;
  unsigned gpu() const { return cfg_.gpu; }

 private:
  bool is(Mutant m) const { return cfg_.mutant == m; }
  std::uint64_t priv_bit() const;
  std::uint64_t ro_bit() const;
  Config cfg_;
};

/// The PDB's byte address from the `--root` value: 4 KiB aligned, below 2^52 (ADDRESS
/// 51:12); throws std::invalid_argument otherwise.
std::uint64_t pdb_address(std::uint64_t pdb);

}  // namespace vmref::impl::nv_mmu_v3
