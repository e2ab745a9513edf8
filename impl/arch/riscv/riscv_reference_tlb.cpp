#include "riscv_reference_tlb.hpp"

#include <algorithm>

namespace vmref::impl::riscv {

using Insn = Mmu::Insn;

ReferenceTlb::ReferenceTlb(Mmu& mmu, unsigned sv)
    : sv_(sv), cpus_(mmu.cpus()), pending_(mmu.cpus()), w_inval_(mmu.cpus(), false) {
  mmu.set_listener([this](const Insn& i) { apply(i); });
}

// §4.2.1, one sentence at a time:
// - rs1 = x0: every level, every VA; rs1 = va: the leaf entries for that VA, whatever
//   their page size, and nothing at all when va is not a valid virtual address;
// - rs2 = x0: every address space, global mappings included; rs2 = asid: that address
//   space only, global mappings excepted.
// SINVAL.VMA takes the same operands and names the same entries (svinval.adoc).
void ReferenceTlb::invalidate(const Mmu::Insn& i, std::vector<TlbHeld>& t) const {
  if (i.has_va) {
    std::uint64_t top = i.va >> (sv_ - 1);
    bool valid = top == 0 || top == (~0ull >> (sv_ - 1));
    if (!valid) return;
  }
  std::erase_if(t, [&](const TlbHeld& h) {
    bool va_matches = !i.has_va || i.va / h.size == h.va / h.size;
    bool space_matches = !i.has_asid || (h.ctx == i.asid && !h.global);
    return va_matches && space_matches;
  });
}

// Writing satp invalidates nothing (§4.1.11). Svinval (svinval.adoc):
// - SFENCE.W.INVAL orders the hart's earlier stores before the SINVAL.VMAs after it;
// - SFENCE.INVAL.IR orders the SINVAL.VMAs before it before the hart's later implicit
//   references to the page tables: only then may the entries no longer be used;
// - a SINVAL.VMA with no SFENCE.W.INVAL before it in its bracket may act before the PTE
//   stores are visible, and a walk may then refill the old translation: conservatively,
//   its invalidation never happened.
void ReferenceTlb::apply(const Insn& i) {
  auto& t = cpus_[i.cpu];
  switch (i.kind) {
    case Insn::fill: {
      TlbHeld h{i.asid, i.va - i.va % i.t.page_size, i.t.page_pa, i.t.page_size, i.t.rights, i.t.global, i.owner};
      std::erase_if(t, [&](const TlbHeld& o) { return o.ctx == h.ctx && o.va == h.va && o.size == h.size; });
      t.push_back(h);
      return;
    }
    case Insn::sfence_vma: return invalidate(i, t);
    case Insn::write_satp: return;
    case Insn::sfence_w_inval: w_inval_[i.cpu] = true; return;
    case Insn::sinval_vma: pending_[i.cpu].push_back({i, w_inval_[i.cpu]}); return;
    case Insn::sfence_inval_ir:
      for (const Sinval& s : pending_[i.cpu])
        if (s.after_w_inval) invalidate(s.op, t);
      pending_[i.cpu].clear();
      w_inval_[i.cpu] = false;
      return;
  }
}

}  // namespace vmref::impl::riscv
