// Catalog, scope resolution and the driver that runs every checker after an event.
#include <algorithm>
#include <cstdio>
#include <tuple>

#include "vmref/model/invariants.hpp"

namespace vmref::model {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

const std::vector<InvariantInfo>& invariant_catalog() {
  static const std::vector<InvariantInfo> k{
      {"INV-VSL-1", "vsegs of one address space are pairwise disjoint"},
      {"INV-VSL-2", "every vseg is non-empty, page aligned and below the top of user space"},
      {"INV-GPT-1", "every valid PTE lies inside a vseg of its address space"},
      {"INV-GPT-2", "no valid PTE grants a right its vseg lacks"},
      {"INV-GPT-3", "every valid PTE maps an allocated frame"},
      {"INV-FRAME-1", "reference count = mappings + pins + page-cache + deferred-flush references"},
      {"INV-FRAME-2", "a frame is free if and only if its reference count is 0"},
      {"INV-COW-1", "a COW PTE is never writable"},
      {"INV-COW-2", "a writable PTE of a private vseg maps a frame nothing else maps or caches"},
      {"INV-TLB-1", "no CPU may hold a translation to a free frame"},
      {"INV-TLB-2", "no CPU may hold a translation to another frame than the VA's valid PTE"},
      {"INV-TLB-3", "no CPU may hold a right that the VA's valid PTE no longer grants"},
      {"INV-ALLOC-1", "a range on an allocator list has no valid PTE"},
      {"INV-ALLOC-2", "a range on an allocator list overlaps no live vseg"},
      {"INV-ALLOC-3", "a range sits on at most one allocator list, at most once"},
      {"INV-ALLOC-4", "a range taken from list k serves only a request of size class k"},
      {"INV-MERMAP-1", "every mermap allocation lies in its CPU's region, normal ones below the reserved last page"},
      {"INV-MERMAP-2", "live mermap allocations of one CPU are disjoint and at most as many as its slots"},
      {"INV-MERMAP-3", "mermap space is handed out again only after a local TLB flush following its put"},
      {"INV-MERMAP-4", "a reserved mermap get never fails while the task holds no other reserved allocation"},
      {"INV-MERMAP-5", "the task's migrate-disable depth equals its live mermap allocations"},
      {"INV-MERMAP-6", "mermap teardown warns whenever any CPU still has a live allocation"},
      {"INV-MERMAP-7", "no PTE of the mermap region lies outside a live allocation"},
      {"INV-ZEPHYR-1", "a Zephyr frame is in use iff it is MAPPED at one page whose PTE maps it back, and never BUSY between operations"},
      {"INV-ZEPHYR-2", "no frame is allocated for an on-demand page that was never touched"},
      {"INV-ZEPHYR-3", "the guard pages below and above each k_mem_map region are never mapped"},
      {"INV-ZEPHYR-4", "a pinned page stays loaded in a frame flagged PINNED (never evicted)"},
      {"INV-ZEPHYR-5", "a page's contents survive page out and page in"},
      {"INV-ZEPHYR-6", "a failed k_mem_map leaves the VA bitmap unchanged and keeps no frame or page"},
      {"INV-ZEPHYR-7", "each used backing-store slot belongs to one paged-out page; a fault on a page in the store never lacks a slot"},
      {"INV-ZEPHYR-8", "the VA bitmap marks exactly the reserved pages, the kernel image and each region with its guards"},
      {"INV-ALMOS-1", "ALMOS vsegs are disjoint and each lies in its zone (a STACK vseg in its slot minus the guard)"},
      {"INV-ALMOS-2", "a stack bitmap bit is set iff its slot holds a STACK vseg; no GPT copy maps a slot's guard page"},
      {"INV-ALMOS-3", "live and zombie MMAP blocks tile the zone below first_free_vpn, which only grows between resets"},
      {"INV-ALMOS-4", "a cluster's VSL/GPT copy is a subset of the reference; public entries equal the reference's"},
      {"INV-ALMOS-5", "a false page fault allocates no page and leaves the reference GPT unchanged"},
      {"INV-ALMOS-6", "COW entries are never writable, forks = COW sharers - 1, and a writable entry's page is not shared"},
      {"INV-ALMOS-7", "after vmm_user_reset no vseg, PTE, stack slot, MMAP block or zombie remains"},
  };
  return k;
}

const std::vector<Checker>& invariant_checkers() {
  static const std::vector<Checker> k{
      check_vsl_1, check_vsl_2, check_gpt_1, check_gpt_2, check_gpt_3, check_frame_1,
      check_frame_2, check_cow_1, check_cow_2, check_tlb_1, check_tlb_2, check_tlb_3,
      check_alloc_1, check_alloc_2, check_alloc_3, check_alloc_4,
      check_mermap_1, check_mermap_2, check_mermap_3, check_mermap_4, check_mermap_5, check_mermap_6, check_mermap_7,
      check_zephyr_1, check_zephyr_2, check_zephyr_3, check_zephyr_4, check_zephyr_5, check_zephyr_6, check_zephyr_7,
      check_zephyr_8, check_almos_1, check_almos_2, check_almos_3, check_almos_4, check_almos_5, check_almos_6,
      check_almos_7};
  return k;
}

std::vector<Asid> CheckScope::spaces() const {
  std::vector<Asid> out;
  if (full || d.all) {
    for (const auto& [as, s] : m.spaces()) out.push_back(as);
    return out;
  }
  out = d.spaces;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  std::erase_if(out, [&](Asid a) { return m.space(a) == nullptr; });
  return out;
}

std::vector<FrameId> CheckScope::frames() const {
  std::vector<FrameId> out;
  if (full || d.all) {
    for (FrameId f = 0; f < m.frames().size(); ++f) out.push_back(f);
    return out;
  }
  out = d.frames;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  std::erase_if(out, [&](FrameId f) { return !m.frames().valid(f); });
  return out;
}

CheckScope::CheckScope(const Model& model, bool f) : m(model), d(model.delta()), full(f) {
  ranges = d.ranges;
  std::sort(ranges.begin(), ranges.end(),
            [](const Delta::Range& a, const Delta::Range& b) { return std::tie(a.as, a.first) < std::tie(b.as, b.first); });
  std::vector<Delta::Range> merged;
  for (const Delta::Range& r : ranges) {
    if (!merged.empty() && merged.back().as == r.as &&
        r.first - merged.back().first <= merged.back().count) {  // overlaps or touches
      Delta::Range& b = merged.back();
      std::uint64_t end = std::max(b.first + b.count < b.first ? UINT64_MAX : b.first + b.count,
                                   r.first + r.count < r.first ? UINT64_MAX : r.first + r.count);
      b.count = end - b.first;
      continue;
    }
    merged.push_back(r);
  }
  ranges = std::move(merged);
}

std::size_t check_invariants(const Model& m, bool full, std::vector<Violation>& out) {
  CheckScope scope(m, full);
  for (Checker c : invariant_checkers()) c(scope, out);
  return invariant_checkers().size();
}

}  // namespace vmref::model
