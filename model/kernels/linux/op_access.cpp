// Memory access and the fault path: demand faults, zero page, COW break, stack growth,
// pin/unpin (spec/kernels/linux.md §2.7-§2.10, §1.3-§1.4).
#include "linux_model.hpp"
#include "vmref/trace/fields.hpp"

namespace vmref::linux_mm {

using namespace vmref::model;
using trace::hex;

// §2.7.4: W is withheld from private COW, zero-page and page-cache frames.
Prot LinuxModel::effective_rights(const Vseg& v, FrameId f, bool cow) const {
  Prot p = core_.grantable(v.prot);
  if (!v.shared && (cow || f == kZeroFrame || frames_[f].cached)) p.w = false;
  return p;
}

std::optional<FrameId> LinuxModel::cached_frame(ObjectId obj, std::uint64_t index) {
  Object& o = objects_[obj];
  if (auto it = o.cache.find(index); it != o.cache.end()) return it->second;
  auto f = frames_.alloc(o.shmem ? Content::zero : Content::file);
  if (!f) return std::nullopt;
  frames_[*f].cached = true;  // the allocation's reference is the cache's
  frames_[*f].fresh = false;
  frames_[*f].object = obj;
  frames_[*f].index = index;
  o.cache[index] = *f;
  delta_.frames.push_back(*f);
  return f;
}

bool LinuxModel::try_expand_stack(AddressSpace& s, Va va) {
  // Linux expand_stack: the vseg above must grow down, stay within the stack limit,
  // and keep the guard gap above the vseg below (spec/kernels/linux.md §1.6).
  const Vseg* above = s.vsl.next_from(va);
  if (!above || !above->flags.has(VmFlag::growsdown)) return false;
  Va new_start = va & ~(page_size_ - 1);
  if (((above->end - new_start) >> page_shift_) > p_.stack_max) return false;
  std::uint64_t gap = p_.stack_guard_gap * page_size_;
  if (const Vseg* below = s.vsl.prev_before(above->start);
      below && below != above && below->end + gap > new_start)
    return false;
  Vseg* v = s.vsl.starting_at(above->start);
  Vseg grown = *v;
  s.vsl.erase(v->start);
  grown.pgoff -= (grown.start - new_start) >> page_shift_;
  grown.start = new_start;
  s.vsl.insert(grown);
  hit(Rule::stack_grow);
  delta_.spaces.push_back(s.asid);
  return true;
}

LinuxModel::FaultResult LinuxModel::demand_fault(AddressSpace& s, Vseg& v, Vpn vpn, AccessKind kind) {
  Pte pte;
  pte.user = true;
  pte.global = v.flags.has(VmFlag::global);
  bool write = kind == AccessKind::write;
  if (v.object == kNoObject && !v.shared)
    if (auto huge = huge_fault(s, v, vpn, kind)) return *huge;  // §1.13
  if (v.object == kNoObject) {
    // Anonymous private memory: zero page on a non-write fault where the profile says so.
    if (!write && p_.zero_page_on_read) {
      hit(Rule::zero_page_read_fault);
      pte.frame = kZeroFrame;
      pte.cow = true;
    } else {
      auto f = frames_.alloc(Content::zero);
      if (!f) return {AccessResult::ok, Err::enomem};
      pte.frame = *f;
    }
    if (pte.frame != kZeroFrame) prepare_anon(s, v);
  } else {
    std::uint64_t index = v.pgoff + (vpn - (v.start >> page_shift_));
    // Linux do_read_fault maps the cached pages around the fault first (the faulting
    // one too, if cached), and only then asks the object for the page.
    if (!write) {
      fault_around(s, v, vpn);
      if (auto it = s.gpt.find(vpn); it != s.gpt.end()) return {AccessResult::ok, Err::ok, it->second.frame};
    }
    // Linux do_cow_fault prepares the vseg's anon owner before it asks for the page, so a
    // private write fault gives the vseg an owner even when it then ends in SIGBUS.
    if (write && !v.shared) prepare_anon(s, v);
    if (objects_[v.object].pages && index >= *objects_[v.object].pages)
      return hit(Rule::fault_sigbus_beyond_size), FaultResult{AccessResult::sigbus};
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
      prepare_anon(s, v);
    }
  }
  pte.prot = effective_rights(v, pte.frame, pte.cow);
  install_pte(s, vpn, pte);
  return {AccessResult::ok, Err::ok, pte.frame};
}

