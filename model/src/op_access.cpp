// Memory access and the fault path: demand faults, zero page, COW break, stack growth,
// pin/unpin (spec/vmm.md §2.9-§2.11, profiles.md §1.3-§1.4).
#include "vmref/model/model.hpp"

namespace vmref::model {

namespace {
bool permits(Prot p, AccessKind k) {
  switch (k) {
    case AccessKind::read: return p.r;
    case AccessKind::write: return p.w;
    case AccessKind::exec: return p.x;
  }
  return false;
}
}  // namespace

std::optional<FrameId> Model::cached_frame(ObjectId obj, std::uint64_t index) {
  Object& o = objects_[obj];
  if (auto it = o.cache.find(index); it != o.cache.end()) return it->second;
  auto f = frames_.alloc(o.shmem ? Content::zero : Content::file);
  if (!f) return std::nullopt;
  frames_[*f].cached = true;  // the allocation's reference is the cache's
  frames_[*f].object = obj;
  frames_[*f].index = index;
  o.cache[index] = *f;
  delta_.frames.push_back(*f);
  return f;
}

bool Model::try_expand_stack(AddressSpace& s, Va va) {
  // Linux expand_stack: the vseg above must grow down, stay within the stack limit,
  // and keep the guard gap above the vseg below (profiles.md §1.6).
  const Vseg* above = s.vsl.next_from(va);
  if (!above || !above->flags.growsdown) return false;
  Va new_start = va & ~(page_size_ - 1);
  if (((above->end - new_start) >> page_shift_) > profile_.stack_max) return false;
  std::uint64_t gap = profile_.stack_guard_gap * page_size_;
  if (const Vseg* below = s.vsl.prev_before(above->start);
      below && below != above && below->end + gap > new_start)
    return false;
  Vseg* v = s.vsl.starting_at(above->start);
  Vseg grown = *v;
  s.vsl.erase(v->start);
  grown.pgoff -= (grown.start - new_start) >> page_shift_;
  grown.start = new_start;
  s.vsl.insert(grown);
  delta_.spaces.push_back(s.asid);
  return true;
}

Model::FaultResult Model::demand_fault(AddressSpace& s, Vseg& v, Vpn vpn, AccessKind kind) {
  Pte pte;
  pte.user = true;
  bool write = kind == AccessKind::write;
  if (v.object == kNoObject) {
    // Anonymous private memory: zero page on a non-write fault where the profile says so.
    if (!write && profile_.zero_page_on_read) {
      pte.frame = kZeroFrame;
      pte.cow = true;
    } else {
      auto f = frames_.alloc(Content::zero);
      if (!f) return {AccessResult::ok, Err::enomem};
      pte.frame = *f;
    }
    if (!v.anon_id && pte.frame != kZeroFrame) v.anon_id = fresh_anon_id();
  } else {
    std::uint64_t index = v.pgoff + (vpn - (v.start >> page_shift_));
    auto cf = cached_frame(v.object, index);
    if (!cf) return {AccessResult::ok, Err::enomem};
    if (v.shared || !write) {
      pte.frame = *cf;  // map the cache page itself; private maps get it COW
      pte.cow = !v.shared;
      get_frame(*cf);
    } else {
      auto f = frames_.alloc(frames_[*cf].content);  // private write: copy at once
      if (!f) return {AccessResult::ok, Err::enomem};
      frames_[*f].version = frames_[*cf].version;
      pte.frame = *f;
      if (!v.anon_id) v.anon_id = fresh_anon_id();
    }
  }
  pte.prot = effective_rights(v, pte.frame, pte.cow);
  install_pte(s, vpn, pte);
  return {AccessResult::ok, Err::ok, pte.frame};
}

Model::FaultResult Model::cow_break(AddressSpace& s, Vseg& v, Vpn vpn) {
  Pte pte = s.gpt.at(vpn);
  FrameId old = pte.frame;
  const Frame& of = frames_[old];
  // Reuse in place when this mapping holds the only reference (profiles.md §1.4).
  if (profile_.cow_reuse_exclusive && old != kZeroFrame && !of.cached && of.refcount == 1) {
    pte.cow = false;
    pte.prot = effective_rights(v, old, false);
    install_pte(s, vpn, pte);
    return {AccessResult::ok, Err::ok, old};
  }
  auto f = frames_.alloc(old == kZeroFrame ? Content::zero : of.content);
  if (!f) return {AccessResult::ok, Err::enomem};
  frames_[*f].version = frames_[old].version;
  if (!v.anon_id) v.anon_id = fresh_anon_id();
  remove_pte(s, vpn);
  shootdown(s.asid, vpn, 1);  // the old translation must go before the new one is used
  put_frame(old);
  pte.frame = *f;
  pte.cow = false;
  pte.prot = effective_rights(v, *f, false);
  install_pte(s, vpn, pte);
  return {AccessResult::ok, Err::ok, *f};
}

Model::FaultResult Model::fault_in(AddressSpace& s, Va va, AccessKind kind, int cpu) {
  Vseg* v = s.vsl.find(va);
  if (!v && try_expand_stack(s, va)) v = s.vsl.find(va);
  if (!v) return {AccessResult::segv_maperr};
  if (!permits(v->prot, kind)) return {AccessResult::segv_accerr};
  Vpn vpn = va >> page_shift_;
  FaultResult r;
  auto it = s.gpt.find(vpn);
  if (it == s.gpt.end()) {
    r = demand_fault(s, *v, vpn, kind);
  } else if (kind == AccessKind::write && !it->second.prot.w && !v->shared) {
    r = cow_break(s, *v, vpn);
  } else {
    if (!permits(it->second.prot, kind)) {  // spurious: PTE behind its vseg, refresh it
      Pte p = it->second;
      p.prot = effective_rights(*v, p.frame, p.cow);
      install_pte(s, vpn, p);
    }
    r.frame = s.gpt.at(vpn).frame;
  }
  if (r.err != Err::ok) return r;
  Pte& p = s.gpt.at(vpn);
  p.accessed = true;
  if (kind == AccessKind::write) {
    p.dirty = true;
    Frame& f = frames_[p.frame];
    f.content = Content::data;
    ++f.version;
  }
  (void)cpu;  // the CPU runs `s`, so it may now cache p: covered by CpuTlb::loaded
  delta_.ranges.push_back({s.asid, vpn, 1});
  return r;
}

// §2.9
Outcome Model::access(const Event& e) {
  if (e.cpu < 0 || static_cast<std::size_t>(e.cpu) >= cpus_.size())
    throw ModelError("cpu", "cpu " + std::to_string(e.cpu) + " out of range");
  Asid as = cpus_[e.cpu].current;
  if (as == 0) throw ModelError("cpu", "cpu " + std::to_string(e.cpu) + " runs no address space (switch first)");
  FaultResult r = fault_in(spaces_.at(as), e.addr, e.kind, e.cpu);
  Outcome o;
  o.err = r.err;
  o.access = r.result;
  o.frame = r.frame;
  return o;
}

// §2.10
Outcome Model::pin(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  if (e.label.empty()) throw ModelError("pin", "pin needs a handle name");
  if (pins_.count(e.label)) throw ModelError("pin", "pin handle '" + e.label + "' is already in use");
  FaultResult r = fault_in(s, e.addr, e.kind, -1);
  if (r.result != AccessResult::ok) return {Err::efault};
  if (r.err != Err::ok) return {r.err};
  ++frames_[r.frame].pins;
  get_frame(r.frame);
  pins_[e.label] = r.frame;
  Outcome o;
  o.frame = r.frame;
  return o;
}

Outcome Model::unpin(const Event& e) {
  auto it = pins_.find(e.label);
  if (it == pins_.end()) throw ModelError("pin", "unknown pin handle '" + e.label + "'");
  Frame& f = frames_[it->second];
  if (f.pins) --f.pins;
  put_frame(it->second);
  pins_.erase(it);
  return {};
}

// §2.12: the recording kernel grew a stack on a fault the trace did not see.
Outcome Model::stack_expand(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  if (s.vsl.find(e.addr)) return {};
  return {try_expand_stack(s, e.addr) ? Err::ok : Err::efault};
}

}  // namespace vmref::model
