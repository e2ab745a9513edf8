// GPU page tables in simulated VRAM as the nova implementation writes and reads them: the
// real NVIDIA MMU v2 or v3 bit layout (spec/formats/nv_mmu_v2.md, nv_mmu_v3.md), written
// through the format's codec, so a format mutant breaks what nova writes too. Table
// pages are 4 KiB VRAM pages handed out from PFN 0x10000 up, freed ones lowest first
// (spec/kernels/nova.md §11 N-C7), zeroed when allocated (alloc_and_zero_page_table).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <vector>

#include "vmref/impl/gmmu_words.hpp"
#include "vmref/impl/phys_mem.hpp"
#include "vmref/impl/radix_format.hpp"

namespace vmref::nova {

using Pfn = std::uint64_t;  ///< VRAM page number (byte address >> 12)
using Vfn = std::uint64_t;  ///< GPU virtual page number (VA >> 12)

/// A valid small PTE as the tables hold it.
struct GpuPte {
  Pfn pfn = 0;
  bool writable = false;
};

using impl::gmmu::Chunk;

/// The VRAM tables of one GPU. Levels as the codec numbers them: 0 the PDB, dual() the
/// PD0 level with 16-byte dual PDEs, pt() the small page table.
class GpuTables {
 public:
  /// `codec` is an NVIDIA format's codec and `words` that format's (both outlive this);
  /// `mutant` the format's mutant the big PTEs are written under (nullptr: none).
  GpuTables(const impl::RadixCodec& codec, const impl::gmmu::Words& words, impl::Mutant mutant)
      : codec_(codec), words_(words), mutant_(mutant) {}

  unsigned pt() const { return codec_.levels() - 1; }
  unsigned dual() const { return codec_.levels() - 2; }
  /// Bytes per entry at `level` (16 at the dual level).
  unsigned entry_bytes(unsigned level) const { return codec_.entry_words(level) * 8; }
  /// The index of `vfn` in a table of `level`.
  unsigned index(unsigned level, Vfn vfn) const {
    return static_cast<unsigned>(((vfn << 12) >> codec_.shift(level)) & ((1ull << codec_.index_bits(level)) - 1));
  }
  unsigned entries(unsigned level) const { return 1u << codec_.index_bits(level); }
  /// VFN bits of the whole GPU VA (37 on v2, 45 on v3).
  unsigned vfn_bits() const { return codec_.shift(0) + codec_.index_bits(0) - 12; }

  /// A zeroed table page.
  Pfn alloc();
  /// Takes VRAM page `p` as a table page as it is, unzeroed (a recorded driver's own
  /// page, spec/kernels/nova.md §15); alloc() never hands it out while it is live.
  /// Throws std::invalid_argument naming `pfn` outside [kFirst, kLimit) or already live.
  void alloc_at(Pfn p);
  /// Zeroes table page `p` (which the caller checked is live).
  void zero(Pfn p) { vram_.zero(p); }
  /// Stores a raw 64-bit word at VRAM byte address `addr`. The caller checks that `addr`
  /// is 8-byte aligned and lies in a live table page (NovaVmm::check_live): any other
  /// address would create the VRAM page it names.
  void store(std::uint64_t addr, std::uint64_t word) { vram_.page(addr >> 12)[(addr & 0xfff) / 8] = word; }
  void free(Pfn p);
  bool live(Pfn p) const { return live_.count(p) != 0; }
  /// The table pages a recorded driver may name: [0x10000, 2^24) (spec/kernels/nova.md §15).
  static bool in_range(Pfn p) { return p >= kFirst && p < kLimit; }
  /// Every live table page, ascending.
  std::vector<Pfn> live_pages() const;

  /// The table the PDE (small half at the dual level) at `idx` of `table` points at.
  std::optional<Pfn> child(Pfn table, unsigned level, unsigned idx) const;
  /// Writes that PDE. At the dual level the big half is cleared (nova-core's
  /// DualPde::new_small) unless `keep_big`; returns whether a big half was cleared.
  bool set_child(Pfn table, unsigned level, unsigned idx, Pfn child, bool keep_big);
  /// The big page table of dual PDE `idx` of `dual_table`, or nullopt.
  std::optional<Pfn> big_table(Pfn dual_table, unsigned idx) const;
  /// Points the big half of that dual PDE at `big` (the small half kept).
  void set_big_table(Pfn dual_table, unsigned idx, Pfn big);
  void set_chunk(Pfn big, unsigned chunk, Chunk state);
  bool chunk_hides(Pfn big, unsigned chunk) const;
  std::optional<GpuPte> pte(Pfn pt_page, unsigned idx) const;
  void set_pte(Pfn pt_page, unsigned idx, std::optional<GpuPte> pte);

  /// The table page on `vfn`'s small-pointer path at `level` below `pdb`, or nullopt.
  std::optional<Pfn> table_at(Pfn pdb, Vfn vfn, unsigned level) const;
  /// Whether a big PTE in state I or S hides `vfn`'s small PTE.
  bool hidden(Pfn pdb, Vfn vfn) const;

  const impl::SimMemory& vram() const { return vram_; }

 private:
  static constexpr Pfn kFirst = 0x10000;  ///< table pages from 256 MiB of VRAM up (N-C7)
  static constexpr Pfn kLimit = Pfn{1} << 24;  ///< and below 64 GiB (§15): SimMemory is dense
  std::uint64_t* slot(Pfn table, unsigned level, unsigned idx) {
    return vram_.page(table) + idx * codec_.entry_words(level);
  }
  const std::uint64_t* slot(Pfn table, unsigned level, unsigned idx) const;

  const impl::RadixCodec& codec_;
  const impl::gmmu::Words& words_;
  impl::Mutant mutant_;
  mutable impl::SimMemory vram_;
  std::set<Pfn> live_;  ///< ordered: live_pages() lists them without scanning VRAM
  std::priority_queue<Pfn, std::vector<Pfn>, std::greater<>> free_;
  Pfn next_ = kFirst;
};

}  // namespace vmref::nova
