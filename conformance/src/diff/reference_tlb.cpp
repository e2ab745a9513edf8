#include "vmref/diff/reference_tlb.hpp"

#include <algorithm>

namespace vmref::diff {

using Insn = impl::x86_64::Mmu::Insn;

void ReferenceTlb::apply(const Insn& i) {
  auto& t = cpus_[i.cpu];
  auto same_page = [&](const impl::TlbHeld& h) { return i.va / h.size == h.va / h.size; };
  auto drop = [&](auto pred) { std::erase_if(t, pred); };
  switch (i.kind) {
    case Insn::fill: {
      impl::TlbHeld h{i.pcid, i.va & ~(i.t.page_size - 1), i.t.page_pa, i.t.page_size, i.t.rights, i.t.global};
      drop([&](const impl::TlbHeld& o) { return o.ctx == h.ctx && o.va == h.va && o.size == h.size; });
      t.push_back(h);
      break;
    }
    case Insn::invlpg:  // current PCID's entries for the page, and global entries for it
      drop([&](const impl::TlbHeld& h) { return same_page(h) && (h.ctx == i.pcid || h.global); });
      break;
    case Insn::invpcid:
      if (i.type == 0) drop([&](const impl::TlbHeld& h) { return same_page(h) && h.ctx == i.pcid && !h.global; });
      if (i.type == 1) drop([&](const impl::TlbHeld& h) { return h.ctx == i.pcid && !h.global; });
      if (i.type == 2) t.clear();
      if (i.type == 3) drop([&](const impl::TlbHeld& h) { return !h.global; });
      break;
    case Insn::mov_cr3:  // with bit 63 set nothing goes; without, the PCID's non-global entries
      if (!i.noflush) drop([&](const impl::TlbHeld& h) { return h.ctx == i.pcid && !h.global; });
      break;
  }
}

}  // namespace vmref::diff
