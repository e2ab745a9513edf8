// Operations that change vseg attributes over a range: mprotect, madvise, mlock,
// munlock (spec/kernels/linux.md §2.4, §2.11, §2.12). They share one walk: split only the
// vsegs that change, apply, then merge.
#include "linux_model.hpp"

namespace vmref::linux_mm {

using namespace vmref::model;

Err LinuxModel::change_range(AddressSpace& s, Va start, Va end, bool stop_at_hole,
                        const std::function<Err(Vseg&)>& change, const std::function<void(Vseg&)>& after) {
  bool changed = false;
  Err err = Err::ok;
  bool hole = false;
  for (Va cur = start; cur < end;) {
    Vseg* v = s.vsl.find(cur);
    if (!v) {  // a hole: mprotect/mlock stop here, madvise goes on and reports it at the end
      hole = true;
      const Vseg* next = s.vsl.next_from(cur);
      if (stop_at_hole || !next || next->start >= end) break;
      cur = next->start;
      continue;
    }
    Vseg probe = *v;
    if (Err r = change(probe); r != Err::ok) {
      err = r;
      break;
    }
    if (probe.prot == v->prot && probe.flags == v->flags) {  // unchanged: no split (Linux)
      cur = v->end;
      continue;
    }
    Va stop = std::min(end, v->end);  // before splitting: v then names the lower half
    if (cur > v->start || stop < v->end) count_split();
    split_huge_at(s, cur);  // Linux vma_adjust_trans_huge: a vseg cut splits the leaf it crosses
    split_huge_at(s, stop);
    s.vsl.split_at(cur, page_size_);
    s.vsl.split_at(stop, page_size_);
    Vseg* piece = s.vsl.find(cur);
    change(*piece);
    changed = true;
    delta_.ranges.push_back({s.asid, cur >> page_shift_, (stop - cur) >> page_shift_});
    // Linux (vma_modify) merges each changed piece before it goes on, and before what
    // follows the change (mprotect's PTE update and populate) runs on the piece's range.
    merge_around(s, cur);
    if (after) {
      Vseg view = *s.vsl.find(cur);
      view.start = cur;
      view.end = stop;
      after(view);
    }
    cur = stop;
  }
  delta_.spaces.push_back(s.asid);
  if (caller_ == Caller::mprotect && changed && (err != Err::ok || hole)) hit(Rule::mprotect_partial);
  if (err != Err::ok) return err;
  return hole ? Err::enomem : Err::ok;
}

void LinuxModel::count_split() const {
  if (Rule r = split_rule(caller_); r != Rule::count) hit(r);
}

void LinuxModel::reprotect_ptes(AddressSpace& s, const Vseg& v) {
  bool reduced = false;
  Vpn first = v.start >> page_shift_, last = v.end >> page_shift_;
  std::map<FrameId, std::vector<std::uint32_t>> compound;  // per-page map counts, once per frame
  auto shared = [&](const Pte& p) {
    const Frame& fr = frames_[p.frame];
    if (p.frame == kZeroFrame || fr.zero_page || fr.cached) return true;
    if (fr.order == 0) return fr.mapcount() > 1;
    auto c = compound.find(p.frame);
    if (c == compound.end()) c = compound.emplace(p.frame, page_maps(p.frame)).first;
    for (std::uint64_t i = p.page; i < p.page + (std::uint64_t{1} << p.order) && i < c->second.size(); ++i)
      if (c->second[i] > 1) return true;
    return false;
  };
  for (auto it = s.gpt.lower_bound(first); it != s.gpt.end() && it->first < last; ++it) {
    Pte& p = it->second;
    // A page other mappings (or the page cache) also reach must stay COW; pins do
    // not make a frame shared here (they matter only when COW is broken).
    if (!v.shared && shared(p)) p.cow = true;
    Pte before = p;
    p.prot = effective_rights(v, p.frame, p.cow);
    if (p_.mprotect_keeps_write && before.prot.w) p.prot.w = true;  // broken variant (§3)
    if (!before.prot.subset_of(p.prot)) {
      reduced = true;
      note_superseded(s.asid, it->first, before);
    }
  }
  // Rights withdrawn: flush before returning (the broken variant of §3 leaves it out).
  if (reduced && !p_.mprotect_skips_flush) shootdown(s.asid, first, last - first);
}

std::optional<Outcome> LinuxModel::range_arguments(const RangeArgs& e, Err overflow, Va& end) const {
  if (e.addr & (page_size_ - 1)) return Outcome{Err::einval};
  if (e.len == 0) return Outcome{};
  std::uint64_t len = page_round(e.len);
  if (len == 0 || e.addr + len < e.addr) return Outcome{overflow};
  end = e.addr + len;
  return std::nullopt;
}

// §2.4
Outcome LinuxModel::mprotect(const Event& ev) {
  const auto& e = ev.get<MprotectArgs>();
  caller_ = Caller::mprotect;
  AddressSpace& s = space_of(e.as);
  Va end = 0;
  if (auto early = range_arguments(e, Err::enomem, end)) return *early;
  if (!s.vsl.find(e.addr)) return {Err::enomem};
  // Linux do_mprotect_pkey: vseg by vseg; the first hole or refusal stops the walk and
  // the changes made so far stay.
  bool fill = false;  // the piece being changed is to be populated afterwards
  Err err = change_range(
      s, e.addr, end, true,
      [&](Vseg& v) {
        if (e.prot.w && v.shared && !v.flags.maywrite) return Err::eacces;
        // mprotect_fixup returns before its accounting when the flags would not change.
        fill = false;
        if (v.prot == e.prot) return Err::ok;
        // Linux mprotect_fixup: a locked private vseg that becomes writable is populated
        // (write faults: its COW pages are broken now, as mlock would have).
        fill = e.prot.w && !v.prot.w && !v.shared && v.flags.has(VmFlag::locked);
        // Commit charge (Linux mprotect_fixup): taken when a private vseg becomes
        // writable; dropped when an anonymous one that never held a page stops being so.
        if (e.prot.w && !v.shared && !v.flags.has(VmFlag::noreserve) && !v.prot.w) v.flags.set(VmFlag::account);
        else if (!e.prot.w && v.object == kNoObject && v.anon_id == 0) v.flags.set(VmFlag::account, false);
        v.prot = e.prot;
        return Err::ok;
      },
      [&](Vseg& v) {
        reprotect_ptes(s, v);
        if (fill) populate(s, v.start, v.end);
      });
  return {err};
}

// §2.11
Outcome LinuxModel::madvise(const Event& ev) {
  const auto& e = ev.get<MadviseArgs>();
  caller_ = Caller::madvise;
  AddressSpace& s = space_of(e.as);
  Va end = 0;
  if (auto early = range_arguments(e, Err::einval, end)) return *early;
  auto flag = [&](VmFlag f, bool on, VmFlag other = VmFlag::count) {
    return [=](Vseg& v) {
      v.flags.set(f, on);
      if (other != VmFlag::count) v.flags.set(other, false);
      return Err::ok;
    };
  };
  std::function<Err(Vseg&)> change;
  switch (e.advice) {
    case Advice::normal:
      change = [](Vseg& v) { v.flags.set(VmFlag::seq_read, false); v.flags.set(VmFlag::rand_read, false); return Err::ok; };
      break;
    case Advice::random: change = flag(VmFlag::rand_read, true, VmFlag::seq_read); break;
    case Advice::sequential: change = flag(VmFlag::seq_read, true, VmFlag::rand_read); break;
    case Advice::dontfork: change = flag(VmFlag::dontcopy, true); break;
    case Advice::dofork: change = flag(VmFlag::dontcopy, false); break;
    case Advice::hugepage: change = flag(VmFlag::hugepage, true, VmFlag::nohugepage); break;
    case Advice::nohugepage: change = flag(VmFlag::nohugepage, true, VmFlag::hugepage); break;
    case Advice::dontdump: change = flag(VmFlag::dontdump, true); break;
    case Advice::dodump: change = flag(VmFlag::dontdump, false); break;
    case Advice::wipeonfork:
      change = [&](Vseg& v) {
        if (v.shared || v.object != kNoObject) return Err::einval;  // private anonymous only
        v.flags.set(VmFlag::wipeonfork, true);
        return Err::ok;
      };
      break;
    case Advice::keeponfork: change = flag(VmFlag::wipeonfork, false); break;  // any vseg (madvise_vma_behavior)
    case Advice::willneed:
      change = [](Vseg& v) { return v.object == kNoObject ? Err::ebadf : Err::ok; };  // file readahead only
      break;
    case Advice::free:
      change = [&](Vseg& v) {
        // madvise_dontneed_free_valid_vma: no locked vsegs; MADV_FREE: private anonymous only.
        if (v.shared || v.object != kNoObject || v.flags.has(VmFlag::locked)) return Err::einval;
        hit(Rule::madvise_free);
        return Err::ok;
      };
      break;  // lazy free: pages stay until memory pressure (hidden state, spec/kernels/linux.md §1.8)
    case Advice::dontneed:
      change = [&](Vseg& v) {
        if (v.flags.has(VmFlag::locked)) return Err::einval;
        Va lo = std::max(v.start, e.addr), hi = std::min(v.end, end);
        split_huge_at(s, lo);  // zap_pmd_range splits a huge leaf the range covers in part
        split_huge_at(s, hi);
        unmap_ptes(s, lo, hi, TlbMode::sync);  // zap: the next access faults afresh
        hit(Rule::madvise_dontneed);
        return Err::ok;
      };
      break;
  }
  return {change_range(s, e.addr, end, false, change, nullptr)};
}

// §2.12: mlock rounds the start down and populates; special vsegs are left alone.
Outcome LinuxModel::mlock(const Event& ev) {
  const auto& e = ev.get<RangeArgs>();
  caller_ = Caller::mlock;
  AddressSpace& s = space_of(e.as);
  Va start = e.addr & ~(page_size_ - 1);
  std::uint64_t len = page_round(e.len + (e.addr - start));
  if (e.len == 0) return {};
  if (len == 0 || start + len < start) return {Err::enomem};
  if (!s.vsl.find(start)) return {Err::enomem};
  bool lock = ev.op == &ops::mlock;
  Err err = change_range(s, start, start + len, true, [&](Vseg& v) {
    if (v.kind != Kind::special) v.flags.set(VmFlag::locked, lock);
    return Err::ok;
  }, nullptr);
  // Linux do_mlock then __mm_populate(ignore_errors = 0): the first page that cannot be
  // faulted in (beyond the object's size, or in a PROT_NONE vseg: GUP without FOLL_FORCE)
  // ends it, and mlock returns ENOMEM (__mlock_posix_error_return maps EFAULT to ENOMEM).
  if (lock && err == Err::ok && !populate(s, start, start + len, true)) return {Err::enomem};
  return {err};
}

}  // namespace vmref::linux_mm
