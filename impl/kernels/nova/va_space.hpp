// The VA allocator of one nova VMM (spec/kernels/nova.md §4 step 3, choice N-C4): VFNs
// [0, pages) handed out as ranges at a fixed start or at the lowest fit. It keeps the
// allocations and the free gaps between them, both ordered by VFN, so the lowest fit is
// the first gap long enough (one step when the space fills from the bottom, as it
// usually does) and a release merges the gap with its neighbours.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>
#include <optional>

namespace vmref::nova {

class VaSpace {
 public:
  using Vfn = std::uint64_t;
  /// VFNs [0, pages), all free.
  explicit VaSpace(std::uint64_t pages = 0) {
    if (pages) gaps_[0] = pages;
  }
  /// The live allocations: first VFN -> pages.
  const std::map<Vfn, std::uint64_t>& allocations() const { return live_; }
  /// Whether [start, start + pages) lies in one free gap.
  bool is_free(Vfn start, std::uint64_t pages) const {
    auto g = gap_holding(start);
    return g != gaps_.end() && start + pages <= g->first + g->second;
  }
  /// The lowest start of `pages` free VFNs, or nullopt.
  std::optional<Vfn> lowest_fit(std::uint64_t pages) const {
    for (const auto& [start, len] : gaps_)
      if (len >= pages) return start;
    return std::nullopt;
  }
  /// Allocates [start, start + pages), which must be free (is_free).
  void take(Vfn start, std::uint64_t pages) {
    auto g = gap_holding(start);
    const Vfn gap_start = g->first, gap_end = g->first + g->second;
    gaps_.erase(g);
    if (gap_start < start) gaps_[gap_start] = start - gap_start;
    if (start + pages < gap_end) gaps_[start + pages] = gap_end - (start + pages);
    live_[start] = pages;
  }
  /// Frees the allocation starting at `start` (if any), merging the free neighbours.
  void release(Vfn start) {
    auto a = live_.find(start);
    if (a == live_.end()) return;
    Vfn lo = start, hi = start + a->second;
    live_.erase(a);
    auto next = gaps_.find(hi);
    if (next != gaps_.end()) {
      hi += next->second;
      gaps_.erase(next);
    }
    auto prev = gaps_.lower_bound(lo);
    if (prev != gaps_.begin() && std::prev(prev)->first + std::prev(prev)->second == lo) {
      --prev;
      lo = prev->first;
      gaps_.erase(prev);
    }
    gaps_[lo] = hi - lo;
  }

 private:
  std::map<Vfn, std::uint64_t>::const_iterator gap_holding(Vfn vfn) const {
    auto g = gaps_.upper_bound(vfn);
    if (g == gaps_.begin()) return gaps_.end();
    --g;
    return vfn < g->first + g->second ? g : gaps_.end();
  }
  std::map<Vfn, std::uint64_t> live_, gaps_;
};

}  // namespace vmref::nova