LinuxModel::FaultResult LinuxModel::cow_break(AddressSpace& s, Vseg& v, Vpn vpn) {
  Pte pte = s.gpt.at(vpn);
  FrameId old = pte.frame;
  const Frame& of = frames_[old];
  // Reuse in place when this mapping holds the only reference (spec/kernels/linux.md §1.4).
  if (p_.cow_reuse_exclusive && old != kZeroFrame && !of.cached && of.refcount == 1) {
    pte.cow = false;
    pte.reused = true;
    pte.prot = effective_rights(v, old, false);
    install_pte(s, vpn, pte);
    hit(Rule::cow_reuse);
    return {AccessResult::ok, Err::ok, old};
  }
  auto f = frames_.alloc(old == kZeroFrame ? Content::zero : of.content);
  if (!f) return {AccessResult::ok, Err::enomem};
  frames_[*f].version = frames_[old].version;
  hit(old == kZeroFrame ? Rule::zero_page_write_replaces : Rule::cow_copy);
  prepare_anon(s, v);
  remove_pte(s, vpn);
  shootdown(s.asid, vpn, 1);  // the old translation must go before the new one is used
  put_frame(old);
  pte.frame = *f;
  pte.page = 0;  // a copy of one page of a compound frame is a frame of its own
  pte.cow = false;
  pte.prot = effective_rights(v, *f, false);
  install_pte(s, vpn, pte);
  return {AccessResult::ok, Err::ok, *f};
}

LinuxModel::FaultResult LinuxModel::fault_in(AddressSpace& s, Va va, AccessKind kind, int cpu) {
  Vseg* v = s.vsl.find(va);
  if (!v && try_expand_stack(s, va)) v = s.vsl.find(va);
  if (!v) return {AccessResult::segv_maperr};
  if (!allows(core_.grantable(v->prot), kind)) {
    // x86 Linux (access_error): an instruction fetch from a page that is not present
    // is handled as a read, so the page is mapped before the retry faults on NX.
    bool accessible = v->prot.r || v->prot.w || v->prot.x;
    if (kind == AccessKind::exec && p_.exec_fault_maps_first && accessible &&
        leaf_at(s.gpt, va >> page_shift_) == s.gpt.end()) {
      FaultResult r = demand_fault(s, *v, va >> page_shift_, AccessKind::read);
      if (r.result != AccessResult::ok || r.err != Err::ok) return r;  // e.g. SIGBUS beyond the object
    }
    return {AccessResult::segv_accerr};
  }
  Vpn vpn = va >> page_shift_;
  FaultResult r;
  auto it = s.gpt.find(vpn);
  if (auto h = leaf_at(s.gpt, vpn); h != s.gpt.end() && h->second.order > 0) {
    if (auto r = huge_leaf_access(s, *v, h->first, kind, cpu)) return *r;
    it = s.gpt.find(vpn);  // split: the base page goes on as any other
  }
  if (it == s.gpt.end()) {
    r = demand_fault(s, *v, vpn, kind);
  } else if (kind == AccessKind::write && !it->second.prot.w && !v->shared) {
    r = cow_break(s, *v, vpn);
  } else {
    if (!allows(it->second.prot, kind)) {  // spurious: PTE behind its vseg, refresh it
      Pte p = it->second;
      p.prot = effective_rights(*v, p.frame, p.cow);
      install_pte(s, vpn, p);
    }
    r.frame = s.gpt.at(vpn).frame;
  }
  if (r.err != Err::ok || r.result != AccessResult::ok) return r;
  auto leaf = leaf_at(s.gpt, vpn);  // a demand fault may have mapped a huge leaf (§1.13)
  Pte& p = leaf->second;
  p.accessed = true;
  if (p.fault_around) {  // used: no longer provisional
    p.fault_around = false;
    --frames_[p.frame].fault_around_maps;
  }
  if (kind == AccessKind::write && cpu >= 0) {  // a store; populate and GUP only fault in
    p.dirty = true;
    Frame& f = frames_[p.frame];
    f.content = Content::data;
    ++f.version;
  }
  // The CPU runs `s`, so it may now cache p: covered by CpuTlb::loaded.
  delta_.ranges.push_back({s.asid, leaf->first, 1});
  return r;
}

