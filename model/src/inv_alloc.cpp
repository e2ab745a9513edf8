// INV-ALLOC-*: free/zombie-list safety of size-class VA allocators (spec/vmm.md §4.6).
#include <algorithm>

#include "core_invariants.hpp"

namespace vmref::model {

namespace {
std::string rng(Asid as, const VaRange& r) {
  return "as " + std::to_string(as) + " range [" + hex(r.start) + ", " + hex(r.end) + ")";
}
}  // namespace

void check_alloc_1(const CheckScope& sc, std::vector<Violation>& out) {
  for (Asid as : sc.spaces()) {
    const AddressSpace& s = *sc.m.space(as);
    for (const auto& [cls, list] : s.va_lists)
      for (const VaRange& r : list) {
        auto it = s.gpt.lower_bound(r.start >> sc.m.page_shift());
        if (it != s.gpt.end() && (it->first << sc.m.page_shift()) < r.end)
          out.push_back({"INV-ALLOC-1", rng(as, r) + " on list " + std::to_string(cls) +
                                            " still has a valid PTE at " + hex(it->first << sc.m.page_shift())});
      }
  }
}

void check_alloc_2(const CheckScope& sc, std::vector<Violation>& out) {
  for (Asid as : sc.spaces()) {
    const AddressSpace& s = *sc.m.space(as);
    for (const auto& [cls, list] : s.va_lists)
      for (const VaRange& r : list)
        if (s.vsl.any_overlap(r.start, r.end))
          out.push_back({"INV-ALLOC-2", rng(as, r) + " on list " + std::to_string(cls) + " overlaps a live vseg"});
  }
}

void check_alloc_3(const CheckScope& sc, std::vector<Violation>& out) {
  for (Asid as : sc.spaces()) {
    std::vector<std::pair<VaRange, std::uint64_t>> all;
    for (const auto& [cls, list] : sc.m.space(as)->va_lists)
      for (const VaRange& r : list) all.push_back({r, cls});
    std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.first.start < b.first.start; });
    for (std::size_t i = 1; i < all.size(); ++i)
      if (all[i].first.start < all[i - 1].first.end)
        out.push_back({"INV-ALLOC-3", rng(as, all[i].first) + " on list " + std::to_string(all[i].second) +
                                          " overlaps " + rng(as, all[i - 1].first) + " on list " +
                                          std::to_string(all[i - 1].second)});
  }
}

void check_alloc_4(const CheckScope& sc, std::vector<Violation>& out) {
  for (const Delta::Reuse& r : sc.d.reuses)
    if (r.list_class != r.request_class)
      out.push_back({"INV-ALLOC-4", "a range from list " + std::to_string(r.list_class) +
                                        " served a request of size class " + std::to_string(r.request_class)});
}

}  // namespace vmref::model
