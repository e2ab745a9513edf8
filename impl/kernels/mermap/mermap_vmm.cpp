// mermap_mm_prepare, mermap_alloc, __mermap_get, mermap_put and mermap_mm_teardown as
// the RFC posts them (seed linux-mermap-rfc-review), each correction a flag of
// MermapParams (spec/kernels/mermap.md §5).
#include "mermap_vmm.hpp"

#include <algorithm>

#include "vmref/impl/registry.hpp"

namespace vmref::mermap {

using namespace vmref::impl;

const mm_mermap* MermapVmm::state(Asid as) const {
  auto it = mms_.find(as);
  return it == mms_.end() ? nullptr : &it->second;
}

void MermapVmm::flushed(int cpu, Asid as, Va lo, Va hi) {
  std::erase_if(pending_, [&](const Pending& p) {
    bool hit = (cpu < 0 || p.cpu == static_cast<unsigned>(cpu)) && (as == 0 || p.as == as) && p.va >= lo && p.va < hi;
    if (hit) {
      if (core_.page(p.pfn).mmu_gather) --core_.page(p.pfn).mmu_gather;
      core_.put(p.pfn);  // the reference the PTE held moved to the pending flush
    }
    return hit;
  });
}

void MermapVmm::clear(VmmCore::Space& s, unsigned cpu, Va lo, Va hi) {
  if (hi <= lo) return;
  s.table.unmap(lo, hi - lo, [&](const Mapping& m) {
    std::uint64_t pfn = m.pa >> kPageShift;
    --core_.page(pfn).mapcount;
    ++core_.page(pfn).mmu_gather;
    pending_.push_back({cpu, s.asid, m.va, pfn});
  });
}

// exec or exit: the mm's mappings go, the region's PTEs with them (synchronously), as
// munmap's do.
void MermapVmm::unmap_region(Asid as) {
  auto it = mms_.find(as);
  if (it == mms_.end() || !it->second.in_vsl) return;
  VmmCore::Space& s = core_.space_of(as);
  Va lo = p_.base, hi = p_.base + core_.mmu().cpus() * p_.region_pages * kPage;
  std::vector<std::uint64_t> dropped;
  s.table.unmap(lo, hi - lo, [&](const Mapping& m) { dropped.push_back(m.pa >> kPageShift); });
  for (std::uint64_t pfn : dropped) --core_.page(pfn).mapcount;
  if (!dropped.empty()) core_.shootdown(s, lo, hi);
  for (std::uint64_t pfn : dropped) core_.put(pfn);
  it->second.in_vsl = false;
}

// mermap_mm_prepare: state for every possible CPU, idempotent.
Outcome MermapVmm::prepare(const Event& e) {
  Asid as = e.get<PrepareArgs>().as;
  core_.space_of(as);
  mm_mermap& mm = mms_[as];
  if (!mm.cpu.empty()) return {};
  mm.cpu.assign(core_.mmu().cpus(), mermap_cpu{});
  for (unsigned c = 0; c < core_.mmu().cpus(); ++c) {
    mm.cpu[c].next_addr = cpu_base(c);
    mm.cpu[c].allocs.assign(p_.slots, mermap_alloc{});
  }
  mm.in_vsl = true;
  return {};
}

// mermap_alloc (call with migration disabled): in-order, reuse only after a flush.
mermap_alloc* MermapVmm::alloc(mm_mermap& mm, unsigned cpu, unsigned long size, bool use_reserve) {
  mermap_cpu* mc = &mm.cpu[cpu];
  unsigned long end = cpu_end(cpu);
  if (use_reserve) {
    if (size != kPage) return nullptr;  // WARN_ON_ONCE(size != PAGE_SIZE)
  } else if (p_.keep_last_page) {
    end -= kPage;
  }
  if (mc->next_addr + size > end) {  // out of already-available space?
    unsigned long new_next = cpu_base(cpu);
    for (const mermap_alloc& a : mc->allocs)
      if (a.in_use && p_.reset_after_live) new_next = std::max(new_next, a.end);
    if (p_.bound_fix && new_next > end) return nullptr;
    if (size > end - new_next) return nullptr;  // unsigned, as posted (R5 when it wraps)
    if (p_.flush_on_reset) {  // arch_mermap_flush_tlb: __flush_tlb_all() on this CPU
      core_.invalidate_all(cpu);
      core_.flushed(static_cast<int>(cpu), 0, 0, UINT64_MAX);
    }
    mc->next_addr = new_next;
  }
  std::size_t free = 0;
  for (const mermap_alloc& a : mc->allocs) free += !a.in_use;
  if (free == 0 || (p_.reserve_slot_fix && !use_reserve && free == 1)) return nullptr;
  for (mermap_alloc& a : mc->allocs)
    if (!a.in_use) {
      a = {true, use_reserve, mc->next_addr, mc->next_addr + size};
      mc->next_addr += size;
      return &a;
    }
  return nullptr;
}

// __mermap_get: allocate, then write PTEs for consecutive frames. ret = the address, or
// 0 for NULL.
Outcome MermapVmm::get(const Event& e) {
  const auto& g = e.get<GetArgs>();
  VmmCore::Space& s = core_.space_of(g.as);
  unsigned cpu = core_.need_cpu(e.cpu);
  mm_mermap& mm = mms_[g.as];
  if (core_.running(cpu) != s.asid) throw std::invalid_argument("cpu: mermap_get runs in a task of the mm");
  if (g.handle.empty() || mm.handles.count(g.handle)) throw std::invalid_argument("handle: missing or reused");
  mm.null_here.erase(g.handle);
  Outcome null;  // what a NULL return gives
  if (g.recorded.value_or(0) != 0) mm.null_here.insert(g.handle);
  if (mm.cpu.empty() || g.len > p_.region_pages * kPage) return null;
  unsigned long size = (g.len + kPage - 1) & ~(kPage - 1);
  ++mm.migrate_disable;
  mermap_alloc* a = alloc(mm, cpu, size, g.reserve);
  if (!a) {
    --mm.migrate_disable;
    return null;
  }
  LeafAttrs attrs;
  attrs.rights = {g.prot.w, false, g.prot.x};  // a kernel mapping: U/S = 0
  for (unsigned long i = 0; i < size / kPage; ++i) {
    if (g.fail_after && i == *g.fail_after) {  // apply_to_existing_page_range failed
      a->in_use = false;
      if (p_.error_path_fix) {
        clear(s, cpu, a->base, a->base + i * kPage);
        --mm.migrate_disable;
      }
      return null;
    }
    auto f = core_.alloc_data();
    if (!f) throw std::invalid_argument("len: no free frame to stand for the caller's page");
    core_.set_pte(s, a->base + i * kPage, *f, attrs);
  }
  mm.null_here.erase(g.handle);
  mm.handles[g.handle] = {cpu, static_cast<std::size_t>(a - mm.cpu[cpu].allocs.data())};
  return {Err::ok, a->base};
}

// mermap_put: sentinels back, slot free, migrate_enable(); no flush.
Outcome MermapVmm::put(const Event& e) {
  const auto& p = e.get<PutArgs>();
  VmmCore::Space& s = core_.space_of(p.as);
  unsigned cpu = core_.need_cpu(e.cpu);
  mm_mermap& mm = mms_[p.as];
  auto h = mm.handles.find(p.handle);
  if (h == mm.handles.end() && mm.null_here.erase(p.handle)) return {};
  if (h == mm.handles.end() || h->second.first != cpu)
    throw std::invalid_argument("handle: unknown, or put on another CPU than its get");
  mermap_alloc& a = mm.cpu[cpu].allocs[h->second.second];
  clear(s, cpu, a.base, a.end);
  a.in_use = false;
  mm.handles.erase(h);
  if (mm.migrate_disable) --mm.migrate_disable;
  return {};
}

// mermap_mm_teardown: warn on any live allocation, then free the per-CPU state. As posted,
// the loop reads this CPU's state on every iteration (R3). ret = 1 if it warned.
Outcome MermapVmm::teardown(const Event& e) {
  const auto& t = e.get<TeardownArgs>();
  core_.space_of(t.as);
  unsigned cpu = core_.need_cpu(e.cpu);
  mm_mermap& mm = mms_[t.as];
  if (mm.cpu.empty()) return {};
  bool warned = false;
  for (std::size_t c = 0; c < mm.cpu.size(); ++c)
    for (const mermap_alloc& a : mm.cpu[p_.teardown_fix ? c : cpu].allocs) warned = warned || a.in_use;
  mm.cpu.clear();
  mm.handles.clear();
  mm.null_here.clear();
  return {Err::ok, warned ? 1u : 0u};
}

void register_impl() {
  add_impl_kernel({kKernel,
                   [](VmmCore& c, const vocab::KernelParams* p) -> std::unique_ptr<KernelLayer> {
                     return std::make_unique<MermapVmm>(c, static_cast<const MermapParams&>(*p));
                   },
                   {{&ops::prepare, &call<MermapVmm, &MermapVmm::prepare>},
                    {&ops::get, &call<MermapVmm, &MermapVmm::get>},
                    {&ops::put, &call<MermapVmm, &MermapVmm::put>},
                    {&ops::teardown, &call<MermapVmm, &MermapVmm::teardown>}}});
}

}  // namespace vmref::mermap
