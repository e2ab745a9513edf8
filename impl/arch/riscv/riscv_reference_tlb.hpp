// A second, deliberately plain RISC-V TLB: one list of entries per hart and one predicate
// for SFENCE.VMA, transcribed from the RISC-V Privileged ISA 20211203 §4.2.1 (§12.2.1 in
// the 20240411 edition). The optimized TLB (riscv_tlb.hpp) must hold exactly what this
// one holds (DIFF-TLB-2).
#pragma once

#include <vector>

#include "riscv_tlb.hpp"

namespace vmref::impl::riscv {

class ReferenceTlb : public vmref::impl::ReferenceTlb {
 public:
  /// Follows every instruction `mmu` issues from now on (it takes the Mmu's listener).
  /// `sv` (39, 48 or 57) decides which fence addresses are valid.
  ReferenceTlb(Mmu& mmu, unsigned sv);
  const std::vector<TlbHeld>& entries(unsigned cpu) const override { return cpus_[cpu]; }
  /// No non-leaf entries are modelled (spec/formats/riscv.md "TLB").
  const std::vector<WalkCached>& walks(unsigned) const override { return no_walks_; }

 private:
  void apply(const Mmu::Insn& i);
  unsigned sv_;
  std::vector<std::vector<TlbHeld>> cpus_;
  std::vector<WalkCached> no_walks_;
};

}  // namespace vmref::impl::riscv
