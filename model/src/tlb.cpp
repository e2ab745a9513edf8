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
  if (h.frame >= idx.size()) idx.resize(h.frame + 1, 0);
  ++idx[h.frame];
}

void CpuTlb::flush_range(Asid as, Vpn first, std::uint64_t count, bool with_global,
                         std::vector<std::uint64_t>& idx) {
  auto it = stale_.lower_bound({as, first});
  while (it != stale_.end() && it->first.first == as && it->first.second - first < count) {
    auto& v = it->second;
    auto keep = std::stable_partition(v.begin(), v.end(), [&](const Held& h) { return h.global && !with_global; });
    unindex(std::vector<Held>(keep, v.end()), idx);
    v.erase(keep, v.end());
    it = v.empty() ? stale_.erase(it) : std::next(it);
  }
}

void CpuTlb::flush_asid(Asid as, bool with_global, std::vector<std::uint64_t>& idx) {
  flush_range(as, 0, UINT64_MAX, with_global, idx);
  // A CPU running `as` may refill its translations at once; any other forgets them.
  if (as != current) loaded.erase(as);
  if (with_global && as != current) global_loaded.erase(as);
}

void CpuTlb::flush_all(std::vector<std::uint64_t>& idx) {
  for (auto& [k, v] : stale_) unindex(v, idx);
  stale_.clear();
  loaded.clear();
  global_loaded.clear();
  if (current) {
    loaded.insert(current);
    global_loaded.insert(current);
  }
}

}  // namespace vmref::model
