// NVIDIA GPU MMU VER2 page tables (Pascal to Ada): PD3..PD0 then a page table, 49-bit
// GPU VA, 8-byte PDEs and PTEs and the 16-byte dual PDE at PD0 ([NV-MMU2] tu102
// dev_mmu.h VER2; [NV-PASCAL] "Pascal MMU Format Changes"; [NV-FMT]
// kern_gmmu_fmt_gp10x.c / ga10x.c; nova-core ver2.rs). spec/formats/nv_mmu_v2.md is the
// prose; this is the codec the implementation writes with and the architectural decoder.
#pragma once

#include <cstdint>
#include <string>

#include "vmref/impl/mutant.hpp"
#include "vmref/impl/radix_format.hpp"

namespace vmref::impl::nv_mmu_v2 {

// Engine levels: 0 = PD3 (the PDB), 1 = PD2, 2 = PD1, 3 = PD0 (dual PDE), 4 = PT (small).
inline constexpr unsigned kPd3 = 0, kPd2 = 1, kPd1 = 2, kPd0 = 3, kPt = 4, kLevels = 5;

// VER2 PTE bits [NV-MMU2]; meanings [NV-PASCAL].
inline constexpr std::uint64_t kValid = 1ull << 0;          ///< PTE VALID; in a PDE slot: IS_PTE
inline constexpr std::uint64_t kApertureMask = 3ull << 1;   ///< APERTURE 2:1
inline constexpr std::uint64_t kVol = 1ull << 3;            ///< VOL; in an invalid PTE: sparse
inline constexpr std::uint64_t kEncrypted = 1ull << 4;      ///< ENCRYPTED (generation dependent)
inline constexpr std::uint64_t kPrivilege = 1ull << 5;      ///< PRIVILEGE; invalid big PTE: state I
inline constexpr std::uint64_t kReadOnly = 1ull << 6;       ///< READ_ONLY
inline constexpr std::uint64_t kAtomicDisable = 1ull << 7;  ///< ATOMIC_DISABLE
inline constexpr unsigned kPeerShift = 33;                  ///< ADDRESS_VID_PEER 35:33
inline constexpr unsigned kComptagShift = 36;               ///< COMPTAGLINE 55:36 (Turing width)
inline constexpr unsigned kKindShift = 56;                  ///< KIND 63:56
// The harness's CPU-side bits, kept in COMPTAGLINE 41:36 of a vidmem PTE of kind 0
// (pitch, uncompressed: the GMMU reads no comptag line). Spec choice V2-C1.
inline constexpr std::uint64_t kHarnessX = 1ull << 36, kHarnessG = 1ull << 37, kHarnessA = 1ull << 38,
                               kHarnessD = 1ull << 39;
inline constexpr unsigned kHarnessSoftShift = 40;           ///< soft bits 1:0 at 41:40

// PTE apertures and PDE apertures are two encodings [NV-MMU2; nova-core AperturePte/Pde].
inline constexpr unsigned kPteVid = 0, kPtePeer = 1, kPteSysCoh = 2, kPteSysNonCoh = 3;
inline constexpr unsigned kPdeInvalid = 0, kPdeVid = 1, kPdeSysCoh = 2, kPdeSysNonCoh = 3;
inline constexpr std::uint64_t kPdeNoAts = 1ull << 5;       ///< PDE NO_ATS
inline constexpr std::uint64_t kPdeReservedHigh = ~0ull << 54;  ///< above ADDRESS_SYS 53:8

// Markers in the 64-bit view of a dual PDE (see Format::load): dual-PDE bits 71:68 and 64
// are unused, so the view's bits 7:4 and 0 carry no small-half field.
inline constexpr std::uint64_t kViewBigInUse = 1ull << 7;   ///< the big half (low word) is non-zero
inline constexpr std::uint64_t kViewSmallOdd = 1ull << 4;   ///< unused dual-PDE bits 71:68 or 64 set
inline constexpr std::uint64_t kSmallUnused = 0xf1;         ///< those bits, in the upper word

/// GPU generations as CUDA compute capability × 10 (the format's `gpu` parameter).
inline constexpr unsigned kPascal = 60, kVolta = 70, kTuring = 75, kAmpere = 86, kAda = 89;

/// Format parameters: the GPU generation decides which levels may hold a page
/// ([NV-FMT] kgmmuFmtInitLevels_GA10X adds 512 MiB pages at PD1 from Ampere).
struct Config {
  unsigned gpu = kTuring;
  Mutant mutant = nullptr;  ///< a format mutant of the codec; never set in the decoder
};

unsigned aperture(std::uint64_t raw);

class Format : public RadixCodec {
 public:
  /// Throws std::invalid_argument for a `gpu` that is not a v2 generation.
  explicit Format(Config c);
  unsigned levels() const override { return kLevels; }
  /// Lowest VA bit per level: PD3 47, PD2 38, PD1 29, PD0 21, PT 12 [NV-FMT gp10x].
  unsigned shift(unsigned level) const override;
  /// PD3 has 4 entries (VA 48:47), PD0 256 dual PDEs (28:21), the rest 512.
  unsigned index_bits(unsigned level) const override;
  unsigned entry_bytes() const override { return 8; }
  /// 2 words (16 bytes) at PD0, the dual PDE; 1 elsewhere.
  unsigned entry_words(unsigned level) const override { return level == kPd0 ? 2 : 1; }
  /// The dual PDE as one 64-bit view: the low word when its bit 0 (IS_PTE) is set (a
  /// 2 MiB PTE); otherwise the small half (upper word) with bits 7:4 and 0 cleared, with
  /// kViewBigInUse when the big half is non-zero and kViewSmallOdd when an unused bit of
  /// the upper word is set. Other levels: the word itself.
  std::uint64_t load(const std::uint64_t* words, unsigned level) const override;
  /// Inverse of load: a PTE view fills the low word and clears the upper one; a PDE view
  /// fills the upper word and keeps the big half only when the view says it is in use.
  void store(std::uint64_t* words, unsigned level, std::uint64_t view) const override;
  Entry decode(std::uint64_t raw, unsigned level) const override;
  /// Level-free: bit 0 (VALID / IS_PTE) or a non-zero aperture. Exact for PDE slots; for
  /// a PT entry, VALID = 0 with a non-zero aperture is flagged by reserved_bits instead.
  bool is_present(std::uint64_t raw) const override;
  /// PT: every present entry; a PDE slot: IS_PTE (bit 0).
  bool is_leaf(std::uint64_t raw, unsigned level) const override;
  /// Bytes: vidmem and peer PTEs and VIDEO PDEs from ADDRESS_VID 32:8, sysmem ones from
  /// ADDRESS_SYS 53:8 (both shift 12).
  std::uint64_t address(std::uint64_t raw, unsigned level) const override;
  /// Non-zero when a present entry is not a translation the GMMU performs (see
  /// spec/formats/nv_mmu_v2.md "Decoder"): a page where this generation has no page
  /// size, a misaligned large page, a peer ID in a vidmem PTE, PDE bits 63:54, the dual
  /// PDE markers, an invalid PT entry with an aperture.
  std::uint64_t reserved_bits(std::uint64_t raw, unsigned level) const override;
  /// A PDE grants everything; a PTE grants W unless READ_ONLY, user access unless
  /// PRIVILEGE, X as its harness bit says (V2-C1).
  Rights combine(Rights parent, std::uint64_t raw) const override;
  /// The GMMU indexes VA bits 48:0 only. The harness's CPU kernels put kernel mappings
  /// in the top half of a 64-bit VA, so the engine's VAs copy bit 48 into bits 63:49
  /// (spec choice V2-C9): GPU VA 1 << 48 is shown as the high half. The format's own
  /// walk (`vmref walk`) reports the GPU's 49-bit VAs.
  std::uint64_t canonical(std::uint64_t va) const override {
    constexpr std::uint64_t low = (1ull << 49) - 1;
    return (va >> 48) & 1 ? va | ~low : va & low;
  }
  /// PT and PD0 (2 MiB) always, PD1 (512 MiB) from Ampere (gpu >= 86).
  bool leaf_allowed(unsigned level) const override;
  /// A VIDEO-aperture PDE pointing at `table_pa` (4 KiB aligned, below 2^37).
  std::uint64_t encode_table(std::uint64_t table_pa) const override;
  /// A valid vidmem PTE (aperture 0, kind 0) for `pa` with PRIVILEGE = !u, READ_ONLY =
  /// !w and the harness bits (V2-C1). `pa` aligned to the level's page size, below 2^37.
  std::uint64_t encode_leaf(std::uint64_t pa, unsigned level, const LeafAttrs& a) const override;
  LeafAttrs leaf_attrs(std::uint64_t raw, unsigned level) const override;
  /// The harness's accessed/dirty bits on a used PTE (V2-C1; the GMMU has none).
  std::uint64_t mark_used(std::uint64_t raw, bool leaf, bool write) const override;
  unsigned gpu() const { return cfg_.gpu; }

 private:
  bool is(Mutant m) const { return cfg_.mutant == m; }
  Config cfg_;
};

/// The PDB's byte address from the root register value `--root` names: the PD3 page's
/// VRAM address. Throws std::invalid_argument unless 4 KiB aligned (every directory is
/// one 4 KiB page [NV-PASCAL]) and below 2^37 (what ADDRESS_VID reaches).
std::uint64_t pdb_address(std::uint64_t pdb);

}  // namespace vmref::impl::nv_mmu_v2
