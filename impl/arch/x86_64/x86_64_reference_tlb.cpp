#include "x86_64_reference_tlb.hpp"

#include <algorithm>

namespace vmref::impl::x86_64 {

using Insn = Mmu::Insn;

ReferenceTlb::ReferenceTlb(Mmu& mmu) : cpus_(mmu.cpus()), walks_(mmu.cpus()) {
  mmu.set_listener([this](const Insn& i) { apply(i); });
}

void ReferenceTlb::apply(const Insn& i) {
  apply_walks(i);
  auto& t = cpus_[i.cpu];
  auto same_page = [&](const TlbHeld& h) { return i.va / h.size == h.va / h.size; };
  auto drop = [&](auto pred) { std::erase_if(t, pred); };
  switch (i.kind) {
    case Insn::fill: {
      TlbHeld h{i.pcid, i.va & ~(i.t.page_size - 1), i.t.page_pa, i.t.page_size, i.t.rights, i.t.global, i.owner};
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

// The paging-structure caches, by §4.10.3.1 and §4.10.4.1: a walk caches each non-leaf
// entry it used; INVLPG drops all of the current PCID's, whatever the address; INVPCID
// type 0 those of the PCID used to translate the address; types 1 and MOV to CR3
// without bit 63 all of one PCID; types 2 and 3 all. None of them is global.
void ReferenceTlb::apply_walks(const Insn& i) {
  auto& w = walks_[i.cpu];
  auto drop = [&](auto pred) { std::erase_if(w, pred); };
  auto same_pcid = [&](const WalkCached& c) { return c.ctx == i.pcid; };
  switch (i.kind) {
    case Insn::fill:
      for (unsigned l = 0; l < i.t.leaf_level; ++l) {
        std::uint64_t size = i.t.page_size << (9 * (i.t.leaf_level - l));
        WalkCached c{i.pcid, l, i.va / size * size, size, i.t.next_table[l], i.owner};
        drop([&](const WalkCached& o) { return o.ctx == c.ctx && o.level == c.level && o.va == c.va; });
        w.push_back(c);
      }
      break;
    case Insn::invlpg: drop(same_pcid); break;
    case Insn::invpcid:
      if (i.type == 0) drop([&](const WalkCached& c) { return same_pcid(c) && i.va / c.size == c.va / c.size; });
      if (i.type == 1) drop(same_pcid);
      if (i.type >= 2) w.clear();
      break;
    case Insn::mov_cr3:
      if (!i.noflush) drop(same_pcid);
      break;
  }
}

}  // namespace vmref::impl::x86_64
