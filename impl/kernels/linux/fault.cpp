// Accesses, the fault path (demand fault, zero page, COW, fault-around) and pins
// (spec/kernels/linux.md §2.7-§2.9; §1.3, §1.4, §1.9, §1.10).
#include <algorithm>

#include "linux_vmm.hpp"

namespace vmref::linux_mm {

using namespace vmref::impl;
using vocab::AccessKind;
using vocab::AccessResult;

std::optional<std::uint64_t> LinuxVmm::cached_frame(std::uint32_t obj, std::uint64_t index) {
  Object& o = *objects_[obj];
  if (auto it = o.cache.find(index); it != o.cache.end()) return it->second;
  auto pfn = core_.alloc_data();  // its reference is the cache's
  if (!pfn) return std::nullopt;
  core_.page(*pfn).cached = true;
  o.cache[index] = *pfn;
  return pfn;
}

// anon_vma_prepare: reuse an adjacent owner (find_mergeable_anon_vma), next first, then prev.
void LinuxVmm::anon_vma_prepare(Mm& m, Vma& v) {
  if (v.anon_vma) return;
  auto reusable = [&](const Vma& lo, const Vma& hi, const Vma& owner) {
    std::uint64_t diff = (lo.vm_flags ^ hi.vm_flags) & ~VM_ACCESS;  // rights may differ
    if (lo.vm_end != hi.vm_start || lo.vm_file != hi.vm_file || diff) return false;
    if (lo.vm_pgoff + lo.pages() != hi.vm_pgoff) return false;
    return owner.anon_vma != 0 && !forked_anon_ids_.count(owner.anon_vma);
  };
  const Vma* next = m.vmas.starting_at(v.vm_end);
  const Vma* prev = m.vmas.ending_at(v.vm_start);
  if (next && reusable(v, *next, *next)) v.anon_vma = next->anon_vma;
  else if (prev && reusable(*prev, v, *prev)) v.anon_vma = prev->anon_vma;
  else v.anon_vma = ++anon_ids_;
}

LinuxVmm::Fault LinuxVmm::demand_fault(Space& s, Mm& m, Vma& v, Va va, AccessKind kind) {
  bool write = kind == AccessKind::write, cow = false;
  std::uint64_t pfn;
  if (!v.vm_file && !v.has(VM_SHARED))
    if (auto huge = huge_anonymous_fault(s, m, v, va, kind)) return *huge;
  if (!v.vm_file) {
    if (!write && p_.zero_page_on_read) {
      pfn = core_.zero_pfn();
      cow = true;
    } else {
      auto f = core_.alloc_data();
      if (!f) return {AccessResult::ok, Err::enomem};
      pfn = *f;
      anon_vma_prepare(m, v);
    }
  } else {
    std::uint64_t index = v.vm_pgoff + ((va - v.vm_start) >> kPageShift);
    if (!write) {
      fault_around(s, v, va);
      if (auto mp = s.table.lookup(va)) return {AccessResult::ok, Err::ok, mp->pa >> kPageShift};
    }
    // do_cow_fault: the anon_vma is prepared before the page is read, so a private
    // write beyond the end of the file still leaves the VMA with one.
    if (write && !v.has(VM_SHARED)) anon_vma_prepare(m, v);
    const Object& o = *objects_[v.vm_file];
    if (o.pages && index >= *o.pages) return {AccessResult::sigbus};
    auto cf = cached_frame(v.vm_file, index);
    if (!cf) return {AccessResult::ok, Err::enomem};
    if (v.has(VM_SHARED) || !write) {
      pfn = *cf;
      cow = !v.has(VM_SHARED);
      core_.get(pfn);
    } else {
      auto f = core_.alloc_data();
      if (!f) return {AccessResult::ok, Err::enomem};
      core_.stamp(*f) = core_.version(*cf);
      pfn = *f;
      anon_vma_prepare(m, v);
    }
  }
  core_.set_pte(s, va, pfn, attrs_for(v, pfn, cow));
  return {AccessResult::ok, Err::ok, pfn};
}

LinuxVmm::Fault LinuxVmm::cow_break(Space& s, Mm& m, Vma& v, Va va, const Mapping& old_map) {
  std::uint64_t old = old_map.pa >> kPageShift;
  const PageInfo& op = core_.page(core_.head_of(old));  // a folio page's counts are its folio's
  auto keep_ad = [&](LeafAttrs a) {  // the new PTE starts from the old one's A/D
    a.accessed = old_map.attrs.accessed;
    a.dirty = old_map.attrs.dirty;
    return a;
  };
  if (p_.cow_reuse_exclusive && old != core_.zero_pfn() && !op.cached && op.refcount == 1) {
    core_.set_pte(s, va, old, keep_ad(attrs_for(v, old, false)));  // only reference: reuse in place
    return {AccessResult::ok, Err::ok, old};
  }
  auto f = core_.alloc_data();
  if (!f) return {AccessResult::ok, Err::enomem};
  core_.stamp(*f) = old == core_.zero_pfn() ? 0 : core_.version(old);
  anon_vma_prepare(m, v);
  core_.clear_pte(s, va);
  core_.shootdown(s, va, va + kPage);  // the old translation goes before the new one is used
  if (core_.mutant() != &kCowKeepsOldCount) core_.put(old);
  core_.set_pte(s, va, *f, keep_ad(attrs_for(v, *f, false)));
  return {AccessResult::ok, Err::ok, *f};
}

// do_fault_around: the cached pages of the faulting 16-page block, inside the VMA and
// its page-table page.
void LinuxVmm::fault_around(Space& s, Vma& v, Va va) {
  std::uint64_t n = p_.fault_around_pages;
  if (n <= 1) return;
  Va vpn = va >> kPageShift;
  Va lo = std::max({vpn & ~(n - 1), v.vm_start >> kPageShift, vpn & ~Va{511}});
  Va hi = std::min({lo + n, v.vm_end >> kPageShift, (vpn & ~Va{511}) + 512});
  const Object& o = *objects_[v.vm_file];
  for (Va p = lo; p < hi; ++p) {
    Va pva = p << kPageShift;
    auto c = o.cache.find(v.vm_pgoff + ((pva - v.vm_start) >> kPageShift));
    if (c == o.cache.end() || s.table.lookup(pva)) continue;
    core_.get(c->second);
    core_.set_pte(s, pva, c->second, attrs_for(v, c->second, !v.has(VM_SHARED)));
  }
}

LinuxVmm::Fault LinuxVmm::fault_in(Space& s, Mm& m, Va va, AccessKind kind, int cpu) {
  Vma* v = m.vmas.find(va);
  if (!v) return {AccessResult::segv_maperr};
  Va page = va & ~(kPage - 1);
  bool r = v->has(VM_READ), w = v->has(VM_WRITE), x = v->has(VM_EXEC);
  bool granted = kind == AccessKind::read ? r || (p_.implied_read && (w || x)) : kind == AccessKind::write ? w : x;
  if (!granted) {
    // x86 access_error: a fetch from a page that is not present is handled as a read.
    if (kind == AccessKind::exec && p_.exec_fault_maps_first && (r || w || x) && !s.table.lookup(page)) {
      Fault f = demand_fault(s, m, *v, page, AccessKind::read);
      if (f.result != AccessResult::ok || f.err != Err::ok) return f;
    }
    return {AccessResult::segv_accerr};
  }
  Fault res;
  auto mp = s.table.lookup(page);
  bool cow = mp && kind == AccessKind::write && !mp->attrs.rights.w && !v->has(VM_SHARED);
  std::optional<Fault> huge;
  if (cow && mp->size > kPage) {
    huge = huge_wp_fault(s, *v, *mp);
    if (!huge) mp = s.table.lookup(page);  // split: the base PTE takes the COW fault
  }
  if (huge) {
    res = *huge;
  } else if (!mp) {
    res = demand_fault(s, m, *v, page, kind);
  } else if (cow) {
    res = cow_break(s, m, *v, page, *mp);
  } else {
    std::uint64_t pfn = mp->pa >> kPageShift;
    bool ok = kind == AccessKind::read ? mp->attrs.rights.u : kind == AccessKind::write ? mp->attrs.rights.w : mp->attrs.rights.x;
    if (!ok) {  // the leaf lags behind its VMA: refresh it, A/D kept
      LeafAttrs a = attrs_for(*v, pfn, is_cow(mp->attrs));
      a.accessed = mp->attrs.accessed;
      a.dirty = mp->attrs.dirty;
      if (mp->size > kPage) core_.set_huge(s, mp->va, pfn, mp->size, a);
      else core_.set_pte(s, page, pfn, a);
    }
    res.pfn = pfn;
  }
  if (res.err != Err::ok || res.result != AccessResult::ok) return res;
  // The access itself: the hardware walk sets A (and D for a store by a CPU).
  bool store = kind == AccessKind::write && cpu >= 0;
  Translation t = s.table.translate(va, store, kind == AccessKind::exec);
  if (t.fault != WalkFault::none) throw std::logic_error("impl: access faults after its fault was handled");
  if (cpu >= 0) core_.mmu().fill(static_cast<unsigned>(cpu), va, t);
  if (store) ++core_.stamp(res.pfn);
  return res;
}

// §2.7
Outcome LinuxVmm::access(const Event& e) {
  unsigned cpu = core_.need_cpu(e.cpu);
  const auto& a = e.get<vocab::AccessArgs>();
  Asid as = core_.running(cpu);
  if (as == 0) throw std::invalid_argument("cpu: cpu " + std::to_string(e.cpu) + " runs no address space");
  Space& s = core_.space_of(as);
  Fault r;
  // Fast path: the hardware walk succeeds without a fault.
  Translation t = s.table.translate(a.va, a.kind == AccessKind::write, a.kind == AccessKind::exec);
  if (t.fault == WalkFault::non_canonical) {  // #GP: the kernel sends SIGSEGV, no VMA can hold it
    r.result = AccessResult::segv_maperr;
  } else if (t.fault == WalkFault::none) {
    core_.mmu().fill(cpu, a.va, t);
    r.pfn = t.page_pa >> kPageShift;
    if (a.kind == AccessKind::write) ++core_.stamp(r.pfn);
  } else {
    r = fault_in(s, mm_of(as), a.va, a.kind, e.cpu);
  }
  Outcome o;
  o.err = r.err;
  o.access = r.result;
  o.frame = core_.head_of(r.pfn);  // a PFN (a folio's head): the checker maps it to the model's frame
  return o;
}

// §2.8
Outcome LinuxVmm::pin(const Event& e) {
  const auto& a = e.get<PinArgs>();
  Space& s = core_.space_of(a.as);
  if (a.handle.empty() || pins_.count(a.handle)) throw std::invalid_argument("pin: missing or reused handle");
  Fault r = fault_in(s, mm_of(a.as), a.va, a.kind, -1);
  if (r.result != AccessResult::ok) return {Err::efault};
  if (r.err != Err::ok) return {r.err};
  std::uint64_t head = core_.head_of(r.pfn);  // a pin holds the whole folio
  ++core_.page(head).pins;
  core_.get(head);
  pins_[a.handle] = head;
  Outcome o;
  o.frame = head;
  return o;
}

// §2.9
Outcome LinuxVmm::unpin(const Event& e) {
  const std::string& handle = e.get<UnpinArgs>().handle;
  auto it = pins_.find(handle);
  if (it == pins_.end()) throw std::invalid_argument("pin: unknown pin handle '" + handle + "'");
  if (core_.page(it->second).pins) --core_.page(it->second).pins;
  core_.put(it->second);
  pins_.erase(it);
  return {};
}

}  // namespace vmref::linux_mm
