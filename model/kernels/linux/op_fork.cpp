// fork and exec_reset (spec/kernels/linux.md §2.6, §2.1).
#include "linux_model.hpp"

namespace vmref::linux_mm {

using namespace vmref::model;

// §2.6: private pages become COW in parent and child; shared pages stay shared.
Outcome LinuxModel::fork(const Event& ev) {
  const auto& e = ev.get<ForkArgs>();
  AddressSpace& parent = space_of(e.as);
  if (e.child == 0 || spaces_.count(e.child))
    throw ModelError("child", "child address space " + std::to_string(e.child) + " is 0 or exists");
  AddressSpace& child = spaces_[e.child];
  child.asid = e.child;
  child.has_brk = parent.has_brk;
  child.brk_start = parent.brk_start;
  child.brk = parent.brk;
  child.va_lists = parent.va_lists;
  bool protected_any = false;
  // Write-protected parent PTEs may still be cached writable: flush (Linux dup_mmap ends
  // with flush_tlb_mm, on its error path too).
  auto flush_parent = [&] {
    if (!protected_any) return;
    for (CpuTlb& c : cpus_) c.flush_asid(parent.asid, true, held_index_);
    release_pending();
  };
  for (auto& [start, pv] : parent.vsl.map()) {
    if (pv.flags.has(VmFlag::dontcopy)) {  // MADV_DONTFORK
      hit(Rule::fork_dontcopy);
      continue;
    }
    Vseg cv = pv;
    cv.flags.set(VmFlag::locked, false);  // Linux dup_mmap: the child does not inherit mlock (VM_LOCKED_MASK)
    bool wipe = pv.flags.has(VmFlag::wipeonfork);  // the child starts with fresh zero pages
    cv.anon_id = 0;
    if (pv.anon_id && !wipe) {  // Linux anon_vma_fork: a new owner, chained to the parent's
      cv.anon_id = core_.fresh_anon_id();
      forked_anon_ids_.insert(cv.anon_id);
    }
    cv.anon_known = pv.anon_known || wipe;
    child.vsl.insert(cv);
    // Linux copies PTEs only of vsegs holding anonymous pages (vma_needs_copy); the
    // child refaults the rest from the backing object (spec/kernels/linux.md §1.5).
    if (wipe) hit(Rule::fork_wipeonfork);
    if (wipe || (!pv.anon_id && pv.anon_known && !p_.fork_copies_untouched)) {
      if (!wipe) hit(Rule::fork_skip_untouched);
      continue;
    }
    hit(Rule::fork_copy_ptes);
    Vpn first = pv.start >> page_shift_, last = pv.end >> page_shift_;
    split_pinned_huge(parent, pv);
    for (auto it = parent.gpt.lower_bound(first); it != parent.gpt.end() && it->first < last; ++it) {
      Pte& pp = it->second;
      Pte cp = pp;
      cp.accessed = false;
      if (!pv.shared && !frames_[pp.frame].zero_page && !frames_[pp.frame].pins.empty() &&
          !frames_[pp.frame].cached) {
        // A pinned private page is copied for the child at once (Linux
        // copy_present_page since the CVE-2020-29374 fix), so the pin keeps its frame.
        auto f = frames_.alloc(frames_[pp.frame].content);
        if (!f) {  // fork fails as a whole: the half-built child goes away
          flush_parent();
          core_.destroy_space(e.child);
          return {Err::enomem};
        }
        frames_[*f].version = frames_[pp.frame].version;
        hit(Rule::fork_pinned_copy);
        cp.frame = *f;
        cp.page = 0;
        cp.cow = false;
        install_pte(child, it->first, cp);
        continue;
      }
      if (!pv.shared && (pp.prot.w || !pp.cow)) {
        if (pp.prot.w) {
          protected_any = true;
          note_superseded(parent.asid, it->first, pp);
        }
        pp.prot.w = false;
        pp.cow = true;
        cp.prot.w = false;
        cp.cow = true;
        delta_.ranges.push_back({parent.asid, it->first, 1});
      }
      // The forgets-cow-count variant (§3) shares a private page without the child's reference.
      if (!(p_.forgets_cow_count && cp.cow && !pv.shared)) get_frame(cp.frame);
      install_pte(child, it->first, cp);
    }
  }
  flush_parent();
  delta_.spaces.push_back(parent.asid);
  delta_.spaces.push_back(child.asid);
  delta_.ranges.push_back({child.asid, 0, UINT64_MAX});
  return {};
}

// §2.1: execve drops every user mapping and the allocator state.
Outcome LinuxModel::exec_reset(const Event& ev) {
  const auto& e = ev.get<ExecArgs>();
  AddressSpace& s = space_of(e.as);
  forget_forked_owners(s);
  unmap_range(s, 0, UINT64_MAX & ~(page_size_ - 1), TlbMode::sync);
  s.has_brk = e.brk != 0;
  s.brk_start = s.brk = e.brk;
  s.va_lists.clear();
  delta_.all = true;
  return {};
}

}  // namespace vmref::linux_mm
