// INV-GPT-* and INV-COW-*: every valid PTE against its vseg, its frame and the frame's pins
// (spec/vmm.md §4.2, §4.4).
#include <algorithm>
#include <set>

#include "core_invariants.hpp"

namespace vmref::model {

namespace {
std::string where(const Model& m, Asid as, Vpn vpn) {
  return "as " + std::to_string(as) + " va " + hex(vpn << m.page_shift());
}
}  // namespace

void check_gpt_1(const CheckScope& sc, std::vector<Violation>& out) {
  sc.each_pte([&](Asid as, Vpn vpn, const Pte& p) {
    Va va = vpn << sc.m.page_shift();
    const Vseg* v = sc.m.space(as)->vsl.find(va);
    std::uint64_t size = sc.m.core().page_size << p.order;  // a huge leaf must fit whole
    if (!v || v->end - va < size)
      out.push_back({"INV-GPT-1", where(sc.m, as, vpn) + ": valid PTE outside every vseg"});
  });
}

void check_gpt_2(const CheckScope& sc, std::vector<Violation>& out) {
  sc.each_pte([&](Asid as, Vpn vpn, const Pte& p) {
    const Vseg* v = sc.m.space(as)->vsl.find(vpn << sc.m.page_shift());
    if (v && !p.prot.subset_of(sc.m.core().grantable(v->prot)))
      out.push_back({"INV-GPT-2", where(sc.m, as, vpn) + ": PTE grants " + p.prot.str() +
                                      " but its vseg only " + sc.m.core().grantable(v->prot).str()});
  });
}

void check_gpt_3(const CheckScope& sc, std::vector<Violation>& out) {
  std::set<std::pair<Asid, Vpn>> seen;  // a PTE found both by range and by frame is one finding
  auto check = [&](Asid as, Vpn vpn, const Pte& p) {
    const auto& frames = sc.m.frames();
    bool live = frames.valid(p.frame) && frames[p.frame].allocated;
    if (live && frames[p.frame].generation == p.generation) return;
    if (!seen.insert({as, vpn}).second) return;
    out.push_back({"INV-GPT-3", where(sc.m, as, vpn) + ": PTE maps frame " + std::to_string(p.frame) +
                                    (live ? ", which was freed and allocated again since the PTE was set"
                                          : ", which is free")});
  };
  sc.each_pte(check);
  if (sc.full || sc.d.all) return;  // each_pte saw every PTE already
  // A frame freed or reallocated by this event may still be named by PTEs outside the
  // touched ranges (mappings survive a reallocation: FrameTable::alloc).
  for (FrameId f : sc.frames()) {
    const Frame& fr = sc.m.frames()[f];
    if (fr.allocated && !fr.inherited) continue;  // the common case: no PTE can dangle
    for (auto [as, vpn] : fr.mappers) {
      const AddressSpace* s = sc.m.space(as);
      if (!s) continue;
      if (auto it = s->gpt.find(vpn); it != s->gpt.end()) check(as, vpn, it->second);
    }
  }
}

void check_gpt_4(const CheckScope& sc, std::vector<Violation>& out) {
  // A leaf of 2^k pages maps pages [page, page + 2^k) of its frame: all of them must be
  // the frame's, and the first aligned to 2^k, as the hardware takes the leaf's PA
  // aligned to its size (Intel SDM Vol 3A §4.5; a 2 MiB leaf over a 4 KiB frame maps
  // 511 pages the frame does not own).
  sc.each_pte([&](Asid as, Vpn vpn, const Pte& p) {
    const auto& frames = sc.m.frames();
    if (!frames.valid(p.frame)) return;
    std::uint64_t pages = std::uint64_t{1} << p.order, have = std::uint64_t{1} << frames[p.frame].order;
    if (p.page % pages == 0 && p.page < have && have - p.page >= pages) return;
    out.push_back({"INV-GPT-4", where(sc.m, as, vpn) + ": a leaf of " + std::to_string(pages) + " pages maps page " +
                                    std::to_string(p.page) + " onward of frame " + std::to_string(p.frame) + ", which has " +
                                    std::to_string(have) + (p.page % pages ? " (the offset is not aligned to the leaf)" : "")});
  });
}

void check_cow_1(const CheckScope& sc, std::vector<Violation>& out) {
  sc.each_pte([&](Asid as, Vpn vpn, const Pte& p) {
    if (p.cow && p.prot.w)
      out.push_back({"INV-COW-1", where(sc.m, as, vpn) + ": COW PTE is writable"});
  });
}

namespace {
/// A writable private mapping of `f` alongside any other user of the frame.
void cow2_frame(const Model& m, FrameId f, std::vector<Violation>& out) {
  const Frame& fr = m.frames()[f];
  if (fr.zero_page) return;  // zero-page mappings are covered per PTE below
  if (fr.mapcount() < 2 && !fr.cached) return;
  if (fr.order == 0) {  // one page: every mapping shares it
    for (auto [as, vpn] : fr.mappers) {
      const AddressSpace* s = m.space(as);
      auto it = s->gpt.find(vpn);
      const Vseg* v = s->vsl.find(vpn << m.page_shift());
      if (it != s->gpt.end() && it->second.prot.w && v && !v->shared)
        out.push_back({"INV-COW-2", where(m, as, vpn) + ": writable private PTE maps frame " + std::to_string(f) +
                                        " that has " + std::to_string(fr.mapcount()) + " mappings" +
                                        (fr.cached ? " and a page-cache reference" : "")});
    }
    return;
  }
  // Leaves share only the pages they both map: those of a compound frame may map
  // different ones (a split THP), so each use is the page range [lo, hi) it maps.
  struct Use { std::uint64_t lo, hi; Asid as; Vpn vpn; bool writable_private; };
  std::vector<Use> uses;
  for (auto [as, vpn] : fr.mappers) {
    const AddressSpace* s = m.space(as);
    auto it = s ? s->gpt.find(vpn) : Gpt::const_iterator{};
    if (!s || it == s->gpt.end()) continue;
    const Vseg* v = s->vsl.find(vpn << m.page_shift());
    const Pte& p = it->second;
    uses.push_back({p.page, p.page + (std::uint64_t{1} << p.order), as, vpn, p.prot.w && v && !v->shared});
  }
  std::sort(uses.begin(), uses.end(), [](const Use& a, const Use& b) { return a.lo < b.lo; });
  std::uint64_t reach = 0;  // the highest page any earlier use maps, plus one
  for (std::size_t i = 0; i < uses.size(); ++i) {
    const Use& u = uses[i];
    bool shared = (i > 0 && u.lo < reach) || (i + 1 < uses.size() && uses[i + 1].lo < u.hi);
    reach = std::max(reach, u.hi);
    if (!u.writable_private || !(shared || fr.cached)) continue;
    out.push_back({"INV-COW-2", where(m, u.as, u.vpn) + ": writable private PTE maps page " + std::to_string(u.lo) +
                                    " of frame " + std::to_string(f) +
                                    (shared ? ", which another PTE maps too" : "") +
                                    (fr.cached ? " and a page-cache reference holds" : "")});
  }
}
}  // namespace

void check_cow_2(const CheckScope& sc, std::vector<Violation>& out) {
  sc.each_pte([&](Asid as, Vpn vpn, const Pte& p) {
    if (sc.m.frames().valid(p.frame) && sc.m.frames()[p.frame].zero_page && p.prot.w)
      out.push_back({"INV-COW-2", where(sc.m, as, vpn) + ": " + (p.frame == kZeroFrame ? "the" : "the huge") +
                                      " zero page is mapped writable"});
  });
  for (FrameId f : sc.frames())
    if (sc.m.frames()[f].allocated) cow2_frame(sc.m, f, out);
}

void check_cow_3(const CheckScope& sc, std::vector<Violation>& out) {
  for (FrameId f : sc.frames()) {
    const Frame& fr = sc.m.frames()[f];
    if (fr.zero_page || fr.pins.empty()) continue;
    for (const auto& [as, vpn] : fr.mappers) {
      const AddressSpace* s = sc.m.space(as);
      auto it = s->gpt.find(vpn);
      const Vseg* v = s->vsl.find(vpn << sc.m.page_shift());
      if (it == s->gpt.end() || !it->second.prot.w || !v || v->shared) continue;
      Asid writer = as;  // a structured binding cannot be captured before C++20's P1091 (clang 14)
      auto other = std::find_if(fr.pins.begin(), fr.pins.end(), [&](const PinRef& p) { return p.as != writer; });
      if (other != fr.pins.end())
        out.push_back({"INV-COW-3", where(sc.m, as, vpn) + ": writable private PTE maps frame " + std::to_string(f) +
                                        ", which address space " + std::to_string(other->as) + " pinned at va " +
                                        hex(other->va) + (other->write ? " for writing" : " for reading") +
                                        " (COW must break before another address space writes it)"});
    }
  }
}

}  // namespace vmref::model
