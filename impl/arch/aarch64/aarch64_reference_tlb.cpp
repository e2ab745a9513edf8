#include "aarch64_reference_tlb.hpp"

#include <algorithm>

namespace vmref::impl::aarch64 {

using Insn = Mmu::Insn;

ReferenceTlb::ReferenceTlb(Mmu& mmu)
    : cpus_(mmu.cpus()), issued_(mmu.cpus()) {
  mmu.set_listener([this](const Insn& i) { apply(i); });
}

// C5.5, one operation at a time (the operand's VA is bits 55:12, its ASID bits 63:48):
// - VMALLE1: every stage-1 EL1&0 entry;
// - ASIDE1: entries of that ASID, except global ones (nG = 0 matches every ASID and is
//   never removed by an ASID operation);
// - VAE1 / VALE1: entries translating the VA for that ASID, and global entries
//   translating it whatever the ASID; VALE1 only last-level entries, which are all this
//   TLB holds; VAAE1: entries translating the VA for every ASID.
// An entry "translates the VA" when the VA lies in its page or block.
void ReferenceTlb::complete(const Tlbi& op, std::vector<TlbHeld>& t) const {
  std::erase_if(t, [&](const TlbHeld& h) {
    bool same_page = ((op.va >> 12) & ((1ull << 44) - 1)) / (h.size >> 12) ==
                     ((h.va >> 12) & ((1ull << 44) - 1)) / (h.size >> 12);
    switch (op.op) {
      case Tlbi::vmalle1: return true;
      case Tlbi::aside1: return h.ctx == op.asid && !h.global;
      case Tlbi::vaae1: return same_page;
      case Tlbi::vae1:
      case Tlbi::vale1: return same_page && (h.global || h.ctx == op.asid);
    }
    return false;
  });
}

// D8.13.8: a TLBI's removals are guaranteed once a DSB after it completes on the issuing
// PE; for the Inner Shareable forms, on every PE of the domain. Until then the entries
// stay in what the PE may hold. Writing TTBR0_EL1 removes nothing.
void ReferenceTlb::apply(const Insn& i) {
  switch (i.kind) {
    case Insn::fill: {
      auto& t = cpus_[i.cpu];
      TlbHeld h{i.asid, i.va - i.va % i.t.page_size, i.t.page_pa, i.t.page_size, i.t.rights, i.t.global, i.owner};
      std::erase_if(t, [&](const TlbHeld& o) { return o.ctx == h.ctx && o.va == h.va && o.size == h.size; });
      t.push_back(h);
      return;
    }
    case Insn::tlbi: issued_[i.cpu].push_back(i.op); return;
    case Insn::dsb:
      for (const Tlbi& op : issued_[i.cpu]) {
        if (!op.is) complete(op, cpus_[i.cpu]);
        else for (auto& t : cpus_) complete(op, t);
      }
      issued_[i.cpu].clear();
      return;
    case Insn::write_ttbr0: return;
  }
}

}  // namespace vmref::impl::aarch64
