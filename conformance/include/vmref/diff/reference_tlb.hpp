// A second, deliberately plain x86-64 TLB: a list of entries and one predicate per
// invalidation instruction, transcribed from Intel SDM Vol 3A §4.10.4.1 and Vol 2
// (INVLPG, INVPCID, MOV to CR3). The optimized TLB (impl/arch/x86_64) must hold exactly
// what this one holds (DIFF-TLB-2): nothing dropped that the SDM keeps, nothing kept
// that it drops.
#pragma once

#include <vector>

#include "x86_64/x86_64_tlb.hpp"

namespace vmref::diff {

class ReferenceTlb {
 public:
  explicit ReferenceTlb(unsigned cpus) : cpus_(cpus) {}
  /// Follows one instruction the optimized Mmu issued.
  void apply(const impl::x86_64::Mmu::Insn& i);
  const std::vector<impl::TlbHeld>& entries(unsigned cpu) const { return cpus_[cpu]; }

 private:
  std::vector<std::vector<impl::TlbHeld>> cpus_;
};

}  // namespace vmref::diff
