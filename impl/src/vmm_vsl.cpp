// VMM core: the VSL (a disjoint interval map), placement, merging, and the operations
// that change it: mmap, munmap, mprotect, brk (spec/vmm.md §2.4-§2.7, profiles.md §1.2).
#include "vmm_internal.hpp"

namespace vmref::impl {

using namespace vmref::model;

Vseg* Vmm::find(Space& s, Va va) {
  auto it = s.vsl.upper_bound(va);
  if (it == s.vsl.begin()) return nullptr;
  --it;
  return it->second.contains(va) ? &it->second : nullptr;
}

Vseg* Vmm::starting_at(Space& s, Va va) {
  auto it = s.vsl.find(va);
  return it == s.vsl.end() ? nullptr : &it->second;
}

Vseg* Vmm::ending_at(Space& s, Va va) {
  auto it = s.vsl.lower_bound(va);
  if (it == s.vsl.begin()) return nullptr;
  --it;
  return it->second.end == va ? &it->second : nullptr;
}

bool Vmm::any_overlap(const Space& s, Va start, Va end) const {
  auto it = s.vsl.lower_bound(start);
  if (it != s.vsl.end() && it->first < end) return true;
  return it != s.vsl.begin() && std::prev(it)->second.end > start;
}

void Vmm::vsl_insert(Space& s, const Vseg& v) {
  s.vsl.emplace(v.start, v);
  if (v.object != kNoObject) ++objects_[v.object]->vsegs;
}

void Vmm::vsl_erase(Space& s, Va start) {
  auto it = s.vsl.find(start);
  std::uint32_t obj = it->second.object;
  s.vsl.erase(it);
  if (obj != kNoObject) drop_object_ref(obj);
}

void Vmm::drop_object_ref(std::uint32_t obj) {
  Object& o = *objects_[obj];
  if (--o.vsegs > 0 || !o.shmem || !o.live) return;
  for (auto& [idx, pfn] : o.cache) {  // no vseg maps the shmem object: its pages go
    pages_[pfn].cached = false;
    put(pfn);
  }
  o.cache.clear();
  o.live = false;
  free_shmem_.push_back(obj);
}

void Vmm::split_at(Space& s, Va va) {
  Vseg* v = find(s, va);
  if (!v || v->start == va) return;
  Vseg hi = *v;
  hi.start = va;
  hi.pgoff += (va - v->start) >> kPageShift;
  v->end = va;
  vsl_insert(s, hi);
}

std::vector<Vseg> Vmm::remove_range(Space& s, Va start, Va end) {
  split_at(s, start);
  split_at(s, end);
  std::vector<Vseg> out;
  for (auto it = s.vsl.lower_bound(start); it != s.vsl.end() && it->first < end;) {
    out.push_back(it->second);
    Va st = (it++)->first;
    vsl_erase(s, st);
  }
  return out;
}

bool Vmm::gap_free(const Space& s, Va start, std::uint64_t len) const {
  if (start < profile_.mmap_min_addr || len > profile_.task_size || start > profile_.task_size - len) return false;
  return !any_overlap(s, start, start + len);
}

std::optional<Va> Vmm::find_gap(const Space& s, std::uint64_t len, std::optional<Va> hint) const {
  if (hint && aligned(*hint) && gap_free(s, *hint, len) && mutant_ != Mutant::hint_ignored) return hint;
  // Top-down first fit below mmap_base (Linux arch_get_unmapped_area_topdown).
  Va low = std::max<Va>(profile_.mmap_min_addr, kPage);
  Va hi = profile_.mmap_base;
  for (auto it = s.vsl.lower_bound(hi); ; ) {
    Va top = hi;
    if (it != s.vsl.end()) top = std::min(top, it->second.start);
    Va lo = low;
    if (it != s.vsl.begin()) lo = std::max(lo, std::prev(it)->second.end);
    if (top > lo && top - lo >= len) return (top - len) & ~(kPage - 1);
    if (it == s.vsl.begin()) return std::nullopt;
    --it;
  }
}

bool Vmm::anon_compatible(const Vseg& src, const Vseg& tgt) const {
  if (src.anon_id == tgt.anon_id) return true;
  if (!src.anon_id) return !forked_anon_ids_.count(tgt.anon_id);
  if (!tgt.anon_id) return !forked_anon_ids_.count(src.anon_id);
  return false;
}

bool Vmm::mergeable(const Vseg& lo, const Vseg& hi, bool src_is_lo) const {
  if (!profile_.merge_vsegs || lo.end != hi.start) return false;
  auto anon_like = [](Kind k) { return k == Kind::anon || k == Kind::heap || k == Kind::stack; };
  if (!(lo.kind == hi.kind || (anon_like(lo.kind) && anon_like(hi.kind)))) return false;
  if ((!(lo.prot == hi.prot) && mutant_ != Mutant::merge_ignores_prot) || lo.shared != hi.shared || lo.object != hi.object)
    return false;
  if (!(lo.flags == hi.flags) || lo.name != hi.name) return false;
  if (lo.pgoff + ((lo.end - lo.start) >> kPageShift) != hi.pgoff) return false;
  return src_is_lo ? anon_compatible(lo, hi) : anon_compatible(hi, lo);
}

void Vmm::merge_around(Space& s, Va start) {
  Vseg* v = starting_at(s, start);
  if (!v) return;
  Vseg* prev = ending_at(s, v->start);
  Vseg* next = starting_at(s, v->end);
  bool left = prev && mergeable(*prev, *v, false);
  bool right = next && mergeable(*v, *next, true);
  if (left && right && prev->anon_id && next->anon_id && prev->anon_id != next->anon_id) right = false;
  auto join = [&](Vseg& lo, Va hi_start) {
    Vseg& hi = s.vsl.at(hi_start);
    if (!lo.anon_id) lo.anon_id = hi.anon_id;
    lo.end = hi.end;
    vsl_erase(s, hi_start);
  };
  Va next_start = next ? next->start : 0;
  if (left) {
    join(*prev, v->start);
    v = prev;
  }
  if (right) join(*v, next_start);
}

void Vmm::prepare_anon(Space& s, Vseg& v) {
  if (v.anon_id) return;
  // Reuse an adjacent owner (Linux find_mergeable_anon_vma), next first, then prev.
  auto reusable = [&](const Vseg& lo, const Vseg& hi, const Vseg& owner) {
    if (lo.end != hi.start || lo.object != hi.object || lo.shared != hi.shared) return false;
    if (!(lo.flags == hi.flags) || lo.pgoff + ((lo.end - lo.start) >> kPageShift) != hi.pgoff) return false;
    return owner.anon_id != 0 && !forked_anon_ids_.count(owner.anon_id);
  };
  const Vseg* next = starting_at(s, v.end);
  const Vseg* prev = ending_at(s, v.start);
  if (next && reusable(v, *next, *next)) v.anon_id = next->anon_id;
  else if (prev && reusable(*prev, v, *prev)) v.anon_id = prev->anon_id;
  else v.anon_id = ++anon_ids_;
}

std::uint32_t Vmm::object_for(const FileRef& f) {
  if (auto it = file_objects_.find(f.id); it != file_objects_.end()) return it->second;
  auto o = std::make_unique<Object>();
  if (f.size) o->pages = (*f.size + kPage - 1) >> kPageShift;
  objects_.push_back(std::move(o));
  return file_objects_[f.id] = static_cast<std::uint32_t>(objects_.size() - 1);
}

std::uint32_t Vmm::new_shmem(std::uint64_t pages) {
  auto o = std::make_unique<Object>();
  o->shmem = true;
  o->pages = pages;
  if (!free_shmem_.empty()) {
    std::uint32_t id = free_shmem_.back();
    free_shmem_.pop_back();
    objects_[id] = std::move(o);
    return id;
  }
  objects_.push_back(std::move(o));
  return static_cast<std::uint32_t>(objects_.size() - 1);
}

Vseg Vmm::new_vseg(const Event& e, Va start, std::uint64_t len) {
  if (e.vm_flags.has(VmFlag::growsdown) || e.vm_flags.has(VmFlag::locked) || e.map_stack)
    throw Unsupported("vm_flags", "growsdown, locked and MAP_STACK mappings are not implemented by the optimized VMM");
  Vseg v;
  v.start = start;
  v.end = start + len;
  v.prot = e.prot;
  v.shared = e.shared;
  v.flags.set(VmFlag::noreserve, e.vm_flags.has(VmFlag::noreserve));
  v.flags.set(VmFlag::global, e.vm_flags.has(VmFlag::global));
  v.flags.set(VmFlag::account, !e.shared && e.prot.w && !e.vm_flags.has(VmFlag::noreserve));
  if (e.anonymous) {
    v.kind = Kind::anon;
    v.object = e.shared ? new_shmem(len >> kPageShift) : kNoObject;
    v.pgoff = e.shared ? 0 : start >> kPageShift;
  } else {
    v.kind = Kind::file;
    v.object = object_for(*e.file);
    v.pgoff = e.offset >> kPageShift;
    v.flags.maywrite = !e.shared || e.file->fd_writable;
  }
  return v;
}

void Vmm::populate(Space& s, Va start, Va end) {
  for (Va va = start; va < end; va += kPage) {
    const Vseg* v = find(s, va);
    bool write = v && v->prot.w && !v->shared;
    fault_in(s, va, write ? AccessKind::write : AccessKind::read, -1);
  }
}

Outcome Vmm::mmap(const Event& e) {
  Space& s = space_of(e.as);
  std::uint64_t len = page_round(e.len);
  if (e.len == 0 || !aligned(e.offset)) return {Err::einval};
  if (len == 0) return {Err::enomem};
  if (!e.anonymous && !e.file) throw std::invalid_argument("file: a file mapping needs a \"file\" object");
  if (e.shared && e.file && e.prot.w && !e.file->fd_writable) return {Err::eacces};
  Va start;
  if (e.placement != Placement::hint) {
    if (!aligned(e.addr)) return {Err::einval};
    if (len > profile_.task_size || e.addr > profile_.task_size - len) return {Err::enomem};
    if (e.addr < profile_.mmap_min_addr) return {Err::eperm};
    if (e.placement == Placement::fixed_noreplace && any_overlap(s, e.addr, e.addr + len)) return {Err::eexist};
    start = e.addr;
    unmap_range(s, start, start + len);
  } else {
    std::optional<Va> want = e.chosen;
    if (!want && e.addr) want = e.addr & ~(kPage - 1);
    auto gap = find_gap(s, len, want);
    if (!gap) return {Err::enomem};
    start = *gap;
  }
  vsl_insert(s, new_vseg(e, start, len));
  merge_around(s, start);
  if (e.populate) populate(s, start, start + len);
  return {Err::ok, start};
}

void Vmm::unmap_range(Space& s, Va start, Va end) {
  if (!any_overlap(s, start, end)) return;
  for (const Vseg& v : remove_range(s, start, end)) unmap_ptes(s, v.start, v.end);
}

Outcome Vmm::munmap(const Event& e) {
  Space& s = space_of(e.as);
  std::uint64_t len = page_round(e.len);
  if (!aligned(e.addr) || e.len == 0 || len == 0) return {Err::einval};
  if (len > profile_.task_size || e.addr > profile_.task_size - len) return {Err::einval};
  if (e.tlb != TlbMode::sync) throw Unsupported("tlb", "deferred or skipped TLB flushes are not implemented by the optimized VMM");
  unmap_range(s, e.addr, e.addr + len);
  return {};
}

void Vmm::reprotect(Space& s, const Vseg& v) {
  bool reduced = false;
  s.table.protect(v.start, v.end - v.start, [&](std::uint64_t, std::uint64_t pa, LeafAttrs& a) {
    std::uint64_t pfn = pa >> kPageShift;
    const PageInfo& p = pages_[pfn];
    // A frame other mappings or the page cache also reach stays COW.
    bool cow = is_cow(a) || (!v.shared && (pfn == zero_pfn_ || p.cached || p.mapcount > 1));
    LeafAttrs n = attrs_for(v, pfn, cow);
    n.accessed = a.accessed;
    n.dirty = a.dirty;
    if ((a.rights.w && !n.rights.w) || (a.rights.u && !n.rights.u) || (a.rights.x && !n.rights.x)) reduced = true;
    a = n;
  });
  if (reduced) shootdown(s, v.start, v.end);  // rights withdrawn: flush before returning
}

Outcome Vmm::mprotect(const Event& e) {
  Space& s = space_of(e.as);
  if (!aligned(e.addr)) return {Err::einval};
  if (e.len == 0) return {};
  std::uint64_t len = page_round(e.len);
  if (len == 0 || e.addr + len < e.addr) return {Err::enomem};
  Va end = e.addr + len;
  if (!find(s, e.addr)) return {Err::enomem};
  std::vector<Va> changed;
  Err err = Err::ok;
  bool hole = false;
  for (Va cur = e.addr; cur < end;) {
    Vseg* v = find(s, cur);
    if (!v) {
      hole = true;
      break;
    }
    if (e.prot.w && v->shared && !v->flags.maywrite) {
      err = Err::eacces;
      break;
    }
    Vseg probe = *v;
    if (e.prot.w && !probe.shared && !probe.flags.has(VmFlag::noreserve) && !probe.prot.w) probe.flags.set(VmFlag::account);
    else if (!e.prot.w && probe.object == kNoObject && probe.anon_id == 0) probe.flags.set(VmFlag::account, false);
    probe.prot = e.prot;
    if (probe.prot == v->prot && probe.flags == v->flags) {
      cur = v->end;
      continue;
    }
    Va stop = std::min(end, v->end);
    split_at(s, cur);
    split_at(s, stop);
    Vseg* piece = find(s, cur);
    piece->prot = probe.prot;
    piece->flags = probe.flags;
    reprotect(s, *piece);
    changed.push_back(piece->start);
    cur = piece->end;
  }
  for (Va st : changed)
    if (Vseg* v = find(s, st)) merge_around(s, v->start);
  if (err != Err::ok) return {err};
  return {hole ? Err::enomem : Err::ok};
}

Outcome Vmm::brk(const Event& e) {
  Space& s = space_of(e.as);
  if (!s.has_brk) throw std::invalid_argument("as: heap start unknown: give \"brk\" in as_create");
  Va req = e.addr;
  if (req < s.brk_start) return {Err::ok, s.brk};
  Va newbrk = page_round(req), oldbrk = page_round(s.brk);
  if (newbrk == oldbrk) {
    s.brk = req;
    return {Err::ok, s.brk};
  }
  if (req <= s.brk) {
    unmap_range(s, newbrk, oldbrk);
    s.brk = req;
    return {Err::ok, s.brk};
  }
  if (find(s, oldbrk)) return {Err::ok, s.brk};
  auto next = s.vsl.lower_bound(oldbrk);
  if (next != s.vsl.end() && newbrk + kPage > next->second.start) return {Err::ok, s.brk};
  Vseg v;
  v.start = oldbrk;
  v.end = newbrk;
  v.prot = {true, true, false};
  v.kind = Kind::heap;
  v.pgoff = oldbrk >> kPageShift;
  v.flags.set(VmFlag::account);
  vsl_insert(s, v);
  merge_around(s, oldbrk);
  s.brk = req;
  return {Err::ok, s.brk};
}

}  // namespace vmref::impl
