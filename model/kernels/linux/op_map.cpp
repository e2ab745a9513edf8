// VSL operations: mmap, munmap, brk (spec/kernels/linux.md §2.2, §2.3, §2.5), Linux's
// merge rule (§1.2) and placement policy (§1.1).
#include <algorithm>

#include "linux_model.hpp"

namespace vmref::linux_mm {

using namespace vmref::model;

namespace {
bool aligned(Va v, std::uint64_t page) { return (v & (page - 1)) == 0; }
}  // namespace

void LinuxModel::forget_forked_owners(const AddressSpace& s) {
  // An owner made by fork belongs to one child address space (its splits stay in it).
  for (const auto& [start, v] : s.vsl.map()) forked_anon_ids_.erase(v.anon_id);
}

Va LinuxModel::start_gap(const Vseg& v) const {
  std::uint64_t gap = v.flags.has(VmFlag::growsdown) ? p_.stack_guard_gap * page_size_ : 0;
  return v.start > gap ? v.start - gap : 0;
}

bool LinuxModel::gap_free(const AddressSpace& s, Va start, std::uint64_t len) const {
  if (start < p_.mmap_min_addr || len > p_.task_size || start > p_.task_size - len)
    return false;
  if (s.vsl.any_overlap(start, start + len)) return false;
  // Keep the stack guard gap below a growsdown vseg (Linux vm_start_gap).
  const Vseg* next = s.vsl.next_from(start + len);
  return !next || start + len <= start_gap(*next);
}

std::optional<Va> LinuxModel::find_gap(const AddressSpace& s, std::uint64_t len, std::optional<Va> hint) const {
  if (hint && aligned(*hint, page_size_) && gap_free(s, *hint, len)) return hint;
  // Top-down first fit below mmap_base (Linux arch_get_unmapped_area_topdown).
  std::vector<const Vseg*> segs;
  for (const auto& [start, v] : s.vsl.map()) segs.push_back(&v);
  Va low = std::max<Va>(p_.mmap_min_addr, page_size_);
  for (std::size_t i = segs.size() + 1; i-- > 0;) {
    Va lo = std::max(i > 0 ? segs[i - 1]->end : low, low);
    Va hi = i < segs.size() ? std::min(p_.mmap_base, start_gap(*segs[i])) : p_.mmap_base;
    if (hi > lo && hi - lo >= len) return (hi - len) & ~(page_size_ - 1);
  }
  return std::nullopt;
}

Decision LinuxModel::anon_compatible(const Vseg& src, const Vseg& tgt, bool src_is_vseg) const {
  // Linux 6.18.y is_mergeable_anon_vma: `src` (the new or changed range) joins `tgt`.
  // Same owner: yes. Two different owners: no. One side without an owner: yes unless
  // the owner is a fork child's (a non-singular anon_vma chain: vma_is_fork_child),
  // where src's owner is checked only when src is a vseg of its own (vmg->middle, or
  // mremap's vmg->copied_from); the new range of an in-place grow is neither.
  if (!src.anon_known || !tgt.anon_known) {
    if (src.anon_id && src.anon_id == tgt.anon_id) return Decision::yes;
    return hit(Rule::anon_undetermined), Decision::undetermined;  // hidden kernel state: owners from a snapshot
  }
  if (!src.anon_id && !tgt.anon_id) return Decision::yes;
  if (src.anon_id == tgt.anon_id) return hit(Rule::anon_same_owner), Decision::yes;
  const std::uint64_t owner = src.anon_id ? src.anon_id : tgt.anon_id;
  if (src.anon_id && tgt.anon_id) return hit(Rule::anon_distinct_owners_refused), Decision::no;
  if (!forked_anon_ids_.count(owner))
    return hit(src.anon_id ? Rule::anon_owner_joins_ownerless : Rule::anon_ownerless_joins_owner), Decision::yes;
  if (src.anon_id && !src_is_vseg) return hit(Rule::anon_grown_range_of_fork_child), Decision::yes;
  return hit(Rule::anon_fork_child_refused), Decision::no;
}

Decision LinuxModel::mergeable(const Vseg& lo, const Vseg& hi, bool src_is_lo, bool src_is_vseg) const {
  if (!p_.merge_vsegs || lo.end != hi.start) return Decision::no;
  auto anon_like = [](Kind k) { return k == Kind::anon || k == Kind::heap || k == Kind::stack; };
  bool same_kind = lo.kind == hi.kind || (anon_like(lo.kind) && anon_like(hi.kind));
  if (!same_kind || lo.kind == Kind::special || hi.kind == Kind::special) return Decision::no;
  if (!(lo.prot == hi.prot) || lo.shared != hi.shared || lo.object != hi.object) return Decision::no;
  if (!(lo.flags == hi.flags) || lo.name != hi.name) return Decision::no;
  // Offsets must continue (Linux vm_pgoff; anonymous vsegs use their creation VPN).
  if (lo.pgoff + (lo.bytes() >> page_shift_) != hi.pgoff) return Decision::no;
  return src_is_lo ? anon_compatible(lo, hi, src_is_vseg) : anon_compatible(hi, lo, src_is_vseg);
}

void LinuxModel::count_merge() const {
  if (Rule r = merge_rule(caller_); r != Rule::count) hit(r);
}

void LinuxModel::unmap_vsegs(AddressSpace& s, Va start, Va end, TlbMode m) {
  auto cuts = [&](Va at) {
    const Vseg* v = s.vsl.find(at);
    return v && v->start < at;
  };
  if (cuts(start) || cuts(end)) count_split();
  if (caller_ == Caller::mmap && s.vsl.any_overlap(start, end)) hit(Rule::mmap_fixed_replaces);
  // The frees-before-flush variant (§3): frames go at once, the flush is left to a later one.
  if (p_.frees_before_flush && m == TlbMode::sync) m = TlbMode::none;
  split_huge_at(s, start);  // a cut inside a huge leaf splits it first (§1.13)
  split_huge_at(s, end);
  unmap_range(s, start, end, m);
}

void LinuxModel::join(AddressSpace& s, Vseg& lo, const Vseg& hi) {
  if (lo.anon_id == 0 && hi.anon_id != 0) lo.anon_id = hi.anon_id;
  lo.anon_known = lo.anon_known && hi.anon_known;
  lo.end = hi.end;
  undetermined_[s.asid].erase(hi.start);
  s.vsl.erase(hi.start);
}

void LinuxModel::merge_around(AddressSpace& s, Va start) {
  Vseg* v = s.vsl.starting_at(start);
  if (!v) return;
  // Linux vma_merge_*: v (new or changed) may join the vseg below, the one above, or
  // both when those two are compatible with each other too.
  Vseg* prev = s.vsl.ending_at(v->start);
  Vseg* next = s.vsl.starting_at(v->end);
  Decision left = prev ? mergeable(*prev, *v, false) : Decision::no;
  Decision right = next ? mergeable(*v, *next, true) : Decision::no;
  if (left == Decision::yes && right == Decision::yes) {
    bool both_owned = prev->anon_id && next->anon_id;
    if (both_owned && prev->anon_id != next->anon_id) {  // are_anon_vmas_compatible
      right = Decision::no;
      hit(Rule::anon_prev_next_incompatible);
    }
  }
  if (left == Decision::undetermined) undetermined_[s.asid].insert(v->start);
  if (right == Decision::undetermined) undetermined_[s.asid].insert(next->start);
  Va next_start = next ? next->start : 0;
  if (left == Decision::yes || right == Decision::yes) count_merge();
  if (left == Decision::yes) {
    join(s, *prev, *v);
    v = prev;
  }
  if (right == Decision::yes) join(s, *v, *s.vsl.starting_at(next_start));
  delta_.spaces.push_back(s.asid);
}

void LinuxModel::merge_grown(AddressSpace& s, Vseg& v) {
  // mremap's in-place grow (vma_merge_extend): the added range joins v and may join the
  // vseg after it; v's own neighbour below is not considered. The range is no vseg of
  // its own, so v's fork-made owner does not keep it from an owner-less next.
  Vseg* next = s.vsl.starting_at(v.end);
  Decision right = next ? mergeable(v, *next, true, /*src_is_vseg=*/false) : Decision::no;
  if (right == Decision::undetermined) undetermined_[s.asid].insert(next->start);
  if (right == Decision::yes) {
    hit(Rule::merge_mremap_grow);
    join(s, v, *next);
  }
  delta_.spaces.push_back(s.asid);
}

std::vector<Resolution> LinuxModel::resolve_undetermined(Asid as, const std::function<bool(Va)>& kernel_split_at) {
  std::vector<Resolution> out;
  auto it = spaces_.find(as);
  if (it == spaces_.end()) return out;
  AddressSpace& s = it->second;
  for (Va b : std::vector<Va>(undetermined_[s.asid].begin(), undetermined_[s.asid].end())) {
    Vseg* hi = s.vsl.starting_at(b);
    Vseg* lo = hi ? s.vsl.ending_at(b) : nullptr;
    undetermined_[s.asid].erase(b);
    if (!lo || mergeable(*lo, *hi, false) != Decision::undetermined) continue;  // no longer in question
    bool merged = !kernel_split_at(b);
    out.push_back({b, merged});
    if (merged) {  // the kernel's owners were compatible: they are one from now on
      std::uint64_t id = lo->anon_id ? lo->anon_id : hi->anon_id;
      lo->anon_id = hi->anon_id = id;
      lo->anon_known = hi->anon_known = true;
      join(s, *lo, *hi);
    } else {  // incompatible: two distinct known owners
      if (!lo->anon_id) lo->anon_id = core_.fresh_anon_id();
      hi->anon_id = core_.fresh_anon_id();
      lo->anon_known = hi->anon_known = true;
    }
  }
  delta_.spaces.push_back(as);
  return out;
}

bool LinuxModel::populate(AddressSpace& s, Va start, Va end, bool stop_at_failure) {
  bool all = true;
  for (Va va = start; va < end; va += page_size_) {
    const Vseg* v = s.vsl.find(va);
    // Linux populate_vma_page_range: write faults only for private writable mappings.
    bool write = v && v->prot.w && !v->shared;
    Va vseg_end = v ? v->end : va + page_size_;
    FaultResult r = fault_in(s, va, write ? AccessKind::write : AccessKind::read, -1);
    if (r.result == AccessResult::ok && r.err == Err::ok) continue;
    all = false;
    if (stop_at_failure) break;
    // Linux __mm_populate: a failed fault ends the work in this vseg; go on at the next.
    // (So populating a range far larger than memory costs what memory holds.)
    va = std::min(end, vseg_end) - page_size_;
  }
  return all;
}

Vseg LinuxModel::new_vseg(const MmapArgs& e, Va start, std::uint64_t len) {
  Vseg v;
  v.start = start;
  v.end = start + len;
  v.prot = e.prot;
  v.shared = e.shared;
  v.flags.set(VmFlag::growsdown, e.flags.has(VmFlag::growsdown));
  v.flags.set(VmFlag::locked, e.flags.has(VmFlag::locked));
  v.flags.set(VmFlag::noreserve, e.flags.has(VmFlag::noreserve));
  v.flags.set(VmFlag::global, e.flags.has(VmFlag::global));
  if (e.map_stack && p_.map_stack_nohugepage) v.flags.set(VmFlag::nohugepage);
  // Linux accountable_mapping: private writable without MAP_NORESERVE.
  v.flags.set(VmFlag::account, !e.shared && e.prot.w && !e.flags.has(VmFlag::noreserve));
  if (e.anonymous) {
    v.kind = e.flags.has(VmFlag::growsdown) ? Kind::stack : Kind::anon;
    v.object = e.shared ? core_.new_shmem(len >> page_shift_) : kNoObject;
    v.pgoff = e.shared ? 0 : start >> page_shift_;
  } else {
    v.kind = Kind::file;
    v.object = core_.object_for(*e.file);
    v.pgoff = e.offset >> page_shift_;
    v.flags.maywrite = !e.shared || e.file->fd_writable;
  }
  return v;
}

// §2.2
Outcome LinuxModel::mmap(const Event& ev) {
  const auto& e = ev.get<MmapArgs>();
  caller_ = Caller::mmap;
  AddressSpace& s = space_of(e.as);
  std::uint64_t len = page_round(e.len);
  if (e.len == 0 || !aligned(e.offset, page_size_)) return {Err::einval};
  if (len == 0) return {Err::enomem};
  if (!e.anonymous && !e.file) throw ModelError("file", "a file mapping needs a \"file\" object");
  if (e.shared && e.file && e.prot.w && !e.file->fd_writable) return {Err::eacces};
  Va start;
  if (e.placement != Placement::hint) {
    if (!aligned(e.addr, page_size_)) return {Err::einval};
    if (len > p_.task_size || e.addr > p_.task_size - len) return {Err::enomem};
    if (e.addr < p_.mmap_min_addr) return {Err::eperm};
    if (e.placement == Placement::fixed_noreplace && s.vsl.any_overlap(e.addr, e.addr + len))
      return {Err::eexist};
    start = e.addr;
    unmap_vsegs(s, start, start + len, TlbMode::sync);
  } else {
    // A recorded kernel's choice (expect.ret) is taken when it is a legal placement.
    std::optional<Va> want = e.chosen;
    if (!want && e.addr) want = e.addr & ~(page_size_ - 1);
    auto gap = find_gap(s, len, want);
    if (!gap) return {Err::enomem};
    start = *gap;
  }
  s.vsl.insert(new_vseg(e, start, len));
  delta_.ranges.push_back({s.asid, start >> page_shift_, len >> page_shift_});
  merge_around(s, start);
  if (e.populate || e.flags.has(VmFlag::locked)) populate(s, start, start + len);
  return {Err::ok, start};
}

// §2.3
Outcome LinuxModel::munmap(const Event& ev) {
  const auto& e = ev.get<MunmapArgs>();
  caller_ = Caller::munmap;
  AddressSpace& s = space_of(e.as);
  std::uint64_t len = page_round(e.len);
  if (!aligned(e.addr, page_size_) || e.len == 0 || len == 0) return {Err::einval};
  if (len > p_.task_size || e.addr > p_.task_size - len) return {Err::einval};
  unmap_vsegs(s, e.addr, e.addr + len, e.tlb);
  return {};
}

// §2.5 (Linux brk(2): returns the new break, or the old one on failure)
Outcome LinuxModel::brk(const Event& ev) {
  const auto& e = ev.get<BrkArgs>();
  caller_ = Caller::brk;
  AddressSpace& s = space_of(e.as);
  if (!s.has_brk) throw ModelError("as", "heap start unknown: give \"brk\" in as_create");
  Va req = e.addr;
  if (req < s.brk_start) return {Err::ok, s.brk};
  Va newbrk = page_round(req), oldbrk = page_round(s.brk);
  if (newbrk == oldbrk) {
    s.brk = req;
    return {Err::ok, s.brk};
  }
  if (req <= s.brk) {
    unmap_vsegs(s, newbrk, oldbrk, TlbMode::sync);
    s.brk = req;
    return {Err::ok, s.brk};
  }
  // Grow: the new end plus one page must stay below the next vseg's start gap
  // (Linux brk(2): newbrk + PAGE_SIZE > vm_start_gap(next) fails).
  if (s.vsl.find(oldbrk)) return {Err::ok, s.brk};
  if (const Vseg* next = s.vsl.next_from(oldbrk); next && newbrk + page_size_ > start_gap(*next))
    return {Err::ok, s.brk};
  Vseg v;
  v.start = oldbrk;
  v.end = newbrk;
  v.prot = {true, true, false};
  v.kind = Kind::heap;
  v.pgoff = oldbrk >> page_shift_;
  v.flags.set(VmFlag::account);
  s.vsl.insert(v);
  delta_.ranges.push_back({s.asid, v.start >> page_shift_, (newbrk - oldbrk) >> page_shift_});
  merge_around(s, oldbrk);
  s.brk = req;
  return {Err::ok, s.brk};
}

}  // namespace vmref::linux_mm
