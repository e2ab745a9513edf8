// A second, deliberately plain AArch64 TLB: one list of entries and one list of
// uncompleted TLBIs per PE, transcribed from the Arm ARM (DDI 0487) C5.5 (what each TLBI
// removes) and D8.13.8 (a TLBI is complete only after a DSB on the issuing PE; until then
// the TLB may still hold what it targets). The Mmu's TLB (aarch64_tlb.hpp) must hold
// exactly what this one holds (DIFF-TLB-2).
#pragma once

#include <vector>

#include "aarch64_tlb.hpp"

namespace vmref::impl::aarch64 {

class ReferenceTlb : public vmref::impl::ReferenceTlb {
 public:
  /// Follows every instruction `mmu` issues from now on (it takes the Mmu's listener).
  explicit ReferenceTlb(Mmu& mmu);
  /// The entries `cpu` may hold: those filled, less those removed by completed TLBIs.
  const std::vector<TlbHeld>& entries(unsigned cpu) const override { return cpus_[cpu]; }
  /// No walk-cache entries are modelled (spec/formats/aarch64.md "TLB").
  const std::vector<WalkCached>& walks(unsigned) const override { return no_walks_; }

 private:
  void apply(const Mmu::Insn& i);
  void complete(const Tlbi& op, std::vector<TlbHeld>& t) const;
  std::vector<std::vector<TlbHeld>> cpus_;
  std::vector<std::vector<Tlbi>> issued_;  ///< per PE: TLBIs no DSB has completed
  std::vector<WalkCached> no_walks_;
};

}  // namespace vmref::impl::aarch64
