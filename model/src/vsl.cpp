#include "vmref/model/vsl.hpp"

namespace vmref::model {

const Vseg* Vsl::find(Va va) const { return const_cast<Vsl*>(this)->find(va); }

Vseg* Vsl::find(Va va) {
  // Walk back from the first vseg starting above va. Vsegs are disjoint in a sane VSL,
  // so the first hit ends the walk; an overlapping VSL (INV-VSL-1) is still answered.
  auto it = map_.upper_bound(va);
  while (it != map_.begin()) {
    --it;
    if (it->second.contains(va)) return &it->second;
    if (!overlaps_) return nullptr;
  }
  return nullptr;
}

std::vector<const Vseg*> Vsl::overlapping(Va start, Va end) const {
  std::vector<const Vseg*> out;
  auto it = map_.lower_bound(start);
  // The vseg just below `start` may reach into the range (several if overlapping).
  auto back = it;
  while (back != map_.begin()) {
    --back;
    if (back->second.end > start) out.insert(out.begin(), &back->second);
    if (!overlaps_) break;
  }
  for (; it != map_.end() && it->first < end; ++it) out.push_back(&it->second);
  return out;
}

void Vsl::split_at(Va va, std::uint64_t page_size) {
  Vseg* v = find(va);
  if (!v || v->start == va) return;
  Vseg high = *v;
  high.start = va;
  high.pgoff = v->pgoff + (va - v->start) / page_size;
  v->end = va;
  map_.emplace(high.start, high);
}

std::vector<Vseg> Vsl::remove_range(Va start, Va end, std::uint64_t page_size) {
  split_at(start, page_size);
  split_at(end, page_size);
  std::vector<Vseg> removed;
  for (auto it = map_.lower_bound(start); it != map_.end() && it->first < end;) {
    removed.push_back(it->second);
    it = map_.erase(it);
  }
  return removed;
}

void Vsl::insert(const Vseg& v) {
  if (any_overlap(v.start, v.end)) overlaps_ = true;
  map_.emplace(v.start, v);
}

bool Vsl::erase(Va start) {
  auto it = map_.find(start);
  if (it == map_.end()) return false;
  map_.erase(it);
  return true;
}

Vseg* Vsl::ending_at(Va va) {
  Vseg* v = va ? find(va - 1) : nullptr;
  return v && v->end == va ? v : nullptr;
}

Vseg* Vsl::starting_at(Va va) {
  auto it = map_.find(va);
  return it == map_.end() ? nullptr : &it->second;
}

const Vseg* Vsl::next_from(Va va) const {
  auto it = map_.lower_bound(va);
  return it == map_.end() ? nullptr : &it->second;
}

const Vseg* Vsl::prev_before(Va va) const {
  auto it = map_.lower_bound(va);
  if (it == map_.begin()) return nullptr;
  return &std::prev(it)->second;
}

}  // namespace vmref::model
