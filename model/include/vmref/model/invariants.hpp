// Invariant checkers, one per ID defined in spec/vmm.md §4.
#pragma once

#include <string>
#include <vector>

#include "vmref/model/model.hpp"

namespace vmref::model {

/// One broken invariant: its ID (e.g. "INV-COW-1") and what was seen.
struct Violation {
  std::string id;
  std::string message;
};

/// Catalog entry: the ID and the one-line rule from spec/vmm.md §4.
struct InvariantInfo {
  const char* id;
  const char* rule;
};
/// Every invariant the model checks, in spec order.
const std::vector<InvariantInfo>& invariant_catalog();

/// What a checker looks at: the last event's Delta, or everything when `full`.
struct CheckScope {
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

using Checker = void (*)(const CheckScope&, std::vector<Violation>&);
/// The checker for each catalog ID, same order as invariant_catalog().
const std::vector<Checker>& invariant_checkers();

/// Runs every checker over the model's last delta (all state when `full`).
/// Appends violations to `out`; returns how many invariant checks ran.
std::size_t check_invariants(const Model& m, bool full, std::vector<Violation>& out);

// Individual checkers (model/src/inv_*.cpp).
void check_vsl_1(const CheckScope&, std::vector<Violation>&);
void check_vsl_2(const CheckScope&, std::vector<Violation>&);
void check_gpt_1(const CheckScope&, std::vector<Violation>&);
void check_gpt_2(const CheckScope&, std::vector<Violation>&);
void check_gpt_3(const CheckScope&, std::vector<Violation>&);
void check_frame_1(const CheckScope&, std::vector<Violation>&);
void check_frame_2(const CheckScope&, std::vector<Violation>&);
void check_cow_1(const CheckScope&, std::vector<Violation>&);
void check_cow_2(const CheckScope&, std::vector<Violation>&);
void check_tlb_1(const CheckScope&, std::vector<Violation>&);
void check_tlb_2(const CheckScope&, std::vector<Violation>&);
void check_tlb_3(const CheckScope&, std::vector<Violation>&);
void check_alloc_1(const CheckScope&, std::vector<Violation>&);
void check_alloc_2(const CheckScope&, std::vector<Violation>&);
void check_alloc_3(const CheckScope&, std::vector<Violation>&);
void check_alloc_4(const CheckScope&, std::vector<Violation>&);
void check_mermap_1(const CheckScope&, std::vector<Violation>&);
void check_mermap_2(const CheckScope&, std::vector<Violation>&);
void check_mermap_3(const CheckScope&, std::vector<Violation>&);
void check_mermap_4(const CheckScope&, std::vector<Violation>&);
void check_mermap_5(const CheckScope&, std::vector<Violation>&);
void check_mermap_6(const CheckScope&, std::vector<Violation>&);
void check_mermap_7(const CheckScope&, std::vector<Violation>&);
void check_zephyr_1(const CheckScope&, std::vector<Violation>&);
void check_zephyr_2(const CheckScope&, std::vector<Violation>&);
void check_zephyr_3(const CheckScope&, std::vector<Violation>&);
void check_zephyr_4(const CheckScope&, std::vector<Violation>&);
void check_zephyr_5(const CheckScope&, std::vector<Violation>&);
void check_zephyr_6(const CheckScope&, std::vector<Violation>&);
void check_zephyr_7(const CheckScope&, std::vector<Violation>&);
void check_zephyr_8(const CheckScope&, std::vector<Violation>&);
void check_almos_1(const CheckScope&, std::vector<Violation>&);
void check_almos_2(const CheckScope&, std::vector<Violation>&);
void check_almos_3(const CheckScope&, std::vector<Violation>&);
void check_almos_4(const CheckScope&, std::vector<Violation>&);
void check_almos_5(const CheckScope&, std::vector<Violation>&);
void check_almos_6(const CheckScope&, std::vector<Violation>&);
void check_almos_7(const CheckScope&, std::vector<Violation>&);

/// "0x1234" formatting used by every report line.
std::string hex(std::uint64_t v);

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
