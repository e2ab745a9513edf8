// mremap (spec/kernels/linux.md §2.13, Linux mm/mremap.c): shrink, grow in place, or move the
// pages (PTEs move with their frames; the old translations are shot down).
#include "linux_model.hpp"

namespace vmref::linux_mm {

using namespace vmref::model;

namespace {
bool aligned(Va v, std::uint64_t page) { return (v & (page - 1)) == 0; }
}  // namespace

void LinuxModel::move_ptes(AddressSpace& s, Va from, Va to, std::uint64_t len) {
  Vpn first = from >> page_shift_, count = len >> page_shift_;
  // Linux move_page_tables moves a huge leaf whole only when its destination is aligned
  // to it; otherwise (and at the range's edges) the leaf is split first (§1.13).
  split_huge_at(s, from);
  split_huge_at(s, from + len);
  for (auto it = s.gpt.lower_bound(first); it != s.gpt.end() && it->first - first < count;) {
    Vpn at = it->first;
    std::uint64_t span = std::uint64_t{1} << it->second.order;
    if (span > 1 && ((to >> page_shift_) + (at - first)) % span != 0) split_huge(s, at);
    else if (span > 1) hit(Rule::thp_move_whole);
    it = s.gpt.upper_bound(at + span - 1);
  }
  std::vector<std::pair<Vpn, Pte>> moving;
  for (auto it = s.gpt.lower_bound(first); it != s.gpt.end() && it->first - first < count; ++it)
    moving.push_back(*it);
  for (auto& [vpn, p] : moving) remove_pte(s, vpn);
  shootdown(s.asid, first, count);  // nothing may still translate the old addresses
  Vpn dest = to >> page_shift_;
  for (auto& [vpn, p] : moving) install_pte(s, dest + (vpn - first), p);
  delta_.ranges.push_back({s.asid, first, count});
  delta_.ranges.push_back({s.asid, dest, count});
}

Outcome LinuxModel::mremap(const Event& ev) {
  const auto& e = ev.get<MremapArgs>();
  AddressSpace& s = space_of(e.as);
  caller_ = Caller::mremap_move;  // its cuts count as split.mremap, its merges as a move's
  bool fixed = e.fixed;
  if (!aligned(e.addr, page_size_)) return {Err::einval};
  if ((fixed || e.dontunmap) && !e.maymove) return {Err::einval};
  std::uint64_t old_len = page_round(e.len), new_len = page_round(e.new_len);
  if (new_len == 0 || (e.len && old_len == 0)) return {Err::einval};
  if (e.dontunmap && old_len != new_len) return {Err::einval};
  Va addr = e.addr;
  // Linux 6.x order (checked against the live kernel by vmref oracle): parameters,
  // then a vseg must exist at addr, then shrinking needs nothing more, then growing
  // or moving needs the old range inside that vseg.
  if (fixed) {
    if (!aligned(e.new_addr, page_size_)) return {Err::einval};
    if (e.new_addr + new_len > addr && addr + old_len > e.new_addr) return {Err::einval};  // overlap
  }
  Vseg* v = s.vsl.find(addr);
  if (!v) return {Err::efault};
  if (!fixed && old_len >= new_len) {  // shrink in place
    if (old_len > new_len) {
      hit(Rule::mremap_shrink);
      unmap_vsegs(s, addr + new_len, addr + old_len, TlbMode::sync);
    }
    return {Err::ok, addr};
  }
  if (fixed) {
    if (e.new_addr < p_.mmap_min_addr) return {Err::eperm};
    // The (possibly shortened) old range must fit its vseg before anything is unmapped.
    if (std::min(old_len, new_len) > v->end - addr) return {Err::efault};
    unmap_vsegs(s, e.new_addr, e.new_addr + new_len, TlbMode::sync);
    if (old_len > new_len) {
      unmap_vsegs(s, addr + new_len, addr + old_len, TlbMode::sync);
      old_len = new_len;
    }
    v = s.vsl.find(addr);
  }
  if (!v || old_len > v->end - addr) return {Err::efault};  // vma_to_resize
  if (v->kind == Kind::special && new_len > old_len) return {Err::efault};
  if (!fixed && old_len == v->end - addr && gap_free(s, v->end, new_len - old_len)) {
    hit(Rule::mremap_grow_in_place);
    v->end = addr + new_len;  // grow in place
    bool locked = v->flags.has(VmFlag::locked);
    delta_.ranges.push_back({s.asid, addr >> page_shift_, new_len >> page_shift_});
    merge_grown(s, *v);
    if (locked) populate(s, addr + old_len, addr + new_len);  // Linux mremap: a locked vseg's new part
    return {Err::ok, addr};
  }
  if (!e.maymove) return {Err::enomem};
  Va dest;
  if (fixed) {
    dest = e.new_addr;
  } else {
    auto gap = find_gap(s, new_len, e.chosen);
    if (!gap) return {Err::enomem};
    dest = *gap;
  }
  // move_vma: the new vseg continues the old one's offset and keeps its owner.
  Vseg moved = *v;
  moved.start = dest;
  moved.end = dest + new_len;
  moved.pgoff = v->pgoff + ((addr - v->start) >> page_shift_);
  // copy_vma: an anonymous vseg that never held a page takes the new address as its
  // offset, the better to merge there.
  if (v->object == kNoObject && v->anon_id == 0 && v->anon_known) moved.pgoff = dest >> page_shift_;
  hit(Rule::mremap_move);
  std::uint64_t moved_len = old_len ? old_len : 0;
  s.vsl.insert(moved);
  move_ptes(s, addr, dest, std::min(moved_len, new_len));
  if (!e.dontunmap && old_len) unmap_range(s, addr, addr + old_len, TlbMode::sync);  // the whole old vseg part: no count
  merge_around(s, dest);
  // Linux mremap populates the part a locked vseg gained (mm_populate, errors ignored).
  if (moved.flags.has(VmFlag::locked) && new_len > old_len) populate(s, dest + old_len, dest + new_len);
  return {Err::ok, dest};
}

}  // namespace vmref::linux_mm
