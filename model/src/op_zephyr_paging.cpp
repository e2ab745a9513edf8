// Zephyr demand paging (profiles.md §3.4-§3.6): the RAM backing store with one slot kept
// for faults, NRU eviction, do_page_fault with its ANON_ZERO / ANON_UNINIT tokens,
// k_mem_page_out / page_in / pin / unpin, the statistics, and accesses.
#include "vmref/model/model.hpp"

namespace vmref::model {

namespace {
void need_zephyr(const Profile& p) {
  if (!p.zephyr.enabled) throw ModelError("op", "k_mem_* events need the zephyr profile");
}
}  // namespace

// k_mem_paging_backing_store_location_get of the RAM store: refuses a non-fault request
// when only one slot is free (that one is kept for fault-driven eviction).
std::optional<std::uint64_t> Model::backing_slot_get(bool page_fault) {
  std::uint64_t free = 0;
  for (const ZSlot& s : zephyr_.slots) free += !s.used;
  if (free == 0 || (profile_.zephyr.keep_fault_slot && !page_fault && free == 1)) return std::nullopt;
  for (std::uint64_t i = 0; i < zephyr_.slots.size(); ++i)
    if (!zephyr_.slots[i].used) {
      zephyr_.slots[i] = {true, kStaleSlot};
      return i;
    }
  return std::nullopt;
}

// page_frame_prepare_locked + the page-out: the PTE becomes "paged out at slot", the
// data is written when the PTE is dirty or the frame is not BACKED, the TLB entry goes.
bool Model::zephyr_evict(Vpn vpn, bool page_fault, bool count) {
  const ZephyrRules& zr = profile_.zephyr;
  AddressSpace& s = spaces_.at(kZephyrAs);
  const Pte pte = s.gpt.at(vpn);
  ZFrame& zf = zephyr_.frames[pte.frame];
  auto slot = backing_slot_get(page_fault);
  if (!slot) return false;
  zf.busy = true;
  if (count) ++(pte.dirty ? zephyr_.stats.dirty_evictions : zephyr_.stats.clean_evictions);
  bool write = pte.dirty || (zr.writeback_unbacked && !zf.backed);
  if (write) zephyr_.slots[*slot].data = stamp_of(pte.frame);
  remove_pte(s, vpn);
  if (zr.flush_on_evict) shootdown(kZephyrAs, vpn, 1);
  zephyr_.paged_out[vpn] = {ZLocation::slot, *slot};
  zephyr_.frames[pte.frame] = ZFrame{};
  delta_.ranges.push_back({kZephyrAs, vpn, 1});
  delta_.frames.push_back(pte.frame);
  return true;
}

// k_mem_paging_eviction_select of the NRU policy: round-robin from after the last
// victim; the first not-accessed clean frame, else the lowest (accessed, dirty) class.
std::optional<FrameId> Model::zephyr_evict_any(bool page_fault) {
  const AddressSpace& s = spaces_.at(kZephyrAs);
  auto n = static_cast<std::uint32_t>(zephyr_.frames.size());
  std::uint32_t start = (zephyr_.nru_last + 1) % n, i = start;
  std::optional<FrameId> best;
  unsigned best_prec = 4;
  do {
    FrameId f = i;
    i = (i + 1) % n;
    const ZFrame& zf = zephyr_.frames[f];
    if (!zf.mapped || zf.busy || (zf.pinned && profile_.zephyr.respect_pins)) continue;
    const Pte& p = s.gpt.at(zf.va >> page_shift_);
    unsigned prec = (p.dirty ? 1u : 0u) + (p.accessed ? 2u : 0u);
    if (prec < best_prec) {
      best = f;
      best_prec = prec;
    }
    if (prec == 0) break;
  } while (i != start);
  if (!best) return std::nullopt;  // every mapped frame is pinned
  zephyr_.nru_last = *best;
  Vpn victim = zephyr_.frames[*best].va >> page_shift_;
  // The frame keeps its one reference: it passes to the caller's new mapping.
  if (!zephyr_evict(victim, page_fault, true)) return std::nullopt;
  return best;
}

// do_page_fault(addr, pin): bring the page in from its token or slot.
bool Model::zephyr_fault(Vpn vpn, bool pin) {
  AddressSpace& s = spaces_.at(kZephyrAs);
  Va va = vpn << page_shift_;
  if (auto it = s.gpt.find(vpn); it != s.gpt.end()) {  // PAGED_IN
    if (pin) {
      zephyr_.frames[it->second.frame].pinned = true;
      zephyr_.pinned.insert(vpn);
    }
    return true;
  }
  auto loc = zephyr_.paged_out.find(vpn);
  if (loc == zephyr_.paged_out.end()) return false;  // ARCH_PAGE_LOCATION_BAD
  ++zephyr_.stats.faults;
  auto f = frames_.alloc(Content::zero);
  // A first touch adds a page to the store without freeing one: letting it take the
  // kept slot would leave none for a page coming back (profiles.md §3.5).
  bool from_store = loc->second.kind == ZLocation::slot;
  if (!f) f = zephyr_evict_any(from_store || !profile_.zephyr.token_fault_keeps_slot);
  if (!f) {
    // The slot kept for faults exists for a page coming back from the store: its own
    // slot is freed only after the page-in, so the eviction needs one more. A first touch
    // of an ANON token adds a page to the store and may find it full when more was
    // mapped than frames + slots hold (over-commit), as may a system with every frame
    // pinned (Zephyr asserts "no page to evict"): those faults fail legitimately.
    Delta::Zephyr n;
    bool any_evictable = false;
    for (const ZFrame& zf : zephyr_.frames) any_evictable = any_evictable || (zf.mapped && !zf.pinned);
    n.fault_no_slot = any_evictable && from_store;
    n.fault_va = va;
    delta_.zephyr.push_back(n);
    return false;
  }
  const ZLocation where = loc->second;
  ZStamp data = zephyr_.data_at(where);
  frames_[*f].content = data.content;
  frames_[*f].version = data.version;
  if (where.kind == ZLocation::slot) zephyr_.slots[where.slot_index].used = false;  // page_finalize frees it
  zephyr_.paged_out.erase(loc);
  const ZRegion* r = nullptr;
  if (auto it = zephyr_.regions.upper_bound(va); it != zephyr_.regions.begin()) r = &std::prev(it)->second;
  Pte pte;
  pte.frame = *f;
  pte.prot = r ? r->prot : Prot{true, true, false};
  pte.user = r && r->user;
  install_pte(s, vpn, pte);
  zephyr_.frames[*f] = {true, pin, false, false, va};
  if (pin) zephyr_.pinned.insert(vpn);
  return true;
}

// The faulting access: PAGED_OUT pages come in; A and D are set by the walk.
Outcome Model::zephyr_access(const Event& e) {
  if (e.cpu < 0 || static_cast<std::size_t>(e.cpu) >= cpus_.size())
    throw ModelError("cpu", "cpu " + std::to_string(e.cpu) + " out of range");
  AddressSpace& s = spaces_.at(kZephyrAs);
  Outcome o;
  const Vseg* v = s.vsl.find(e.addr);
  if (!v) {
    o.access = AccessResult::segv_maperr;  // a fatal error in Zephyr (reason 0)
    return o;
  }
  if (!allows(profile_.grantable(v->prot), e.kind)) {
    o.access = AccessResult::segv_accerr;
    return o;
  }
  Vpn vpn = e.addr >> page_shift_;
  zephyr_.touched.insert(vpn);
  if (!zephyr_fault(vpn, false)) return {Err::enomem, 0, AccessResult::ok, kNoFrame, "the fault found no frame"};
  Pte& p = s.gpt.at(vpn);
  p.accessed = true;
  if (e.kind == AccessKind::write) {
    p.dirty = true;
    Frame& f = frames_[p.frame];
    f.content = Content::data;
    ++f.version;
    zephyr_.ghost[vpn] = stamp_of(p.frame);
  }
  delta_.ranges.push_back({kZephyrAs, vpn, 1});
  o.frame = p.frame;
  return o;
}

// k_mem_page_out(addr, size): page by page; pages not loaded are skipped.
Outcome Model::k_mem_page_out(const Event& e) {
  need_zephyr(profile_);
  AddressSpace& s = spaces_.at(kZephyrAs);
  Va end = 0;
  if (auto bad = range_arguments(e, Err::einval, end)) return *bad;
  for (Va va = e.addr; va < end; va += page_size_) {
    Vpn vpn = va >> page_shift_;
    if (!s.vsl.find(va)) return {Err::einval, 0, AccessResult::ok, kNoFrame, "not inside a k_mem_map region"};
    auto it = s.gpt.find(vpn);
    if (it == s.gpt.end()) continue;
    FrameId f = it->second.frame;
    if (zephyr_.frames[f].pinned) return {Err::ebusy, 0, AccessResult::ok, kNoFrame, "the page is pinned"};
    if (!zephyr_evict(vpn, false, false)) return {Err::enomem, 0, AccessResult::ok, kNoFrame, "backing store full"};
    put_frame(f);  // back on the free list
  }
  return {};
}

// k_mem_page_in (a fault without pin), k_mem_pin (a fault with pin), k_mem_unpin.
Outcome Model::k_mem_paging(const Event& e) {
  need_zephyr(profile_);
  AddressSpace& s = spaces_.at(kZephyrAs);
  Va end = 0;
  if (auto bad = range_arguments(e, Err::einval, end)) return *bad;
  for (Va va = e.addr; va < end; va += page_size_)
    if (!s.vsl.find(va)) return {Err::einval, 0, AccessResult::ok, kNoFrame, "not inside a k_mem_map region"};
  for (Va va = e.addr; va < end; va += page_size_) {
    Vpn vpn = va >> page_shift_;
    delta_.ranges.push_back({kZephyrAs, vpn, 1});
    if (e.op == Op::k_mem_unpin) {
      if (auto it = s.gpt.find(vpn); it != s.gpt.end()) zephyr_.frames[it->second.frame].pinned = false;
      zephyr_.pinned.erase(vpn);
      continue;
    }
    zephyr_.touched.insert(vpn);
    if (!zephyr_fault(vpn, e.op == Op::k_mem_pin))
      return {Err::enomem, 0, AccessResult::ok, kNoFrame, "the fault found no frame"};
  }
  return {};
}

// The NRU timer: clears the accessed bit of every evictable frame's PTE.
Outcome Model::nru_tick(const Event&) {
  need_zephyr(profile_);
  AddressSpace& s = spaces_.at(kZephyrAs);
  for (const ZFrame& zf : zephyr_.frames)
    if (zf.mapped && !zf.pinned) {
      s.gpt.at(zf.va >> page_shift_).accessed = false;
      delta_.ranges.push_back({kZephyrAs, zf.va >> page_shift_, 1});
    }
  return {};
}

// Counters a test reads: ret = the value.
Outcome Model::k_mem_stat(const Event& e) {
  need_zephyr(profile_);
  Outcome o;
  const ZStats& st = zephyr_.stats;
  if (e.name == "faults") o.ret = st.faults;
  else if (e.name == "clean_evictions") o.ret = st.clean_evictions;
  else if (e.name == "dirty_evictions") o.ret = st.dirty_evictions;
  else if (e.name == "free_bytes") {  // k_mem_free_get
    std::uint64_t free = frames_.capacity() - frames_.in_use(), keep = profile_.zephyr.frames_reserve;
    o.ret = (free > keep ? free - keep : 0) * page_size_;
  } else if (e.name == "free_slots") {
    for (const ZSlot& sl : zephyr_.slots) o.ret += !sl.used;
  } else {
    throw ModelError("stat", "unknown statistic '" + e.name +
                                 "' (faults, clean_evictions, dirty_evictions, free_bytes, free_slots)");
  }
  return o;
}

}  // namespace vmref::model
