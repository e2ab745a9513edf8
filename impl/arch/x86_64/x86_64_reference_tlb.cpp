#include "x86_64_reference_tlb.hpp"

#include <algorithm>

namespace vmref::impl::x86_64 {

using Insn = Mmu::Insn;

ReferenceTlb::ReferenceTlb(Mmu& mmu) : cpus_(mmu.cpus()) {
  mmu.set_listener([this](const Insn& i) { apply(i); });
}

void ReferenceTlb::apply(const Insn& i) {
  auto& t = cpus_[i.cpu];
  auto same_page = [&](const TlbHeld& h) { return i.va / h.size == h.va / h.size; };
  auto drop = [&](auto pred) { std::erase_if(t, pred); };
  switch (i.kind) {
    case Insn::fill: {
      TlbHeld h{i.pcid, i.va & ~(i.t.page_size - 1), i.t.page_pa, i.t.page_size, i.t.rights, i.t.global};
      drop([&](const TlbHeld& o) { return o.ctx == h.ctx && o.va == h.va && o.size == h.size; });
      t.push_back(h);
      break;
    }
    case Insn::invlpg:  // current PCID's entries for the page, and global entries for it
      drop([&](const TlbHeld& h) { return same_page(h) && (h.ctx == i.pcid || h.global); });
      break;
    case Insn::invpcid:
      if (i.type == 0) drop([&](const TlbHeld& h) { return same_page(h) && h.ctx == i.pcid && !h.global; });
      if (i.type == 1) drop([&](const TlbHeld& h) { return h.ctx == i.pcid && !h.global; });
      if (i.type == 2) t.clear();
      if (i.type == 3) drop([&](const TlbHeld& h) { return !h.global; });
      break;
    case Insn::mov_cr3:  // with bit 63 set nothing goes; without, the PCID's non-global entries
      if (!i.noflush) drop([&](const TlbHeld& h) { return h.ctx == i.pcid && !h.global; });
      break;
  }
}

}  // namespace vmref::impl::x86_64
