#include "vmref/impl/gmmu_reference_tlb.hpp"

namespace vmref::impl::gmmu {

using Insn = Mmu::Insn;

ReferenceTlb::ReferenceTlb(Mmu& mmu) : held_(mmu.cpus()), pdb_(mmu.cpus()) {
  mmu.set_listener([this](const Insn& i) { apply(i); });
}

// The rules, one at a time:
// - a successful walk under a PDB may leave its translation in the TLB, tagged by that
//   PDB; a later fill of the same page under the same PDB replaces it;
// - an invalidate names a PDB (or every PDB with ALL_PDB) and every VA (ALL_VA) or the
//   range VADDR..VADDR+SIZE, which reaches an entry of any page size overlapping it;
// - only an invalidate whose ACK (GLOBALLY, INTRANODE) makes the TRIGGER poll wait for
//   the TLBs removes what it names from what they may hold; with ACK NONE_REQUIRED the
//   entries may stay, for all the manuals say, until a later acknowledged invalidate.
void ReferenceTlb::apply(const Insn& i) {
  auto& held = held_[i.cpu];
  auto& tags = pdb_[i.cpu];
  auto drop = [&](auto pred) {
    std::size_t out = 0;
    for (std::size_t k = 0; k < held.size(); ++k) {
      if (pred(held[k], tags[k])) continue;
      held[out] = held[k];
      tags[out++] = tags[k];
    }
    held.resize(out);
    tags.resize(out);
  };
  if (i.kind == Insn::fill) {
    std::uint64_t base = i.va - i.va % i.t.page_size;
    drop([&](const TlbHeld& h, std::uint64_t p) { return p == i.pdb && h.va == base && h.size == i.t.page_size; });
    held.push_back(TlbHeld{i.ctx, base, i.t.page_pa, i.t.page_size, i.t.rights, i.t.global, i.owner});
    tags.push_back(i.pdb);
    return;
  }
  if (!guarantees_removal(i.inv.ack)) return;
  drop([&](const TlbHeld& h, std::uint64_t p) { return names(i.inv, p, h.va, h.size); });
}

}  // namespace vmref::impl::gmmu
