#include "vmref/model/tlb.hpp"

#include <algorithm>

namespace vmref::model {

namespace {
void unindex(const std::vector<Held>& hs, std::vector<std::uint64_t>& idx) {
  for (const Held& h : hs)
    if (h.frame < idx.size() && idx[h.frame] > 0) --idx[h.frame];
}
}  // namespace

void CpuTlb::add_stale(Asid as, Vpn vpn, const Held& h, std::vector<std::uint64_t>& idx) {
  auto& v = stale_[{as, vpn}];
  if (std::find(v.begin(), v.end(), h) != v.end()) return;
  v.push_back(h);
  max_span_ = std::max<std::uint64_t>(max_span_, std::uint64_t{1} << h.order);
  if (h.frame >= idx.size()) idx.resize(h.frame + 1, 0);
  ++idx[h.frame];
}

void CpuTlb::add_stale_walk(const WalkKey& k, const WalkHeld& w) {
  auto& v = walks_[k];
  if (std::find(v.begin(), v.end(), w) == v.end()) v.push_back(w);
}

void CpuTlb::flush_walks(Asid as, Vpn first, std::uint64_t count) {
  Vpn last = count > UINT64_MAX - first ? UINT64_MAX : first + count;  // exclusive
  for (auto it = walks_.lower_bound({as, 0, 0}); it != walks_.end() && std::get<0>(it->first) == as;) {
    auto& v = it->second;
    Vpn lo = std::get<1>(it->first);
    std::erase_if(v, [&](const WalkHeld& w) { return lo < last && w.end > first; });
    it = v.empty() ? walks_.erase(it) : std::next(it);
  }
}

void CpuTlb::flush_range(Asid as, Vpn first, std::uint64_t count, bool with_global,
                         std::vector<std::uint64_t>& idx) {
  flush_walks(as, first, count);
  // A leaf keyed below `first` may still reach into the range (a huge page).
  Vpn from = first >= max_span_ - 1 ? first - (max_span_ - 1) : 0;
  Vpn last = count > UINT64_MAX - first ? UINT64_MAX : first + count;
  auto it = stale_.lower_bound({as, from});
  while (it != stale_.end() && it->first.first == as && it->first.second < last) {
    auto& v = it->second;
    Vpn at = it->first.second;
    auto keep = std::stable_partition(v.begin(), v.end(), [&](const Held& h) {
      bool overlaps = at + (std::uint64_t{1} << h.order) > first;
      return !overlaps || (h.global && !with_global);
    });
    unindex(std::vector<Held>(keep, v.end()), idx);
    v.erase(keep, v.end());
    it = v.empty() ? stale_.erase(it) : std::next(it);
  }
}

void CpuTlb::flush_asid(Asid as, bool with_global, std::vector<std::uint64_t>& idx) {
  flush_range(as, 0, UINT64_MAX, with_global, idx);  // walks of `as` go with it
  // A CPU running `as` may refill its translations at once; any other forgets them.
  if (as != current) loaded.erase(as);
  if (with_global && as != current) global_loaded.erase(as);
}

void CpuTlb::flush_all(std::vector<std::uint64_t>& idx) {
  for (auto& [k, v] : stale_) unindex(v, idx);
  stale_.clear();
  walks_.clear();
  loaded.clear();
  global_loaded.clear();
  if (current) {
    loaded.insert(current);
    global_loaded.insert(current);
  }
}

}  // namespace vmref::model
