// VMM core: accesses, the fault path (demand fault, zero page, COW, fault-around), pins
// (spec/vmm.md §2.9-§2.10; profiles.md §1.3, §1.4, §1.9, §1.10).
#include "vmm_internal.hpp"

namespace vmref::impl {

using namespace vmref::model;

std::optional<std::uint64_t> Vmm::cached_frame(std::uint32_t obj, std::uint64_t index) {
  Object& o = *objects_[obj];
  if (auto it = o.cache.find(index); it != o.cache.end()) return it->second;
  auto pfn = alloc_data();  // its reference is the cache's
  if (!pfn) return std::nullopt;
  pages_[*pfn].cached = true;
  o.cache[index] = *pfn;
  return pfn;
}

Vmm::Fault Vmm::demand_fault(Space& s, Vseg& v, Va va, AccessKind kind) {
  bool write = kind == AccessKind::write, cow = false;
  std::uint64_t pfn;
  if (v.object == kNoObject) {
    if (!write && profile_.zero_page_on_read) {
      pfn = zero_pfn_;
      cow = true;
    } else {
      auto f = alloc_data();
      if (!f) return {AccessResult::ok, Err::enomem};
      pfn = *f;
      prepare_anon(s, v);
    }
  } else {
    std::uint64_t index = v.pgoff + ((va - v.start) >> kPageShift);
    if (!write) {
      fault_around(s, v, va);
      if (auto m = s.table.lookup(va)) return {AccessResult::ok, Err::ok, m->pa >> kPageShift};
    }
    const Object& o = *objects_[v.object];
    if (o.pages && index >= *o.pages) return {AccessResult::sigbus};
    auto cf = cached_frame(v.object, index);
    if (!cf) return {AccessResult::ok, Err::enomem};
    if (v.shared || !write) {
      pfn = *cf;
      cow = !v.shared;
      get(pfn);
    } else {
      auto f = alloc_data();
      if (!f) return {AccessResult::ok, Err::enomem};
      stamp(*f) = version(*cf);
      pfn = *f;
      prepare_anon(s, v);
    }
  }
  set_pte(s, va, pfn, attrs_for(v, pfn, cow));
  return {AccessResult::ok, Err::ok, pfn};
}

Vmm::Fault Vmm::cow_break(Space& s, Vseg& v, Va va, const Mapping& m) {
  std::uint64_t old = m.pa >> kPageShift;
  const PageInfo& op = pages_[old];
  auto keep_ad = [&](LeafAttrs a) {  // the new PTE starts from the old one's A/D (as the model's)
    a.accessed = m.attrs.accessed;
    a.dirty = m.attrs.dirty;
    return a;
  };
  if (profile_.cow_reuse_exclusive && old != zero_pfn_ && !op.cached && op.refcount == 1) {
    set_pte(s, va, old, keep_ad(attrs_for(v, old, false)));  // only reference: reuse in place
    return {AccessResult::ok, Err::ok, old};
  }
  auto f = alloc_data();
  if (!f) return {AccessResult::ok, Err::enomem};
  stamp(*f) = old == zero_pfn_ ? 0 : version(old);
  prepare_anon(s, v);
  clear_pte(s, va);
  shootdown(s, va, va + kPage);  // the old translation goes before the new one is used
  if (mutant_ != Mutant::cow_keeps_old_count) put(old);
  set_pte(s, va, *f, keep_ad(attrs_for(v, *f, false)));
  return {AccessResult::ok, Err::ok, *f};
}

void Vmm::fault_around(Space& s, Vseg& v, Va va) {
  std::uint64_t n = profile_.fault_around_pages;
  if (n <= 1) return;
  Va vpn = va >> kPageShift;
  Va lo = std::max({vpn & ~(n - 1), v.start >> kPageShift, vpn & ~Va{511}});
  Va hi = std::min({lo + n, v.end >> kPageShift, (vpn & ~Va{511}) + 512});
  const Object& o = *objects_[v.object];
  for (Va p = lo; p < hi; ++p) {
    Va pva = p << kPageShift;
    auto c = o.cache.find(v.pgoff + ((pva - v.start) >> kPageShift));
    if (c == o.cache.end() || s.table.lookup(pva)) continue;
    get(c->second);
    set_pte(s, pva, c->second, attrs_for(v, c->second, !v.shared));
  }
}

Vmm::Fault Vmm::fault_in(Space& s, Va va, AccessKind kind, int cpu) {
  Vseg* v = find(s, va);
  if (!v) return {AccessResult::segv_maperr};
  Va page = va & ~(kPage - 1);
  if (!permits(profile_.grantable(v->prot), kind)) {
    bool accessible = v->prot.r || v->prot.w || v->prot.x;
    if (kind == AccessKind::exec && profile_.exec_fault_maps_first && accessible && !s.table.lookup(page)) {
      Fault r = demand_fault(s, *v, page, AccessKind::read);
      if (r.result != AccessResult::ok || r.err != Err::ok) return r;
    }
    return {AccessResult::segv_accerr};
  }
  Fault r;
  auto m = s.table.lookup(page);
  if (!m) {
    r = demand_fault(s, *v, page, kind);
  } else if (kind == AccessKind::write && !m->attrs.rights.w && !v->shared) {
    r = cow_break(s, *v, page, *m);
  } else {
    std::uint64_t pfn = m->pa >> kPageShift;
    bool ok = kind == AccessKind::read ? m->attrs.rights.u : kind == AccessKind::write ? m->attrs.rights.w : m->attrs.rights.x;
    if (!ok) {  // the PTE lags behind its vseg: refresh it, A/D kept
      LeafAttrs a = attrs_for(*v, pfn, is_cow(m->attrs));
      a.accessed = m->attrs.accessed;
      a.dirty = m->attrs.dirty;
      set_pte(s, page, pfn, a);
    }
    r.pfn = pfn;
  }
  if (r.err != Err::ok || r.result != AccessResult::ok) return r;
  // The access itself: the hardware walk sets A (and D for a store by a CPU).
  bool store = kind == AccessKind::write && cpu >= 0;
  Translation t = s.table.translate(va, store, kind == AccessKind::exec);
  if (t.fault != WalkFault::none) throw std::logic_error("impl: access faults after its fault was handled");
  if (cpu >= 0) mmu_.fill(static_cast<unsigned>(cpu), va, t);
  if (store) ++stamp(r.pfn);
  return r;
}

Outcome Vmm::access(const Event& e) {
  if (e.cpu < 0 || static_cast<unsigned>(e.cpu) >= mmu_.cpus())
    throw std::invalid_argument("cpu: cpu " + std::to_string(e.cpu) + " out of range");
  Asid as = asid_of(mmu_.current(static_cast<unsigned>(e.cpu)));
  if (as == 0) throw std::invalid_argument("cpu: cpu " + std::to_string(e.cpu) + " runs no address space");
  Space& s = space_of(as);
  Fault r;
  // Fast path: the hardware walk succeeds without a fault.
  Translation t = s.table.translate(e.addr, e.kind == AccessKind::write, e.kind == AccessKind::exec);
  if (t.fault == WalkFault::non_canonical) {  // #GP: the kernel sends SIGSEGV, no vseg can hold it
    r.result = AccessResult::segv_maperr;
  } else if (t.fault == WalkFault::none) {
    mmu_.fill(static_cast<unsigned>(e.cpu), e.addr, t);
    r.pfn = t.page_pa >> kPageShift;
    if (e.kind == AccessKind::write) ++stamp(r.pfn);
  } else {
    r = fault_in(s, e.addr, e.kind, e.cpu);
  }
  Outcome o;
  o.err = r.err;
  o.access = r.result;
  o.frame = static_cast<FrameId>(r.pfn);  // a PFN here: the checker maps it to the model's frame
  return o;
}

Outcome Vmm::pin(const Event& e) {
  Space& s = space_of(e.as);
  if (e.label.empty() || pins_.count(e.label)) throw std::invalid_argument("pin: missing or reused handle");
  Fault r = fault_in(s, e.addr, e.kind, -1);
  if (r.result != AccessResult::ok) return {Err::efault};
  if (r.err != Err::ok) return {r.err};
  ++pages_[r.pfn].pins;
  get(r.pfn);
  pins_[e.label] = r.pfn;
  Outcome o;
  o.frame = static_cast<FrameId>(r.pfn);
  return o;
}

Outcome Vmm::unpin(const Event& e) {
  auto it = pins_.find(e.label);
  if (it == pins_.end()) throw std::invalid_argument("pin: unknown pin handle '" + e.label + "'");
  if (pages_[it->second].pins) --pages_[it->second].pins;
  put(it->second);
  pins_.erase(it);
  return {};
}

}  // namespace vmref::impl
