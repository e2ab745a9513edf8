// VMM core: address-space lifetime, context switches, fork, exec and explicit TLB
// flushes (spec/vmm.md §2.1-§2.3, §2.8, §2.13, §3).
#include "vmm_internal.hpp"
#include "vmref/model/zephyr.hpp"

namespace vmref::impl {

using namespace vmref::model;

Outcome Vmm::as_create(const Event& e) {
  if (e.as == 0 || spaces_.count(e.as)) throw std::invalid_argument("as: address space " + std::to_string(e.as) + " is 0 or exists");
  std::uint16_t ctx;
  if (!free_ctx_.empty()) {
    ctx = free_ctx_.back();
    free_ctx_.pop_back();
  } else if (next_ctx_ <= mmu_.max_contexts()) {
    ctx = next_ctx_++;
  } else {
    throw Unsupported("as", "more live address spaces than hardware contexts (" + std::to_string(mmu_.max_contexts()) + ")");
  }
  auto s = std::make_unique<Space>(e.as, ctx, pool_, codec_, mutant_);
  if (e.addr) {
    s->has_brk = true;
    s->brk_start = s->brk = e.addr;
  }
  ctx_owner_[ctx] = e.as;
  spaces_[e.as] = std::move(s);
  return {};
}

Outcome Vmm::as_destroy(const Event& e) {
  if (zephyr_ && e.as == kZephyrAs) throw std::invalid_argument("as: the zephyr kernel address space cannot be destroyed");
  Space& s = space_of(e.as);
  for (const auto& [start, v] : s.vsl) forked_anon_ids_.erase(v.anon_id);
  unmap_range(s, 0, UINT64_MAX & ~(kPage - 1));  // kernel vsegs (mermap) too, as the model
  for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) {
    if (mmu_.current(cpu) == s.ctx) mmu_.load(cpu, 0, 0);  // back to the kernel's own context
    mmu_.invalidate_context(cpu, s.ctx, true);  // the PCID may be reused from now on
  }
  release_mermap(-1, s.asid, 0, UINT64_MAX);
  ctx_owner_[s.ctx] = 0;
  free_ctx_.push_back(s.ctx);
  spaces_.erase(e.as);
  return {};
}

Outcome Vmm::switch_as(const Event& e) {
  if (e.cpu < 0 || static_cast<unsigned>(e.cpu) >= mmu_.cpus())
    throw std::invalid_argument("cpu: cpu " + std::to_string(e.cpu) + " out of range");
  Space& s = space_of(e.as);
  mmu_.load(static_cast<unsigned>(e.cpu), s.ctx, s.table.root());
  return {};
}

Outcome Vmm::fork(const Event& e) {
  Space& parent = space_of(e.as);
  if (e.child == 0 || spaces_.count(e.child)) throw std::invalid_argument("child: address space is 0 or exists");
  Event create;
  create.as = e.child;
  as_create(create);
  Space& child = *spaces_.at(e.child);
  child.has_brk = parent.has_brk;
  child.brk_start = parent.brk_start;
  child.brk = parent.brk;
  bool protected_any = false;
  for (auto& [start, pv] : parent.vsl) {
    if (pv.flags.has(VmFlag::dontcopy) || pv.flags.has(VmFlag::wipeonfork))
      throw Unsupported("vm_flags", "MADV_DONTFORK / MADV_WIPEONFORK vsegs are not implemented by the optimized VMM");
    Vseg cv = pv;
    cv.anon_id = 0;
    if (pv.anon_id) {  // a new owner chained to the parent's (Linux anon_vma_fork)
      cv.anon_id = ++anon_ids_;
      forked_anon_ids_.insert(cv.anon_id);
    }
    vsl_insert(child, cv);
    // Only vsegs holding anonymous pages have their PTEs copied (Linux vma_needs_copy).
    if (!pv.anon_id && !profile_.fork_copies_untouched) continue;
    std::vector<Mapping> leaves;
    parent.table.for_each(pv.start, pv.end - pv.start, [&](const Mapping& m) { leaves.push_back(m); });
    for (const Mapping& m : leaves) {
      std::uint64_t pfn = m.pa >> kPageShift;
      LeafAttrs ca = m.attrs;
      ca.accessed = false;
      const PageInfo& p = pages_[pfn];
      if (!pv.shared && pfn != zero_pfn_ && p.pins > 0 && !p.cached) {
        // A pinned private page is copied for the child at once, so the pin keeps its frame.
        auto f = alloc_data();
        if (!f) {
          Event undo;
          undo.as = e.child;
          as_destroy(undo);
          return {Err::enomem};
        }
        stamp(*f) = version(pfn);
        ca.soft &= ~1;
        set_pte(child, m.va, *f, ca);
        continue;
      }
      if (!pv.shared && (m.attrs.rights.w || !is_cow(m.attrs))) {
        LeafAttrs pa = m.attrs;
        protected_any = protected_any || pa.rights.w;
        pa.rights.w = false;
        pa.soft |= 1;
        parent.table.map(m.va, m.pa, kPage, pa);
        ca.rights.w = false;
        ca.soft |= 1;
      }
      get(pfn);
      set_pte(child, m.va, pfn, ca);
    }
  }
  // Write-protected parent PTEs may still be cached writable (Linux flush_tlb_mm).
  if (protected_any) {
    for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) mmu_.invalidate_context(cpu, parent.ctx, true);
    release_mermap(-1, parent.asid, 0, UINT64_MAX);
  }
  return {};
}

Outcome Vmm::exec_reset(const Event& e) {
  Space& s = space_of(e.as);
  for (const auto& [start, v] : s.vsl) forked_anon_ids_.erase(v.anon_id);
  unmap_range(s, 0, UINT64_MAX & ~(kPage - 1));  // kernel vsegs (mermap) too, as the model
  s.has_brk = e.addr != 0;
  s.brk_start = s.brk = e.addr;
  return {};
}

Outcome Vmm::tlb_flush(const Event& e) {
  if (!e.broadcast && (e.cpu < 0 || static_cast<unsigned>(e.cpu) >= mmu_.cpus()))
    throw std::invalid_argument("cpu: a local flush needs a cpu in range");
  Space* s = e.scope == FlushScope::all ? nullptr : &space_of(e.as);
  Va first = e.addr & ~(kPage - 1), last = page_round(e.addr + e.len);
  for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) {
    if (!e.broadcast && static_cast<int>(cpu) != e.cpu) continue;
    if (!s) {
      mmu_.invalidate_all(cpu);
      release_mermap(static_cast<int>(cpu), 0, 0, UINT64_MAX);
    } else if (e.scope == FlushScope::asid || (last - first) / kPage > kFlushCeiling) {
      mmu_.invalidate_context(cpu, s->ctx, e.with_global);
      release_mermap(static_cast<int>(cpu), s->asid, e.scope == FlushScope::asid ? 0 : first,
                     e.scope == FlushScope::asid ? UINT64_MAX : last);
    } else {
      for (Va va = first; va < last; va += kPage) mmu_.invalidate_page(cpu, s->ctx, va, e.with_global);
      release_mermap(static_cast<int>(cpu), s->asid, first, last);
    }
  }
  return {};
}

}  // namespace vmref::impl
