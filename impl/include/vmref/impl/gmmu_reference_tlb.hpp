// A second, deliberately plain GPU TLB for the GMMU formats: one list per TLB and one
// predicate per invalidate, transcribed from the register manuals' INVALIDATE fields
// ([NV-HUB] tu104 pri_mmu_hub.ref.txt: ALL_VA, ALL_PDB, VADDR, SIZE, ACK) under the
// conservative reading of spec/formats/nv_mmu_v2.md and nv_mmu_v3.md "TLB". The optimized
// TLB (gmmu_tlb.hpp) must hold exactly what this one holds (DIFF-TLB-2).
#pragma once

#include <vector>

#include "vmref/impl/gmmu_tlb.hpp"

namespace vmref::impl::gmmu {

class ReferenceTlb : public vmref::impl::ReferenceTlb {
 public:
  /// Follows every fill and invalidate `mmu` issues from now on (takes its listener).
  explicit ReferenceTlb(Mmu& mmu);
  const std::vector<TlbHeld>& entries(unsigned cpu) const override { return held_[cpu]; }
  /// No walk-cache entries are modelled (spec/formats/nv_mmu_v2.md "TLB").
  const std::vector<WalkCached>& walks(unsigned) const override { return no_walks_; }

 private:
  void apply(const Mmu::Insn& i);
  std::vector<std::vector<TlbHeld>> held_;
  std::vector<std::vector<std::uint64_t>> pdb_;  ///< the PDB tag of held_[cpu][k]
  std::vector<WalkCached> no_walks_;
};

}  // namespace vmref::impl::gmmu
