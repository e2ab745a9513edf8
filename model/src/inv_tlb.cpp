// INV-TLB-*: flush before reuse (spec/vmm.md §4.5). A CPU's may-hold set must never
// contain a translation that the current page tables and frame states make stale.
#include "core_invariants.hpp"

namespace vmref::model {

namespace {
std::string held_at(const Model& m, std::size_t cpu, Asid as, Vpn vpn) {
  return "cpu " + std::to_string(cpu) + " may hold as " + std::to_string(as) + " va " +
         hex(vpn << m.page_shift());
}

/// Calls fn(cpu, as, vpn, held) for every may-hold entry in the scope's ranges.
template <class Fn>
void each_held(const CheckScope& sc, Fn fn) {
  const auto& cpus = sc.m.cpus();
  for (std::size_t c = 0; c < cpus.size(); ++c) {
    const auto& entries = cpus[c].stale();
    auto visit = [&](auto it, auto stop) {
      for (; it != stop; ++it)
        for (const Held& h : it->second) fn(c, it->first.first, it->first.second, h);
    };
    if (sc.full || sc.d.all) {
      visit(entries.begin(), entries.end());
      continue;
    }
    for (const Delta::Range& r : sc.ranges) {
      auto lo = entries.lower_bound({r.as, r.first});
      auto hi = r.first + r.count < r.first ? entries.upper_bound({r.as, UINT64_MAX})
                                            : entries.lower_bound({r.as, r.first + r.count});
      visit(lo, hi);
    }
  }
}

const Pte* pte_at(const Model& m, Asid as, Vpn vpn) {
  const AddressSpace* s = m.space(as);
  if (!s) return nullptr;
  auto it = s->gpt.find(vpn);
  return it == s->gpt.end() ? nullptr : &it->second;
}
}  // namespace

void check_tlb_1(const CheckScope& sc, std::vector<Violation>& out) {
  const auto& idx = sc.m.held_index();
  for (FrameId f : sc.frames()) {
    if (f >= idx.size() || idx[f] == 0) continue;
    const Frame& fr = sc.m.frames()[f];
    if (fr.allocated && !fr.held_at_alloc) continue;  // every entry reaches this allocation
    // A may-hold entry reaches the allocation it was filled from: one of a frame that was
    // freed, or freed and allocated again (even within one event group), is stale.
    auto gone = [&](const Held& h) { return h.frame == f && (!fr.allocated || h.generation != fr.generation); };
    const auto& cpus = sc.m.cpus();
    for (std::size_t c = 0; c < cpus.size(); ++c)
      for (const auto& [key, hs] : cpus[c].stale())
        for (const Held& h : hs)
          if (gone(h))
            out.push_back({"INV-TLB-1", held_at(sc.m, c, key.first, key.second) + " -> frame " + std::to_string(f) +
                                            (fr.allocated ? ", which was freed and allocated again without a flush"
                                                          : ", which was freed without a flush")});
  }
}

void check_tlb_2(const CheckScope& sc, std::vector<Violation>& out) {
  each_held(sc, [&](std::size_t c, Asid as, Vpn vpn, const Held& h) {
    const Pte* p = pte_at(sc.m, as, vpn);
    if (p && p->frame != h.frame)
      out.push_back({"INV-TLB-2", held_at(sc.m, c, as, vpn) + " -> frame " + std::to_string(h.frame) +
                                      " but the PTE now maps frame " + std::to_string(p->frame) +
                                      " (remapped without a flush)"});
  });
}

void check_tlb_3(const CheckScope& sc, std::vector<Violation>& out) {
  each_held(sc, [&](std::size_t c, Asid as, Vpn vpn, const Held& h) {
    const Pte* p = pte_at(sc.m, as, vpn);
    if (p && p->frame == h.frame && !h.prot.subset_of(p->prot))
      out.push_back({"INV-TLB-3", held_at(sc.m, c, as, vpn) + " with rights " + h.prot.str() +
                                      " but the PTE now grants " + p->prot.str() +
                                      " (rights reduced without a flush)"});
  });
}

void check_tlb_4(const CheckScope& sc, std::vector<Violation>& out) {
  for (const Delta::Unflushed& u : sc.d.released)
    out.push_back({"INV-TLB-4", "lock '" + u.what + "' released while " + held_at(sc.m, u.cpu, u.as, u.vpn) +
                                    ", changed under it and neither flushed nor marked pending"});
}

void check_tlb_5(const CheckScope& sc, std::vector<Violation>& out) {
  for (const Delta::Unflushed& u : sc.d.returned)
    out.push_back({"INV-TLB-5", u.what + " returned while " + held_at(sc.m, u.cpu, u.as, u.vpn) +
                                    ", a translation it removed"});
}

namespace {
std::string use_str(const TagUse& u) {
  std::string s = "as " + std::to_string(u.as);
  if (u.root != kNoFrame) s += " root table page " + std::to_string(u.root) + " (allocation " + std::to_string(u.root_generation) + ")";
  return s;
}
}  // namespace

void check_tlb_6(const CheckScope& sc, std::vector<Violation>& out) {
  for (const Delta::Retag& r : sc.d.retagged)
    out.push_back({"INV-TLB-6", "cpu " + std::to_string(r.cpu) + " loads " + use_str(r.now) + " under tag " +
                                    std::to_string(r.tag) + " without a flush, while the tag may still hold translations of " +
                                    use_str(r.was)});
}

}  // namespace vmref::model
