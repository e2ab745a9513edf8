// Address-space lifetime and VSL operations: as_create/destroy, mmap, munmap, mprotect,
// brk (spec/vmm.md §2.1-§2.7), with the profile's merge and placement rules.
#include <algorithm>

#include "vmref/model/model.hpp"

namespace vmref::model {

namespace {
bool aligned(Va v, std::uint64_t page) { return (v & (page - 1)) == 0; }
/// Rounds len up to whole pages; 0 on overflow.
std::uint64_t page_round(std::uint64_t len, std::uint64_t page) {
  if (len > UINT64_MAX - (page - 1)) return 0;
  return (len + page - 1) & ~(page - 1);
}
}  // namespace

// §2.1
Outcome Model::as_create(const Event& e) {
  if (e.as == 0) throw ModelError("as", "address space id 0 is reserved");
  if (spaces_.count(e.as)) throw ModelError("as", "address space " + std::to_string(e.as) + " already exists");
  AddressSpace& s = spaces_[e.as];
  s.asid = e.as;
  if (e.addr) {  // heap start known (Linux mm->start_brk)
    s.has_brk = true;
    s.brk_start = s.brk = e.addr;
  }
  delta_.spaces.push_back(e.as);
  return {};
}

// §2.2
Outcome Model::as_destroy(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  unmap_range(s, 0, UINT64_MAX & ~(page_size_ - 1), TlbMode::sync);
  for (CpuTlb& c : cpus_) {
    if (c.current == e.as) c.current = 0;
    c.flush_asid(e.as, true, held_index_);
  }
  release_pending();
  spaces_.erase(e.as);
  delta_.all = true;
  return {};
}

bool Model::gap_free(const AddressSpace& s, Va start, std::uint64_t len) const {
  if (start < profile_.mmap_min_addr || len > profile_.task_size || start > profile_.task_size - len)
    return false;
  if (s.vsl.any_overlap(start, start + len)) return false;
  // Keep the stack guard gap below a growsdown vseg (Linux vm_start_gap).
  const Vseg* next = s.vsl.next_from(start + len);
  if (next && next->flags.growsdown) {
    std::uint64_t gap = profile_.stack_guard_gap * page_size_;
    if (next->start < gap || start + len > next->start - gap) return false;
  }
  return true;
}

std::optional<Va> Model::find_gap(const AddressSpace& s, std::uint64_t len,
                                  std::optional<Va> hint) const {
  if (hint && aligned(*hint, page_size_) && gap_free(s, *hint, len)) return hint;
  // Top-down first fit below mmap_base (Linux arch_get_unmapped_area_topdown).
  std::vector<const Vseg*> segs;
  for (const auto& [start, v] : s.vsl.map()) segs.push_back(&v);
  Va low = std::max<Va>(profile_.mmap_min_addr, page_size_);
  for (std::size_t i = segs.size() + 1; i-- > 0;) {
    Va lo = i > 0 ? segs[i - 1]->end : low;
    Va hi = profile_.mmap_base;
    if (i < segs.size()) {
      Va st = segs[i]->start;
      std::uint64_t gap = segs[i]->flags.growsdown ? profile_.stack_guard_gap * page_size_ : 0;
      hi = std::min(hi, st > gap ? st - gap : 0);
    }
    lo = std::max(lo, low);
    if (hi > lo && hi - lo >= len) return (hi - len) & ~(page_size_ - 1);
  }
  return std::nullopt;
}

bool Model::mergeable(const Vseg& lo, const Vseg& hi) const {
  if (!profile_.merge_vsegs || lo.end != hi.start) return false;
  auto anon_like = [](Kind k) { return k == Kind::anon || k == Kind::heap || k == Kind::stack; };
  bool same_kind = lo.kind == hi.kind || (anon_like(lo.kind) && anon_like(hi.kind));
  if (!same_kind || lo.kind == Kind::special || hi.kind == Kind::special) return false;
  if (!(lo.prot == hi.prot) || lo.shared != hi.shared || lo.object != hi.object) return false;
  if (!(lo.flags == hi.flags) || lo.name != hi.name) return false;
  // Offsets must continue (Linux vm_pgoff; anonymous vsegs use their creation VPN).
  if (lo.pgoff + (lo.bytes() >> page_shift_) != hi.pgoff) return false;
  return lo.anon_id == 0 || hi.anon_id == 0 || lo.anon_id == hi.anon_id;
}

void Model::merge_around(AddressSpace& s, Va start) {
  Vseg* v = s.vsl.starting_at(start);
  if (!v) return;
  if (Vseg* prev = s.vsl.ending_at(v->start); prev && mergeable(*prev, *v)) {
    prev->end = v->end;
    if (!prev->anon_id) prev->anon_id = v->anon_id;
    s.vsl.erase(v->start);
    v = prev;
  }
  if (Vseg* next = s.vsl.starting_at(v->end); next && mergeable(*v, *next)) {
    v->end = next->end;
    if (!v->anon_id) v->anon_id = next->anon_id;
    s.vsl.erase(next->start);
  }
  delta_.spaces.push_back(s.asid);
}

void Model::populate(AddressSpace& s, Va start, Va end) {
  for (Va va = start; va < end; va += page_size_) {
    const Vseg* v = s.vsl.find(va);
    // Linux populate_vma_page_range: write faults only for private writable mappings.
    bool write = v && v->prot.w && !v->shared;
    fault_in(s, va, write ? AccessKind::write : AccessKind::read, -1);
  }
}

// §2.4
Outcome Model::mmap(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  std::uint64_t len = page_round(e.len, page_size_);
  if (e.len == 0 || !aligned(e.offset, page_size_)) return {Err::einval};
  if (len == 0) return {Err::enomem};
  if (!e.anonymous && !e.file) throw ModelError("file", "a file mapping needs a \"file\" object");
  if (e.shared && e.file && e.prot.w && !e.file->fd_writable) return {Err::eacces};
  Va start;
  if (e.placement != Placement::hint) {
    if (!aligned(e.addr, page_size_)) return {Err::einval};
    if (len > profile_.task_size || e.addr > profile_.task_size - len) return {Err::enomem};
    if (e.addr < profile_.mmap_min_addr) return {Err::eperm};
    if (e.placement == Placement::fixed_noreplace && s.vsl.any_overlap(e.addr, e.addr + len))
      return {Err::eexist};
    start = e.addr;
    unmap_range(s, start, start + len, TlbMode::sync);
  } else {
    // A recorded kernel's choice (expect.ret) is taken when it is a legal placement.
    std::optional<Va> want = e.chosen ? e.chosen : (e.addr ? std::optional<Va>(e.addr & ~(page_size_ - 1)) : std::nullopt);
    auto gap = find_gap(s, len, want);
    if (!gap) return {Err::enomem};
    start = *gap;
  }
  Vseg v;
  v.start = start;
  v.end = start + len;
  v.prot = e.prot;
  v.shared = e.shared;
  v.flags.growsdown = e.growsdown;
  v.flags.locked = e.locked;
  v.flags.noreserve = e.noreserve;
  v.flags.account = !e.shared && e.prot.w && !e.noreserve;  // Linux accountable_mapping
  if (e.anonymous) {
    v.kind = e.growsdown ? Kind::stack : Kind::anon;
    v.object = e.shared ? new_shmem() : kNoObject;
    v.pgoff = e.shared ? 0 : start >> page_shift_;
  } else {
    v.kind = Kind::file;
    v.object = object_for(*e.file);
    v.pgoff = e.offset >> page_shift_;
    v.flags.maywrite = !e.shared || e.file->fd_writable;
  }
  s.vsl.insert(v);
  delta_.ranges.push_back({s.asid, start >> page_shift_, len >> page_shift_});
  merge_around(s, start);
  if (e.populate || e.locked) populate(s, start, start + len);
  return {Err::ok, start};
}

// §2.5
Outcome Model::munmap(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  std::uint64_t len = page_round(e.len, page_size_);
  if (!aligned(e.addr, page_size_) || e.len == 0 || len == 0) return {Err::einval};
  if (len > profile_.task_size || e.addr > profile_.task_size - len) return {Err::einval};
  unmap_range(s, e.addr, e.addr + len, e.tlb);
  return {};
}

// §2.6
Outcome Model::mprotect(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  if (!aligned(e.addr, page_size_)) return {Err::einval};
  std::uint64_t len = page_round(e.len, page_size_);
  if (e.len == 0) return {};
  if (len == 0 || e.addr + len < e.addr) return {Err::enomem};
  Va end = e.addr + len;
  // Linux applies vseg by vseg and stops at the first hole or refusal, keeping the
  // changes made so far (do_mprotect_pkey); the model does the same.
  Va cur = e.addr;
  const Vseg* first = s.vsl.find(cur);
  if (!first) return {Err::enomem};
  s.vsl.split_at(e.addr, page_size_);
  s.vsl.split_at(end, page_size_);
  std::vector<Va> changed;
  Err err = Err::ok;
  while (cur < end) {
    Vseg* v = s.vsl.find(cur);
    if (!v) { err = Err::enomem; break; }
    if (e.prot.w && v->shared && !v->flags.maywrite) { err = Err::eacces; break; }
    bool reduced = false;
    v->prot = e.prot;
    if (e.prot.w && !v->shared && !v->flags.noreserve) v->flags.account = true;
    Vpn first_vpn = v->start >> page_shift_, last_vpn = v->end >> page_shift_;
    for (auto it = s.gpt.lower_bound(first_vpn); it != s.gpt.end() && it->first < last_vpn; ++it) {
      Pte& p = it->second;
      // A frame other mappings (or the page cache) also reach must stay COW; pins do
      // not make a frame shared here (they matter only when COW is broken).
      const Frame& fr = frames_[p.frame];
      if (!v->shared && (p.frame == kZeroFrame || fr.cached || fr.mapcount() > 1)) p.cow = true;
      Pte before = p;
      p.prot = effective_rights(*v, p.frame, p.cow);
      if (!before.prot.subset_of(p.prot)) {
        reduced = true;
        note_superseded(s.asid, it->first, before);
      }
    }
    if (reduced) shootdown(s.asid, first_vpn, last_vpn - first_vpn);
    delta_.ranges.push_back({s.asid, first_vpn, last_vpn - first_vpn});
    changed.push_back(v->start);
    cur = v->end;
  }
  for (Va st : changed) merge_around(s, st);
  // Merging may have swallowed later starts; merge_around ignores vanished ones.
  delta_.spaces.push_back(s.asid);
  return {err};
}

// §2.7 (Linux brk(2): returns the new break, or the old one on failure)
Outcome Model::brk(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  if (!s.has_brk) throw ModelError("as", "heap start unknown: give \"brk\" in as_create");
  Va req = e.addr;
  if (req < s.brk_start) return {Err::ok, s.brk};
  Va newbrk = page_round(req, page_size_), oldbrk = page_round(s.brk, page_size_);
  if (newbrk == oldbrk) {
    s.brk = req;
    return {Err::ok, s.brk};
  }
  if (req <= s.brk) {
    unmap_range(s, newbrk, oldbrk, TlbMode::sync);
    s.brk = req;
    return {Err::ok, s.brk};
  }
  // Grow: the new end plus one page must stay below the next vseg's start gap
  // (Linux brk(2): newbrk + PAGE_SIZE > vm_start_gap(next) fails).
  if (s.vsl.find(oldbrk)) return {Err::ok, s.brk};
  if (const Vseg* next = s.vsl.next_from(oldbrk)) {
    std::uint64_t gap = next->flags.growsdown ? profile_.stack_guard_gap * page_size_ : 0;
    Va limit = next->start > gap ? next->start - gap : 0;
    if (newbrk + page_size_ > limit) return {Err::ok, s.brk};
  }
  Vseg v;
  v.start = oldbrk;
  v.end = newbrk;
  v.prot = {true, true, false};
  v.kind = Kind::heap;
  v.pgoff = oldbrk >> page_shift_;
  v.flags.account = true;
  s.vsl.insert(v);
  delta_.ranges.push_back({s.asid, v.start >> page_shift_, (newbrk - oldbrk) >> page_shift_});
  merge_around(s, oldbrk);
  s.brk = req;
  return {Err::ok, s.brk};
}

}  // namespace vmref::model
