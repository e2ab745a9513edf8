// VMM core: the mermap over real tables (profiles.md §4). The same allocator rules as the
// model (MermapRules: fixed / rfc / broken variants), kernel PTEs (U/S = 0) written with
// the engine, and the reset path's local flush as INVPCID type 2 on that CPU (x86
// arch_mermap_flush_tlb = __flush_tlb_all()).
#include "vmm_internal.hpp"

namespace vmref::impl {

using namespace vmref::model;

namespace {
unsigned need_cpu(const Event& e, unsigned cpus) {
  if (e.cpu < 0 || static_cast<unsigned>(e.cpu) >= cpus) throw std::invalid_argument("cpu: out of range");
  return static_cast<unsigned>(e.cpu);
}
}  // namespace

void Vmm::release_mermap(int cpu, Asid as, Va lo, Va hi) {
  std::erase_if(mermap_pending_, [&](const MermapPending& p) {
    bool hit = (cpu < 0 || p.cpu == static_cast<unsigned>(cpu)) && (as == 0 || p.as == as) && p.va >= lo && p.va < hi;
    if (hit) {
      if (pages_[p.pfn].gather) --pages_[p.pfn].gather;
      put(p.pfn);  // the reference the PTE held moved to the pending flush
    }
    return hit;
  });
}

void Vmm::mermap_clear(Space& s, unsigned cpu, Va lo, Va hi) {
  if (hi <= lo) return;
  s.table.unmap(lo, hi - lo, [&](const Mapping& m) {
    std::uint64_t pfn = m.pa >> kPageShift;
    --pages_[pfn].mapcount;
    ++pages_[pfn].gather;
    mermap_pending_.push_back({cpu, s.asid, m.va, pfn});
  });
}

Outcome Vmm::mermap_prepare(const Event& e) {
  Space& s = space_of(e.as);
  const MermapRules& r = profile_.mermap;
  if (!r.enabled) throw Unsupported("op", "mermap events need the mermap profile");
  if (s.mermap.prepared) return {};
  s.mermap.prepared = true;
  s.mermap.cpus.assign(mmu_.cpus(), MermapCpu{});
  Va region = r.region_pages * kPage;
  for (unsigned c = 0; c < mmu_.cpus(); ++c) {
    s.mermap.cpus[c].next_addr = r.base + c * region;
    s.mermap.cpus[c].slots.assign(r.slots, MermapSlot{});
  }
  if (!find(s, r.base)) {
    Vseg v;
    v.start = r.base;
    v.end = r.base + mmu_.cpus() * region;
    v.prot = {true, true, false};
    v.kind = Kind::kernel;
    v.name = "[mermap]";
    v.pgoff = r.base >> kPageShift;
    vsl_insert(s, v);
  }
  return {};
}

std::optional<std::size_t> Vmm::mermap_alloc(Space& s, unsigned cpu, std::uint64_t size, bool reserve) {
  const MermapRules& r = profile_.mermap;
  MermapCpu& mc = s.mermap.cpus[cpu];
  Va cpu_base = r.base + cpu * r.region_pages * kPage, cpu_end = cpu_base + r.region_pages * kPage;
  if (reserve) {
    if (size != kPage) return std::nullopt;
  } else if (r.keep_last_page) {
    cpu_end -= kPage;
  }
  if (mc.next_addr + size > cpu_end) {
    Va new_next = cpu_base;
    for (const MermapSlot& sl : mc.slots)
      if (sl.in_use && r.reset_after_live) new_next = std::max(new_next, sl.end);
    if (r.bound_fix && new_next > cpu_end) return std::nullopt;
    if (size > cpu_end - new_next) return std::nullopt;  // unsigned, as posted
    if (r.flush_on_reset) {
      mmu_.invalidate_all(cpu);
      ++s.mermap.flushes;
      release_mermap(static_cast<int>(cpu), 0, 0, UINT64_MAX);
    }
    mc.next_addr = new_next;
  }
  std::size_t free_slots = 0;
  for (const MermapSlot& sl : mc.slots) free_slots += !sl.in_use;
  if (free_slots == 0 || (r.reserve_slot_fix && !reserve && free_slots == 1)) return std::nullopt;
  for (std::size_t i = 0; i < mc.slots.size(); ++i)
    if (!mc.slots[i].in_use) {
      mc.slots[i] = {true, reserve, mc.next_addr, mc.next_addr + size, ""};
      mc.next_addr += size;
      return i;
    }
  return std::nullopt;
}

Outcome Vmm::mermap_get(const Event& e) {
  Space& s = space_of(e.as);
  unsigned cpu = need_cpu(e, mmu_.cpus());
  const MermapRules& r = profile_.mermap;
  if (!r.enabled) throw Unsupported("op", "mermap events need the mermap profile");
  if (mmu_.current(cpu) != s.ctx) throw std::invalid_argument("cpu: mermap_get runs in a task of the mm");
  if (e.label.empty() || s.mermap.handles.count(e.label)) throw std::invalid_argument("handle: missing or reused");
  if (!s.mermap.prepared || e.len > r.region_pages * kPage) return {};
  std::uint64_t size = page_round(e.len);
  ++s.mermap.migrate_disabled;
  auto slot = mermap_alloc(s, cpu, size, e.reserve);
  if (!slot) {
    --s.mermap.migrate_disabled;
    return {};
  }
  MermapSlot& sl = s.mermap.cpus[cpu].slots[*slot];
  LeafAttrs a;
  a.rights = {e.prot.w, false, e.prot.x};  // a kernel mapping: U/S = 0
  for (std::uint64_t i = 0; i < size / kPage; ++i) {
    if (e.fail_after && i == *e.fail_after) {
      sl.in_use = false;
      if (r.error_path_fix) {
        mermap_clear(s, cpu, sl.base, sl.base + i * kPage);
        --s.mermap.migrate_disabled;
      }
      return {};
    }
    auto f = alloc_data();
    if (!f) throw std::invalid_argument("len: no free frame to stand for the caller's page");
    set_pte(s, sl.base + i * kPage, *f, a);
  }
  sl.handle = e.label;
  s.mermap.handles[e.label] = {static_cast<int>(cpu), *slot};
  return {Err::ok, sl.base};
}

Outcome Vmm::mermap_put(const Event& e) {
  Space& s = space_of(e.as);
  unsigned cpu = need_cpu(e, mmu_.cpus());
  auto h = s.mermap.handles.find(e.label);
  if (h == s.mermap.handles.end() || h->second.first != static_cast<int>(cpu))
    throw std::invalid_argument("handle: unknown, or put on another CPU than its get");
  MermapSlot& sl = s.mermap.cpus[cpu].slots[h->second.second];
  mermap_clear(s, cpu, sl.base, sl.end);  // sentinels back; no flush
  sl.in_use = false;
  sl.handle.clear();
  s.mermap.handles.erase(h);
  if (s.mermap.migrate_disabled) --s.mermap.migrate_disabled;
  return {};
}

Outcome Vmm::mermap_teardown(const Event& e) {
  Space& s = space_of(e.as);
  unsigned cpu = need_cpu(e, mmu_.cpus());
  if (!s.mermap.prepared) return {};
  bool warned = false;
  for (std::size_t c = 0; c < s.mermap.cpus.size(); ++c)
    for (const MermapSlot& sl : s.mermap.cpus[profile_.mermap.teardown_fix ? c : cpu].slots) warned = warned || sl.in_use;
  s.mermap.prepared = false;
  s.mermap.cpus.clear();
  s.mermap.handles.clear();
  return {Err::ok, warned ? 1u : 0u};
}

}  // namespace vmref::impl
