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
  if (f == kZeroFrame) {
    return;  // zero-page mappings are covered per PTE below
  }
  if (fr.mapcount() < 2 && !fr.cached) return;
  for (auto [as, vpn] : fr.mappers) {
    const AddressSpace* s = m.space(as);
    auto it = s->gpt.find(vpn);
    const Vseg* v = s->vsl.find(vpn << m.page_shift());
    if (it != s->gpt.end() && it->second.prot.w && v && !v->shared)
      out.push_back({"INV-COW-2", where(m, as, vpn) + ": writable private PTE maps frame " +
                                      std::to_string(f) + " that has " + std::to_string(fr.mapcount()) +
                                      " mappings" + (fr.cached ? " and a page-cache reference" : "")});
  }
}
}  // namespace

void check_cow_2(const CheckScope& sc, std::vector<Violation>& out) {
  sc.each_pte([&](Asid as, Vpn vpn, const Pte& p) {
    if (p.frame == kZeroFrame && p.prot.w)
      out.push_back({"INV-COW-2", where(sc.m, as, vpn) + ": the zero page is mapped writable"});
  });
  for (FrameId f : sc.frames())
    if (sc.m.frames()[f].allocated) cow2_frame(sc.m, f, out);
}

void check_cow_3(const CheckScope& sc, std::vector<Violation>& out) {
  for (FrameId f : sc.frames()) {
    const Frame& fr = sc.m.frames()[f];
    if (f == kZeroFrame || fr.pins.empty()) continue;
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
