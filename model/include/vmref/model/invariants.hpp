// Invariant checking: what a checker looks at (the event group's delta, or the whole
// state) and the driver that runs the profile's invariants (registry.hpp) after an event.
#pragma once

#include <string>
#include <vector>

#include "vmref/model/model.hpp"
#include "vmref/model/registry.hpp"
#include "vmref/trace/hex.hpp"

namespace vmref::model {

/// One broken invariant: its ID (e.g. "INV-COW-1") and what was seen.
struct Violation {
  std::string id;
  std::string message;
};

/// What a checker looks at: the last event's Delta, or everything when `full`.
class CheckScope {
 public:
  CheckScope(const Model& m, bool full);
  const Model& m;
  const Delta& d;
  bool full;
  /// The delta's ranges sorted by (as, first) with overlapping/adjacent ones merged.
  std::vector<Delta::Range> ranges;
  /// Calls fn(as, lo, hi) for each pair of neighbouring vsegs (lo below hi) and
  /// fn(as, v, nullptr) for each single vseg that the scope covers.
  template <class Fn> void each_vseg(Fn fn) const;
  /// Address spaces whose VSL / lists must be checked.
  std::vector<Asid> spaces() const;
  /// Calls fn(as, vpn, pte) for every valid PTE the scope covers.
  template <class Fn> void each_pte(Fn fn) const;
  /// Frames the scope covers (deduplicated, valid ids).
  std::vector<FrameId> frames() const;
};

/// Runs every invariant of the model's profile (the core's and its kernels') over the
/// last delta (all state when `full`). Appends violations to `out`; returns how many
/// invariant checks ran.
std::size_t check_invariants(const Model& m, bool full, std::vector<Violation>& out);

using trace::hex;

template <class Fn>
void CheckScope::each_pte(Fn fn) const {
  if (full || d.all) {
    for (const auto& [as, s] : m.spaces())
      for (const auto& [vpn, p] : s.gpt) fn(as, vpn, p);
    return;
  }
  for (const Delta::Range& r : ranges) {
    const AddressSpace* s = m.space(r.as);
    if (!s) continue;
    if (r.count == 1) {
      if (auto it = s->gpt.find(r.first); it != s->gpt.end()) fn(r.as, it->first, it->second);
      continue;
    }
    for (auto it = s->gpt.lower_bound(r.first); it != s->gpt.end() && it->first - r.first < r.count; ++it)
      fn(r.as, it->first, it->second);
  }
}

template <class Fn>
void CheckScope::each_vseg(Fn fn) const {
  auto walk = [&](Asid as, const Vsl& vsl, Va lo, Va hi) {
    auto it = vsl.map().lower_bound(lo);
    if (it != vsl.map().begin()) --it;  // the vseg below may reach into the range
    const Vseg* prev = nullptr;
    for (; it != vsl.map().end() && (it->first < hi || prev == nullptr); ++it) {
      fn(as, it->second, nullptr);
      if (prev) fn(as, *prev, &it->second);
      if (!prev || it->second.end > prev->end) prev = &it->second;
      if (it->first >= hi) break;
    }
  };
  if (full || d.all) {
    for (const auto& [as, s] : m.spaces()) walk(as, s.vsl, 0, UINT64_MAX);
    return;
  }
  for (const Delta::Range& r : ranges) {
    const AddressSpace* s = m.space(r.as);
    if (!s) continue;
    Va lo = r.first << m.page_shift();
    Va hi = r.first + r.count < r.first || (r.first + r.count) >= (UINT64_MAX >> m.page_shift())
                ? UINT64_MAX
                : (r.first + r.count) << m.page_shift();
    walk(r.as, s->vsl, lo, hi);
  }
}

}  // namespace vmref::model