bool LinuxModel::learn_anon_pages(Asid as, Va va) {
  auto it = spaces_.find(as);
  if (it == spaces_.end()) return false;
  Vseg* v = it->second.vsl.find(va);
  if (!v || v->anon_id || v->shared) return false;
  prepare_anon(it->second, *v);
  return true;
}

void LinuxModel::prepare_anon(AddressSpace& s, Vseg& v) {
  if (v.anon_id) return;
  // Linux find_mergeable_anon_vma: reuse the owner of an adjacent vseg that differs
  // at most in R/W/X, continues v's offsets, and whose owner is not shared by fork.
  auto reusable = [&](const Vseg& lo, const Vseg& hi, const Vseg& owner) -> Decision {
    if (lo.end != hi.start || lo.object != hi.object || lo.shared != hi.shared) return Decision::no;
    if (!(lo.flags == hi.flags) || lo.pgoff + (lo.bytes() >> page_shift_) != hi.pgoff) return Decision::no;
    if (owner.anon_id == 0) return owner.anon_known ? Decision::no : Decision::undetermined;
    return forked_anon_ids_.count(owner.anon_id) ? Decision::no : Decision::yes;
  };
  const Vseg* next = s.vsl.starting_at(v.end);
  const Vseg* prev = s.vsl.ending_at(v.start);
  Decision from_next = next ? reusable(v, *next, *next) : Decision::no;
  Decision from_prev = prev ? reusable(*prev, v, *prev) : Decision::no;
  if (from_next == Decision::yes || (from_next == Decision::no && from_prev == Decision::yes)) {
    const Vseg& owner = from_next == Decision::yes ? *next : *prev;
    v.anon_id = owner.anon_id;
    v.anon_known = owner.anon_known;
    hit(Rule::anon_reuse_neighbour);
    return;
  }
  v.anon_id = core_.fresh_anon_id();
  hit(Rule::anon_new_owner);
  // If a neighbour might have had a reusable owner we cannot see, neither do we know ours.
  v.anon_known = from_next != Decision::undetermined && from_prev != Decision::undetermined;
}

void LinuxModel::fault_around(AddressSpace& s, Vseg& v, Vpn vpn) {
  std::uint64_t n = p_.fault_around_pages;
  if (n <= 1) return;
  // Linux do_fault_around: n pages starting at the aligned block start, or at the
  // vseg start when that is higher, within the vseg and its 2 MiB page-table page;
  // only pages already in the cache are mapped.
  Vpn lo = std::max({vpn & ~(n - 1), v.start >> page_shift_, vpn & ~Vpn{511}});
  Vpn hi = std::min({lo + n, v.end >> page_shift_, (vpn & ~Vpn{511}) + 512});
  const Object& o = objects_[v.object];
  for (Vpn p = lo; p < hi; ++p) {
    if (s.gpt.count(p)) continue;
    auto c = o.cache.find(v.pgoff + (p - (v.start >> page_shift_)));
    if (c == o.cache.end()) continue;
    Pte pte;
    pte.frame = c->second;
    pte.cow = !v.shared;
    pte.prot = effective_rights(v, pte.frame, pte.cow);
    pte.global = v.flags.has(VmFlag::global);
    pte.fault_around = p != vpn;  // the faulting page itself is certainly mapped
    if (pte.fault_around) hit(Rule::fault_around);
    get_frame(pte.frame);
    install_pte(s, p, pte);
  }
}

