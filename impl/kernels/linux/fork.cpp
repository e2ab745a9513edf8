// fork and exec_reset (spec/kernels/linux.md §2.6, §2.1): dup_mmap's copy of the VMA tree
// and of the PTEs of VMAs with anonymous pages, write-protected both sides for COW.
#include "linux_vmm.hpp"

namespace vmref::linux_mm {

using namespace vmref::impl;

// §2.6
Outcome LinuxVmm::fork(const Event& ev) {
  const auto& a = ev.get<ForkArgs>();
  Space& parent = core_.space_of(a.as);
  Mm& pm = mm_of(a.as);
  if (a.child == 0 || core_.space(a.child)) throw std::invalid_argument("child: address space is 0 or exists");
  Space& child = core_.create_space(a.child);
  Mm& cm = mms_[a.child];
  cm = Mm{};
  cm.has_brk = pm.has_brk;
  cm.start_brk = pm.start_brk;
  cm.brk = pm.brk;
  bool protected_any = false;
  // Write-protected parent PTEs may still be cached writable: dup_mmap ends with
  // flush_tlb_mm, on its error path too.
  auto flush_parent = [&] {
    if (!protected_any) return;
    for (unsigned cpu = 0; cpu < core_.mmu().cpus(); ++cpu) core_.invalidate_space(cpu, parent, true);
    core_.flushed(-1, parent.asid, 0, UINT64_MAX);
  };
  for (auto& [end, pv] : pm.vmas) {
    if (pv.has(VM_DONTCOPY) || pv.has(VM_WIPEONFORK))
      throw Unsupported("vm_flags", "MADV_DONTFORK / MADV_WIPEONFORK VMAs are not implemented by the optimized VMM");
    Vma cv = pv;
    cv.anon_vma = 0;
    if (pv.anon_vma) {  // a new owner chained to the parent's (anon_vma_fork)
      cv.anon_vma = ++anon_ids_;
      forked_anon_ids_.insert(cv.anon_vma);
    }
    insert_vma(cm, cv);
    // Only VMAs holding anonymous pages have their PTEs copied (vma_needs_copy).
    if (!pv.anon_vma && !p_.fork_copies_untouched) continue;
    std::vector<Mapping> leaves;
    if (!pv.has(VM_SHARED)) {  // copy_huge_pmd: a pinned folio is split, its pages copied below
      parent.table.for_each(pv.vm_start, pv.vm_end - pv.vm_start, [&](const Mapping& m) {
        if (m.size > kPage && !core_.is_zero(m.pa >> kPageShift) && core_.page(m.pa >> kPageShift).pins > 0) leaves.push_back(m);
      });
      for (const Mapping& m : leaves) split_huge_pmd(parent, m.va);
      leaves.clear();
    }
    parent.table.for_each(pv.vm_start, pv.vm_end - pv.vm_start, [&](const Mapping& m) { leaves.push_back(m); });
    for (const Mapping& m : leaves) {
      std::uint64_t pfn = m.pa >> kPageShift;
      LeafAttrs ca = m.attrs;
      ca.accessed = false;
      const PageInfo& p = core_.page(core_.head_of(pfn));
      if (!pv.has(VM_SHARED) && !core_.is_zero(pfn) && p.pins > 0 && !p.cached) {
        // A pinned private page is copied for the child at once, so the pin keeps its frame.
        auto f = core_.alloc_data();
        if (!f) {
          flush_parent();
          core_.destroy_space(a.child);
          return {Err::enomem};
        }
        core_.stamp(*f) = core_.version(pfn);
        ca.soft &= ~1;
        core_.set_pte(child, m.va, *f, ca);
        continue;
      }
      if (!pv.has(VM_SHARED) && (m.attrs.rights.w || !is_cow(m.attrs))) {
        LeafAttrs pa = m.attrs;
        protected_any = protected_any || pa.rights.w;
        pa.rights.w = false;
        pa.soft |= 1;
        parent.table.map(m.va, m.pa, m.size, pa, m.size);
        ca.rights.w = false;
        ca.soft |= 1;
      }
      core_.get(pfn);
      if (m.size > kPage) core_.set_huge(child, m.va, pfn, m.size, ca);  // copy_huge_pmd
      else core_.set_pte(child, m.va, pfn, ca);
    }
  }
  flush_parent();
  return {};
}

// §2.1
Outcome LinuxVmm::exec_reset(const Event& ev) {
  const auto& a = ev.get<ExecArgs>();
  Space& s = core_.space_of(a.as);
  Mm& m = mm_of(a.as);
  forget_forked_owners(m);
  unmap_range(s, m, 0, UINT64_MAX & ~(kPage - 1));
  core_.reset(a.as);  // kernel mappings in the mm (a per-CPU region) go too, as the spec's VSL says
  m.has_brk = a.brk != 0;
  m.start_brk = m.brk = a.brk;
  return {};
}

}  // namespace vmref::linux_mm
