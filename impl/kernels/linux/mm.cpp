// The VMA tree, placement, merging, objects, and the operations that change VMAs:
// mmap, munmap, mprotect, brk (spec/kernels/linux.md §2.2-§2.5, §1.1, §1.2).
#include <algorithm>

#include "linux_vmm.hpp"

namespace vmref::linux_mm {

using namespace vmref::impl;
using vocab::FileRef;
using vocab::Kind;
using vocab::VmFlag;

namespace {
bool aligned(std::uint64_t v) { return (v & (kPage - 1)) == 0; }
std::uint64_t page_round(std::uint64_t len) { return len > UINT64_MAX - (kPage - 1) ? 0 : (len + kPage - 1) & ~(kPage - 1); }
std::uint64_t vm_access(vocab::Prot p) { return (p.r ? VM_READ : 0) | (p.w ? VM_WRITE : 0) | (p.x ? VM_EXEC : 0); }
}  // namespace

LinuxVmm::LinuxVmm(VmmCore& core, const LinuxParams& params) : KernelLayer(core), p_(params) {
  objects_.emplace_back();
}

LinuxVmm::Mm& LinuxVmm::mm_of(Asid as) {
  auto it = mms_.find(as);
  if (it == mms_.end()) throw std::invalid_argument("as: address space " + std::to_string(as) + " does not exist");
  return it->second;
}

const LinuxVmm::Mm* LinuxVmm::mm(Asid as) const {
  auto it = mms_.find(as);
  return it == mms_.end() ? nullptr : &it->second;
}

void LinuxVmm::created(Asid as, const vocab::AsCreateArgs& a) {
  Mm& m = mms_[as];
  m = Mm{};
  if (a.brk) {
    m.has_brk = true;
    m.start_brk = m.brk = a.brk;
  }
}

void LinuxVmm::before_destroy(Asid as) {
  auto it = mms_.find(as);
  if (it == mms_.end()) return;
  forget_forked_owners(it->second);
  unmap_range(core_.space_of(as), it->second, 0, UINT64_MAX & ~(kPage - 1));
  mms_.erase(it);
}

void LinuxVmm::forget_forked_owners(const Mm& m) {
  for (const auto& [end, v] : m.vmas.map()) forked_anon_ids_.erase(v.anon_vma);
}

void LinuxVmm::insert_vma(Mm& m, const Vma& v) {
  m.vmas.insert(v);
  if (v.vm_file) ++objects_[v.vm_file]->vmas;
}

void LinuxVmm::erase_vma(Mm& m, Vma& v) {
  std::uint32_t obj = v.vm_file;
  m.vmas.erase(v);
  if (obj) drop_object_ref(obj);
}

void LinuxVmm::drop_object_ref(std::uint32_t obj) {
  Object& o = *objects_[obj];
  if (--o.vmas > 0 || !o.shmem || !o.live) return;
  for (auto& [idx, pfn] : o.cache) {  // no VMA maps the shmem object: its pages go
    core_.page(pfn).cached = false;
    core_.put(pfn);
  }
  o.cache.clear();
  o.live = false;
  free_shmem_.push_back(obj);
}

// __split_vma: the high part continues the file offset.
void LinuxVmm::split_at(Space& s, Mm& m, Va va) {
  Vma* v = m.vmas.find(va);
  if (!v || v->vm_start == va) return;
  // vma_adjust_trans_huge: no huge leaf may straddle a VMA edge.
  if (auto leaf = s.table.lookup(va); leaf && leaf->va != va) split_huge_pmd(s, va);
  Vma hi = *v;
  hi.vm_start = va;
  hi.vm_pgoff += (va - v->vm_start) >> kPageShift;
  m.vmas.set_end(*v, va);
  insert_vma(m, hi);
}

std::vector<Vma> LinuxVmm::remove_range(Space& s, Mm& m, Va start, Va end) {
  split_at(s, m, start);
  split_at(s, m, end);
  std::vector<Vma> out;
  for (auto it = m.vmas.first_from(start); it != m.vmas.end() && it->second.vm_start < end;) {
    out.push_back(it->second);
    Vma& v = (it++)->second;
    erase_vma(m, v);
  }
  return out;
}

bool LinuxVmm::gap_free(const Mm& m, Va start, std::uint64_t len) const {
  if (start < p_.mmap_min_addr || len > p_.task_size || start > p_.task_size - len) return false;
  return !m.vmas.any_overlap(start, start + len);
}

std::optional<Va> LinuxVmm::find_gap(const Mm& m, std::uint64_t len, std::optional<Va> hint) const {
  if (hint && aligned(*hint) && gap_free(m, *hint, len) && core_.mutant() != &kHintIgnored) return hint;
  // Top-down first fit below mmap_base (Linux arch_get_unmapped_area_topdown).
  Va low = std::max<Va>(p_.mmap_min_addr, kPage);
  Va hi = p_.mmap_base;
  const auto& map = m.vmas.map();
  for (auto it = m.vmas.first_from(hi);;) {
    Va top = hi;
    if (it != map.end()) top = std::min(top, it->second.vm_start);
    Va lo = low;
    if (it != map.begin()) lo = std::max(lo, std::prev(it)->second.vm_end);
    if (top > lo && top - lo >= len) return (top - len) & ~(kPage - 1);
    if (it == map.begin()) return std::nullopt;
    --it;
  }
}

// is_mergeable_anon_vma: an owner made by fork joins nobody new.
bool LinuxVmm::anon_compatible(const Vma& src, const Vma& tgt) const {
  if (src.anon_vma == tgt.anon_vma) return true;
  if (!src.anon_vma) return !forked_anon_ids_.count(tgt.anon_vma);
  if (!tgt.anon_vma) return !forked_anon_ids_.count(src.anon_vma);
  return false;
}

bool LinuxVmm::mergeable(const Vma& lo, const Vma& hi, bool src_is_lo) const {
  if (!p_.merge_vsegs || lo.vm_end != hi.vm_start) return false;
  auto anon_like = [](Kind k) { return k == Kind::anon || k == Kind::heap || k == Kind::stack; };
  if (!(lo.kind == hi.kind || (anon_like(lo.kind) && anon_like(hi.kind)))) return false;
  std::uint64_t ignore = core_.mutant() == &kMergeIgnoresProt ? VM_ACCESS : 0;
  if ((lo.vm_flags & ~ignore) != (hi.vm_flags & ~ignore) || lo.vm_file != hi.vm_file || lo.name != hi.name) return false;
  if (lo.vm_pgoff + lo.pages() != hi.vm_pgoff) return false;
  return src_is_lo ? anon_compatible(lo, hi) : anon_compatible(hi, lo);
}

// vma_merge: the new or changed VMA may join the one below, the one above, or both.
void LinuxVmm::merge_around(Mm& m, Va start) {
  Vma* v = m.vmas.starting_at(start);
  if (!v) return;
  Vma* prev = m.vmas.ending_at(v->vm_start);
  Vma* next = m.vmas.starting_at(v->vm_end);
  bool left = prev && mergeable(*prev, *v, false);
  bool right = next && mergeable(*v, *next, true);
  if (left && right && prev->anon_vma && next->anon_vma && prev->anon_vma != next->anon_vma) right = false;
  auto join = [&](Vma& lo, Vma& hi) {
    if (!lo.anon_vma) lo.anon_vma = hi.anon_vma;
    Va end = hi.vm_end;
    erase_vma(m, hi);
    m.vmas.set_end(lo, end);
  };
  if (left) {
    join(*prev, *v);
    v = prev;
  }
  if (right) join(*v, *next);
}

std::uint32_t LinuxVmm::object_for(const FileRef& f) {
  if (auto it = file_objects_.find(f.id); it != file_objects_.end()) return it->second;
  auto o = std::make_unique<Object>();
  if (f.size) o->pages = (*f.size + kPage - 1) >> kPageShift;
  objects_.push_back(std::move(o));
  return file_objects_[f.id] = static_cast<std::uint32_t>(objects_.size() - 1);
}

std::uint32_t LinuxVmm::new_shmem(std::uint64_t pages) {
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

Vma LinuxVmm::new_vma(const MmapArgs& a, Va start, std::uint64_t len) {
  if (a.flags.has(VmFlag::growsdown) || a.flags.has(VmFlag::locked) || a.map_stack)
    throw Unsupported("vm_flags", "growsdown, locked and MAP_STACK mappings are not implemented by the optimized VMM");
  Vma v;
  v.vm_start = start;
  v.vm_end = start + len;
  v.vm_flags = vm_access(a.prot) | VM_MAYWRITE | (a.shared ? VM_SHARED : 0);
  if (a.flags.has(VmFlag::noreserve)) v.vm_flags |= VM_NORESERVE;
  if (a.flags.has(VmFlag::global)) v.vm_flags |= VM_GLOBAL;
  if (!a.shared && a.prot.w && !a.flags.has(VmFlag::noreserve)) v.vm_flags |= VM_ACCOUNT;  // accountable_mapping
  if (a.anonymous) {
    v.kind = Kind::anon;
    v.vm_file = a.shared ? new_shmem(len >> kPageShift) : 0;
    v.vm_pgoff = a.shared ? 0 : start >> kPageShift;
  } else {
    v.kind = Kind::file;
    v.vm_file = object_for(*a.file);
    v.vm_pgoff = a.offset >> kPageShift;
    if (a.shared && !a.file->fd_writable) v.vm_flags &= ~VM_MAYWRITE;
  }
  return v;
}

// Linux __mm_populate: a fault that fails ends the work in that VMA; the next VMA is tried.
void LinuxVmm::populate(Space& s, Mm& m, Va start, Va end) {
  for (Va va = start; va < end; va += kPage) {
    const Vma* v = m.vmas.find(va);
    bool write = v && v->has(VM_WRITE) && !v->has(VM_SHARED);
    Va vma_end = v ? v->vm_end : va + kPage;
    Fault f = fault_in(s, m, va, write ? vocab::AccessKind::write : vocab::AccessKind::read, -1);
    if (f.result != vocab::AccessResult::ok || f.err != Err::ok) va = std::min(end, vma_end) - kPage;
  }
}

// §2.2
Outcome LinuxVmm::mmap(const Event& ev) {
  const auto& a = ev.get<MmapArgs>();
  Space& s = core_.space_of(a.as);
  Mm& m = mm_of(a.as);
  std::uint64_t len = page_round(a.len);
  if (a.len == 0 || !aligned(a.offset)) return {Err::einval};
  if (len == 0) return {Err::enomem};
  if (!a.anonymous && !a.file) throw std::invalid_argument("file: a file mapping needs a \"file\" object");
  if (a.shared && a.file && a.prot.w && !a.file->fd_writable) return {Err::eacces};
  Va start;
  if (a.placement != Placement::hint) {
    if (!aligned(a.addr)) return {Err::einval};
    if (len > p_.task_size || a.addr > p_.task_size - len) return {Err::enomem};
    if (a.addr < p_.mmap_min_addr) return {Err::eperm};
    if (a.placement == Placement::fixed_noreplace && m.vmas.any_overlap(a.addr, a.addr + len)) return {Err::eexist};
    start = a.addr;
    unmap_range(s, m, start, start + len);
  } else {
    std::optional<Va> want = a.chosen;
    if (!want && a.addr) want = a.addr & ~(kPage - 1);
    auto gap = find_gap(m, len, want);
    if (!gap) return {Err::enomem};
    start = *gap;
  }
  insert_vma(m, new_vma(a, start, len));
  merge_around(m, start);
  if (a.populate) populate(s, m, start, start + len);
  return {Err::ok, start};
}

void LinuxVmm::unmap_ptes(Space& s, Va start, Va end) {
  std::vector<std::uint64_t> dropped;
  s.table.unmap(start, end - start, [&](const Mapping& mp) {
    dropped.push_back(mp.pa >> kPageShift);
    core_.count_map(mp.pa >> kPageShift, mp.size, -1);
  });
  if (dropped.empty()) return;

  // Only synchronous flushes reach here: munmap refuses the others up front (Unsupported).
  if (core_.mutant() == &kFlushOwnPcidOnly) {
    // The bug: the flush goes to the mm's own context only, as if it never ran under
    // another PCID (Linux keeps each CPU's ASID slots for this, arch/x86/mm/tlb.c).
    for (unsigned cpu = 0; cpu < core_.mmu().cpus(); ++cpu)
      for (Va va = start; va < end; va += kPage) core_.mmu().invalidate_page(cpu, s.ctx, va, true);
    core_.flushed(-1, s.asid, start, end);
  } else if (core_.mutant() != &kNoInvlpgAfterUnmap) {
    core_.shootdown(s, start, end);
  }
  for (std::uint64_t pfn : dropped) core_.put(pfn);
}

void LinuxVmm::unmap_range(Space& s, Mm& m, Va start, Va end) {
  if (!m.vmas.any_overlap(start, end)) return;
  for (const Vma& v : remove_range(s, m, start, end)) unmap_ptes(s, v.vm_start, v.vm_end);
}

// §2.3
Outcome LinuxVmm::munmap(const Event& ev) {
  const auto& a = ev.get<MunmapArgs>();
  Space& s = core_.space_of(a.as);
  Mm& m = mm_of(a.as);
  std::uint64_t len = page_round(a.len);
  if (!aligned(a.addr) || a.len == 0 || len == 0) return {Err::einval};
  if (len > p_.task_size || a.addr > p_.task_size - len) return {Err::einval};
  if (a.tlb != vocab::TlbMode::sync)
    throw Unsupported("tlb", "deferred or skipped TLB flushes are not implemented by the optimized VMM");
  unmap_range(s, m, a.addr, a.addr + len);
  return {};
}

// §2.7.4: W withheld from private COW, zero-page and page-cache frames; implied R.
LeafAttrs LinuxVmm::attrs_for(const Vma& v, std::uint64_t pfn, bool cow) const {
  bool r = v.has(VM_READ), w = v.has(VM_WRITE), x = v.has(VM_EXEC);
  if (p_.implied_read && (w || x)) r = true;
  if (!v.has(VM_SHARED) && (cow || pfn == core_.zero_pfn() || core_.page(pfn).cached)) w = false;
  LeafAttrs a;
  a.rights = {w, r, x};  // no right at all: a supervisor-only page (U/S = 0)
  a.global = v.has(VM_GLOBAL);
  a.soft = cow ? 1 : 0;
  return a;
}

void LinuxVmm::reprotect(Space& s, const Vma& v) {
  bool reduced = false;
  s.table.protect(v.vm_start, v.vm_end - v.vm_start, [&](std::uint64_t va, std::uint64_t pa, LeafAttrs& a) {
    std::uint64_t pfn = pa >> kPageShift;
    const PageInfo& p = core_.page(core_.head_of(pfn));
    // Only a folio's leaves can be larger than a page: look the size up for those alone.
    std::uint64_t size = p.order ? s.table.lookup(va)->size : kPage;
    // A page other mappings or the page cache also reach stays COW.
    bool cow = is_cow(a) || (!v.has(VM_SHARED) && (core_.is_zero(pfn) || p.cached || core_.page_shared(pfn, size)));
    LeafAttrs n = attrs_for(v, pfn, cow);
    n.accessed = a.accessed;
    n.dirty = a.dirty;
    if ((a.rights.w && !n.rights.w) || (a.rights.u && !n.rights.u) || (a.rights.x && !n.rights.x)) reduced = true;
    a = n;
  });
  if (reduced) core_.shootdown(s, v.vm_start, v.vm_end);  // rights withdrawn: flush before returning
}

// §2.4: VMA by VMA; the first hole or refusal stops the walk and earlier changes stay.
Outcome LinuxVmm::mprotect(const Event& ev) {
  const auto& a = ev.get<MprotectArgs>();
  Space& s = core_.space_of(a.as);
  Mm& m = mm_of(a.as);
  if (!aligned(a.addr)) return {Err::einval};
  if (a.len == 0) return {};
  std::uint64_t len = page_round(a.len);
  if (len == 0 || a.addr + len < a.addr) return {Err::enomem};
  Va end = a.addr + len;
  if (!m.vmas.find(a.addr)) return {Err::enomem};
  std::uint64_t want = vm_access(a.prot);
  std::vector<Va> changed;
  Err err = Err::ok;
  bool hole = false;
  for (Va cur = a.addr; cur < end;) {
    Vma* v = m.vmas.find(cur);
    if (!v) {
      hole = true;
      break;
    }
    if (a.prot.w && v->has(VM_SHARED) && !v->has(VM_MAYWRITE)) {
      err = Err::eacces;
      break;
    }
    std::uint64_t flags = (v->vm_flags & ~VM_ACCESS) | want;
    // mprotect_fixup's commit charge: taken when a private VMA becomes writable, dropped
    // when an anonymous one that never held a page stops being so.
    if (a.prot.w && !v->has(VM_SHARED) && !v->has(VM_NORESERVE) && !v->has(VM_WRITE)) flags |= VM_ACCOUNT;
    else if (!a.prot.w && !v->vm_file && !v->anon_vma) flags &= ~VM_ACCOUNT;
    if (flags == v->vm_flags) {
      cur = v->vm_end;
      continue;
    }
    Va stop = std::min(end, v->vm_end);
    split_at(s, m, cur);
    split_at(s, m, stop);
    Vma* piece = m.vmas.find(cur);
    piece->vm_flags = flags;
    reprotect(s, *piece);
    changed.push_back(piece->vm_start);
    cur = piece->vm_end;
  }
  for (Va st : changed)
    if (Vma* v = m.vmas.find(st)) merge_around(m, v->vm_start);
  if (err != Err::ok) return {err};
  return {hole ? Err::enomem : Err::ok};
}

// §2.5 (brk(2): returns the new break, or the old one on failure).
Outcome LinuxVmm::brk(const Event& ev) {
  const auto& a = ev.get<BrkArgs>();
  Space& s = core_.space_of(a.as);
  Mm& m = mm_of(a.as);
  if (!m.has_brk) throw std::invalid_argument("as: heap start unknown: give \"brk\" in as_create");
  Va req = a.addr;
  if (req < m.start_brk) return {Err::ok, m.brk};
  Va newbrk = page_round(req), oldbrk = page_round(m.brk);
  if (newbrk == oldbrk) {
    m.brk = req;
    return {Err::ok, m.brk};
  }
  if (req <= m.brk) {
    unmap_range(s, m, newbrk, oldbrk);
    m.brk = req;
    return {Err::ok, m.brk};
  }
  if (m.vmas.find(oldbrk)) return {Err::ok, m.brk};
  auto next = m.vmas.first_from(oldbrk);
  if (next != m.vmas.end() && newbrk + kPage > next->second.vm_start) return {Err::ok, m.brk};
  Vma v;
  v.vm_start = oldbrk;
  v.vm_end = newbrk;
  v.vm_flags = VM_READ | VM_WRITE | VM_MAYWRITE | VM_ACCOUNT;
  v.kind = Kind::heap;
  v.vm_pgoff = oldbrk >> kPageShift;
  insert_vma(m, v);
  merge_around(m, oldbrk);
  m.brk = req;
  return {Err::ok, m.brk};
}

}  // namespace vmref::linux_mm
