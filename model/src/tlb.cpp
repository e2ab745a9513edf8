#include "vmref/model/tlb.hpp"

#include <algorithm>

namespace vmref::model {

namespace {
void unindex(const std::vector<Held>& hs, std::vector<std::uint64_t>& idx) {
  for (const Held& h : hs)
    if (h.frame < idx.size() && idx[h.frame] > 0) --idx[h.frame];
}

/// Removes the entries of `v` that `gone` selects, keeping the per-frame index right.
template <class Pred>
void drop_if(std::vector<Held>& v, Pred gone, std::vector<std::uint64_t>& idx) {
  auto keep = std::stable_partition(v.begin(), v.end(), [&](const Held& h) { return !gone(h); });
  unindex(std::vector<Held>(keep, v.end()), idx);
  v.erase(keep, v.end());
}

bool tag_matches(std::optional<Tag> want, Tag t) { return !want || *want == t; }
}  // namespace

void CpuTlb::bind(Tag t, const TagUse& u) {
  tags_[t] = u;
  tag_spaces_[t].insert(u.as);
  tags_of_[u.as].insert(t);
}

void CpuTlb::unbind(Tag t, Asid as) {
  if (auto of = tags_of_.find(as); of != tags_of_.end() && of->second.erase(t) && of->second.empty()) tags_of_.erase(of);
  auto sp = tag_spaces_.find(t);
  if (sp == tag_spaces_.end() || !sp->second.erase(as) || !sp->second.empty()) return;
  tag_spaces_.erase(sp);
  tags_.erase(t);  // the tag holds nothing: loading it for any root is safe again
}

void CpuTlb::unbind(Tag t) {
  auto sp = tag_spaces_.find(t);
  if (sp == tag_spaces_.end()) return;
  for (Asid as : std::set<Asid>(sp->second)) unbind(t, as);
}

std::optional<TagUse> CpuTlb::load_tag(Tag t, const TagUse& u, bool flush, std::vector<std::uint64_t>& idx) {
  std::optional<TagUse> reused;
  if (flush) {  // the load replaces whatever ran under the tag
    drop_tagged(t, idx);
    unbind(t);
  } else if (auto it = tags_.find(t); it != tags_.end() && !(it->second == u)) {
    reused = it->second;  // the old root's translations stay cached under the tag
  }
  bind(t, u);
  current = u.as;
  current_tag = t;
  global_loaded.insert(u.as);
  return reused;
}

void CpuTlb::load_space(Asid as, bool flush, std::vector<std::uint64_t>& idx) {
  if (flush) {
    drop_tagged(kSpaceTag, idx);
    loaded.clear();
  }
  loaded.insert(as);
  global_loaded.insert(as);
  current = as;
  current_tag = kSpaceTag;
}

void CpuTlb::drop_tagged(Tag t, std::vector<std::uint64_t>& idx) {
  for (auto it = stale_.begin(); it != stale_.end();) {
    drop_if(it->second, [&](const Held& h) { return !h.global && h.tag == t; }, idx);
    it = it->second.empty() ? stale_.erase(it) : std::next(it);
  }
  for (auto it = walks_.begin(); it != walks_.end();) {
    std::erase_if(it->second, [&](const WalkHeld& w) { return w.tag == t; });
    it = it->second.empty() ? walks_.erase(it) : std::next(it);
  }
}

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

void CpuTlb::flush_walks(Asid as, Vpn first, std::uint64_t count, std::optional<Tag> tag) {
  Vpn last = count > UINT64_MAX - first ? UINT64_MAX : first + count;  // exclusive
  for (auto it = walks_.lower_bound({as, 0, 0}); it != walks_.end() && std::get<0>(it->first) == as;) {
    auto& v = it->second;
    Vpn lo = std::get<1>(it->first);
    std::erase_if(v, [&](const WalkHeld& w) { return lo < last && w.end > first && tag_matches(tag, w.tag); });
    it = v.empty() ? walks_.erase(it) : std::next(it);
  }
}

void CpuTlb::flush_range(Asid as, Vpn first, std::uint64_t count, bool with_global,
                         std::vector<std::uint64_t>& idx, std::optional<Tag> tag) {
  flush_walks(as, first, count, tag);
  // A leaf keyed below `first` may still reach into the range (a huge page).
  Vpn from = first >= max_span_ - 1 ? first - (max_span_ - 1) : 0;
  Vpn last = count > UINT64_MAX - first ? UINT64_MAX : first + count;
  auto it = stale_.lower_bound({as, from});
  while (it != stale_.end() && it->first.first == as && it->first.second < last) {
    Vpn at = it->first.second;
    drop_if(it->second, [&](const Held& h) {
      bool overlaps = at + (std::uint64_t{1} << h.order) > first;
      return overlaps && (h.global ? with_global : tag_matches(tag, h.tag));
    }, idx);
    it = it->second.empty() ? stale_.erase(it) : std::next(it);
  }
}

void CpuTlb::flush_asid(Asid as, bool with_global, std::vector<std::uint64_t>& idx, std::optional<Tag> tag) {
  if (tag) {
    drop_tagged(*tag, idx);
    if (with_global) flush_range(as, 0, UINT64_MAX, true, idx, *tag);
    std::optional<TagUse> running;  // a CPU running under the tag refills it at once
    if (auto it = tags_.find(*tag); current && *tag == current_tag && it != tags_.end()) running = it->second;
    unbind(*tag);
    if (running) bind(*tag, *running);
    return;
  }
  flush_range(as, 0, UINT64_MAX, with_global, idx);  // walks of `as` go with it
  // A CPU running `as` may refill its translations at once; any other forgets them.
  if (as != current) loaded.erase(as);
  if (with_global && as != current) global_loaded.erase(as);
  if (auto it = tags_of_.find(as); it != tags_of_.end())
    for (Tag t : std::set<Tag>(it->second))
      if (as != current || t != current_tag) unbind(t, as);
}

void CpuTlb::flush_all(std::vector<std::uint64_t>& idx) {
  for (auto& [k, v] : stale_) unindex(v, idx);
  stale_.clear();
  walks_.clear();
  loaded.clear();
  global_loaded.clear();
  std::optional<TagUse> keep;
  if (auto it = tags_.find(current_tag); current && it != tags_.end()) keep = it->second;
  tags_.clear();
  tag_spaces_.clear();
  tags_of_.clear();
  if (!current) return;
  global_loaded.insert(current);
  if (keep) bind(current_tag, *keep);
  else loaded.insert(current);
}

}  // namespace vmref::model
