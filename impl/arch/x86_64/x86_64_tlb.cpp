#include "x86_64_tlb.hpp"

#include <stdexcept>

namespace vmref::impl::x86_64 {

namespace {
template <class E> bool covers(const E& h, std::uint64_t va) { return (va & ~(h.size - 1)) == (h.va & ~(h.size - 1)); }
}  // namespace

void Tlb::fill(std::uint16_t pcid, std::uint64_t va, const Translation& t, std::uint32_t owner) {
  TlbHeld h{pcid, va & ~(t.page_size - 1), t.page_pa, t.page_size, t.rights, t.global && pge_, owner};
  map_[key(pcid, va, t.page_size)] = h;
  // Each x86-64 level indexes 9 VA bits, so the entry `k` levels above the leaf covers
  // page_size << 9k bytes (§4.10.3.1: PDE cache 2 MiB, PDPTE cache 1 GiB, ...).
  for (unsigned l = 0; l < t.leaf_level; ++l) {
    std::uint64_t size = t.page_size << (9 * (t.leaf_level - l));
    std::uint64_t base = va & ~(size - 1);
    walks_[pack(pcid, base, 4 + l)] = WalkCached{pcid, l, base, size, t.next_table[l], owner};
  }
}

void Tlb::invlpg(std::uint16_t current_pcid, std::uint64_t va) {
  erase_if([&](const TlbHeld& h) { return (h.ctx == current_pcid || h.global) && covers(h, va); });
  erase_walks_if([&](const WalkCached& w) { return w.ctx == current_pcid; });
}

void Tlb::invpcid(unsigned type, std::uint16_t pcid, std::uint64_t va) {
  switch (type) {
    case 0:
      erase_if([&](const TlbHeld& h) { return h.ctx == pcid && !h.global && covers(h, va); });
      if (mutant_ != &kInvpcid0KeepsWalks) erase_walks_if([&](const WalkCached& w) { return w.ctx == pcid && covers(w, va); });
      break;
    case 1:
      erase_if([&](const TlbHeld& h) { return h.ctx == pcid && !h.global; });
      erase_walks_if([&](const WalkCached& w) { return w.ctx == pcid; });
      break;
    case 2:
      erase_if([&](const TlbHeld& h) { return !h.global || mutant_ != &kInvpcid2KeepsGlobals; });
      walks_.clear();
      break;
    case 3:
      erase_if([&](const TlbHeld& h) { return !h.global; });
      walks_.clear();
      break;
    default: throw std::invalid_argument("INVPCID type " + std::to_string(type) + " (#GP)");
  }
}

void Tlb::mov_cr3(std::uint16_t pcid, bool noflush) {
  if (mutant_ == &kCr3DropsGlobals) erase_if([&](const TlbHeld& h) { return h.global; });
  if (noflush) return;
  erase_if([&](const TlbHeld& h) { return h.ctx == pcid && !h.global; });
  erase_walks_if([&](const WalkCached& w) { return w.ctx == pcid; });
}

void Tlb::set_pge(bool pge) {
  if (pge != pge_) map_.clear(), walks_.clear();
  pge_ = pge;
}

void Tlb::each(const std::function<void(const TlbHeld&)>& fn) const {
  for (const auto& [k, h] : map_) fn(h);
}

void Tlb::each_walk(const std::function<void(const WalkCached&)>& fn) const {
  for (const auto& [k, w] : walks_) fn(w);
}

Mmu::Mmu(unsigned cpus, Mutant m) : current_(cpus, 0), owner_(cpus, 0), mutant_(m) {
  for (unsigned i = 0; i < cpus; ++i) tlbs_.emplace_back(true, m);
}

void Mmu::load(unsigned cpu, std::uint16_t ctx, std::uint64_t root, std::uint32_t owner, bool flush) {
  (void)root;  // CR3 = root | PCID | bit 63 unless `flush`: the walk of `cpu` now starts at root
  current_[cpu] = ctx;
  owner_[cpu] = owner;
  tlbs_[cpu].mov_cr3(ctx, !flush);
  note({Insn::mov_cr3, cpu, ctx, 0, 0, !flush, {}});
}

void Mmu::fill(unsigned cpu, std::uint64_t va, const Translation& t) {
  tlbs_[cpu].fill(current_[cpu], va, t, owner_[cpu]);
  note({Insn::fill, cpu, current_[cpu], va, 0, false, t, owner_[cpu]});
}

void Mmu::invalidate_page(unsigned cpu, std::uint16_t ctx, std::uint64_t va, bool with_global) {
  // INVLPG reaches only the current PCID (plus globals); another PCID needs INVPCID 0,
  // which keeps globals, so a global page of another context takes an INVLPG as well.
  if (ctx == current_[cpu] || mutant_ == &kInvlpgIgnoresPcid) {
    tlbs_[cpu].invlpg(current_[cpu], va);
    note({Insn::invlpg, cpu, current_[cpu], va, 0, false, {}});
    return;
  }
  tlbs_[cpu].invpcid(0, ctx, va);
  note({Insn::invpcid, cpu, ctx, va, 0, false, {}});
  if (with_global) {
    tlbs_[cpu].invlpg(current_[cpu], va);
    note({Insn::invlpg, cpu, current_[cpu], va, 0, false, {}});
  }
}

void Mmu::invalidate_context(unsigned cpu, std::uint16_t ctx, bool with_global) {
  unsigned type = with_global ? 2 : 1;  // no single-PCID form drops globals: type 2
  tlbs_[cpu].invpcid(type, ctx, 0);
  note({Insn::invpcid, cpu, ctx, 0, type, false, {}});
}

void Mmu::invalidate_all(unsigned cpu) {
  tlbs_[cpu].invpcid(2, 0, 0);
  note({Insn::invpcid, cpu, 0, 0, 2, false, {}});
}

void Mmu::held(unsigned cpu, const std::function<void(const TlbHeld&)>& fn) const { tlbs_[cpu].each(fn); }

}  // namespace vmref::impl::x86_64