std::optional<Settled> LinuxModel::settle_kept(Asid as, Va va, bool kernel_kept) {
  auto sp = spaces_.find(as);
  if (sp == spaces_.end()) return std::nullopt;
  AddressSpace& s = sp->second;
  Vpn vpn = va >> page_shift_;
  auto it = s.gpt.find(vpn);
  if (it == s.gpt.end() || !it->second.reused) return std::nullopt;
  it->second.reused = false;
  if (kernel_kept) return std::nullopt;
  // The kernel copied where the model reused: make the same copy (content preserved).
  Pte p = it->second;
  FrameId old = p.frame;
  auto f = frames_.alloc(frames_[old].content);
  if (!f) return std::nullopt;
  frames_[*f].version = frames_[old].version;
  remove_pte(s, vpn);
  shootdown(s.asid, vpn, 1);
  put_frame(old);
  p.frame = *f;
  p.page = 0;
  install_pte(s, vpn, p);
  return Settled{"UNDETERMINED-COW-REUSE", "as " + std::to_string(as) + " va " + hex(va) +
                                               ": Linux copies instead of reusing when a transient kernel reference "
                                               "is held; the kernel copied"};
}

std::optional<Settled> LinuxModel::settle_present(Asid as, Va va, bool kernel_present) {
  auto sp = spaces_.find(as);
  if (sp == spaces_.end()) return std::nullopt;
  auto it = sp->second.gpt.find(va >> page_shift_);
  if (it == sp->second.gpt.end() || !it->second.fault_around) return std::nullopt;
  if (kernel_present) {  // the kernel did map it: an ordinary mapping from now on
    it->second.fault_around = false;
    --frames_[it->second.frame].fault_around_maps;
    return std::nullopt;
  }
  FrameId f = remove_pte(sp->second, va >> page_shift_);  // the kernel skipped it
  // No CPU can hold a translation the kernel never made: drop what the model assumed
  // its CPUs might cache, as a flush would (else a later mapping of the page looks like
  // a remap without a flush, INV-TLB-2).
  shootdown(as, va >> page_shift_, 1);
  put_frame(f);
  return Settled{"UNDETERMINED-FAULT-AROUND", "as " + std::to_string(as) + " va " + hex(va) +
                                                  ": fault-around may skip a cached page it cannot lock; the kernel "
                                                  "did not map it"};
}

// §2.7
Outcome LinuxModel::access(const Event& e) {
  core_.need_cpu(e.cpu);
  Asid as = cpus_[e.cpu].current;
  if (as == 0) throw ModelError("cpu", "cpu " + std::to_string(e.cpu) + " runs no address space (switch first)");
  const auto& a = e.get<vocab::AccessArgs>();
  FaultResult r = fault_in(spaces_.at(as), a.va, a.kind, e.cpu);
  Outcome o;
  o.err = r.err;
  o.access = r.result;
  o.frame = r.frame;
  return o;
}

// §2.8
Outcome LinuxModel::pin(const Event& ev) {
  const auto& e = ev.get<PinArgs>();
  AddressSpace& s = space_of(e.as);
  core_.need_new_pin(e.handle, "pin");
  FaultResult r = fault_in(s, e.va, e.kind, -1);
  if (r.result != AccessResult::ok) return {Err::efault};
  if (r.err != Err::ok) return {r.err};
  core_.add_pin(e.handle, r.frame, {s.asid, e.va, e.kind == AccessKind::write}, "pin");
  get_frame(r.frame);
  Outcome o;
  o.frame = r.frame;
  return o;
}

// §2.9
Outcome LinuxModel::unpin(const Event& ev) {
  put_frame(core_.remove_pin(ev.get<UnpinArgs>().handle, "pin"));
  return {};
}

// §2.10: the recording kernel grew a stack on a fault the trace did not see.
Outcome LinuxModel::stack_expand(const Event& ev) {
  const auto& e = ev.get<StackExpandArgs>();
  AddressSpace& s = space_of(e.as);
  if (s.vsl.find(e.va)) return {};
  return {try_expand_stack(s, e.va) ? Err::ok : Err::efault};
}

}  // namespace vmref::linux_mm
