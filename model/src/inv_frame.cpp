// INV-FRAME-*: reference counts and the free state (spec/vmm.md §4.3).
#include "core_invariants.hpp"

namespace vmref::model {

void check_frame_1(const CheckScope& sc, std::vector<Violation>& out) {
  for (FrameId f : sc.frames()) {
    const Frame& fr = sc.m.frames()[f];
    if (fr.zero_page || !fr.allocated) continue;
    std::uint64_t expected = fr.mapcount() + fr.links.size() + fr.pins.size() + fr.mmu_gather + (fr.cached ? 1 : 0) +
                             fr.held_refs + (fr.fresh ? 1 : 0);
    if (fr.refcount != expected)
      out.push_back({"INV-FRAME-1", "frame " + std::to_string(f) + ": reference count " + std::to_string(fr.refcount) +
                                        " but " + std::to_string(fr.mapcount()) + " mappings + " +
                                        (fr.links.empty() ? "" : std::to_string(fr.links.size()) + " table links + ") +
                                        std::to_string(fr.pins.size()) + " pins + " + std::to_string(fr.mmu_gather) +
                                        " deferred + " + (fr.cached ? "1" : "0") + " cache + " +
                                        std::to_string(fr.held_refs) + " named" +
                                        (fr.fresh ? " + 1 allocation" : "") + " = " + std::to_string(expected)});
  }
}

void check_frame_2(const CheckScope& sc, std::vector<Violation>& out) {
  for (FrameId f : sc.frames()) {
    const Frame& fr = sc.m.frames()[f];
    if (fr.zero_page) {
      if (!fr.allocated) out.push_back({"INV-FRAME-2", "frame " + std::to_string(f) + ", a zero page, was freed"});
      continue;
    }
    if (fr.allocated && fr.refcount == 0)
      out.push_back({"INV-FRAME-2", "frame " + std::to_string(f) + " is allocated with reference count 0 (leaked)"});
    if (!fr.allocated && fr.refcount != 0)
      out.push_back({"INV-FRAME-2", "frame " + std::to_string(f) + " was freed with reference count " +
                                        std::to_string(fr.refcount)});
  }
}

}  // namespace vmref::model
