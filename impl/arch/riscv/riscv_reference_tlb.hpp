// A second, deliberately plain RISC-V TLB: one list of entries per hart and one predicate
// for SFENCE.VMA, transcribed from the RISC-V Privileged ISA 20211203 §4.2.1 (§12.2.1 in
// the 20240411 edition), and Svinval's ordering (src/priv/svinval.adoc). The optimized TLB (riscv_tlb.hpp) must hold exactly what this
// one holds (DIFF-TLB-2).
#pragma once

#include <cstddef>
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
  /// SINVAL.VMAs `cpu` issued that no SFENCE.INVAL.IR has ordered yet.
  std::size_t pending(unsigned cpu) const { return pending_[cpu].size(); }

 private:
  /// A SINVAL.VMA waiting for SFENCE.INVAL.IR; `after_w_inval`: an SFENCE.W.INVAL
  /// preceded it in its bracket, so the PTE stores were ordered before it.
  struct Sinval {
    Mmu::Insn op;
    bool after_w_inval;
  };
  void apply(const Mmu::Insn& i);
  void invalidate(const Mmu::Insn& fence, std::vector<TlbHeld>& t) const;
  unsigned sv_;
  std::vector<std::vector<TlbHeld>> cpus_;
  std::vector<std::vector<Sinval>> pending_;
  std::vector<bool> w_inval_;  ///< per hart: SFENCE.W.INVAL issued since the last SFENCE.INVAL.IR
  std::vector<WalkCached> no_walks_;
};

}  // namespace vmref::impl::riscv
