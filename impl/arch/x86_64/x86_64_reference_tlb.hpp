// A second, deliberately plain x86-64 TLB: a list of entries and one predicate per
// invalidation instruction, transcribed from Intel SDM Vol 3A §4.10.4.1 and Vol 2
// (INVLPG, INVPCID, MOV to CR3). The optimized TLB (x86_64_tlb.hpp) must hold exactly
// what this one holds (DIFF-TLB-2): nothing dropped that the SDM keeps, nothing kept
// that it drops.
#pragma once

#include <vector>

#include "x86_64_tlb.hpp"

namespace vmref::impl::x86_64 {

class ReferenceTlb : public vmref::impl::ReferenceTlb {
 public:
  /// Follows every instruction `mmu` issues from now on (it takes the Mmu's listener).
  explicit ReferenceTlb(Mmu& mmu);
  const std::vector<TlbHeld>& entries(unsigned cpu) const override { return cpus_[cpu]; }
  const std::vector<WalkCached>& walks(unsigned cpu) const override { return walks_[cpu]; }

 private:
  void apply(const Mmu::Insn& i);
  void apply_walks(const Mmu::Insn& i);
  std::vector<std::vector<TlbHeld>> cpus_;
  std::vector<std::vector<WalkCached>> walks_;  ///< paging-structure caches (§4.10.3)
};

}  // namespace vmref::impl::x86_64
