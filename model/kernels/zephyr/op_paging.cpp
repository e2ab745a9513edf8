// Zephyr demand paging (spec/kernels/zephyr.md §4-§6): the RAM backing store with one slot kept
// for faults, NRU eviction, do_page_fault with its ANON_ZERO / ANON_UNINIT tokens,
// k_mem_page_out / page_in / pin / unpin, the statistics, and accesses.
#include "zephyr_model.hpp"

namespace vmref::zephyr {

using namespace vmref::model;

namespace {
/// A page-aligned [addr, addr + len): an outcome to return at once (unaligned: EINVAL;
/// empty: nothing to do; overflowing: EINVAL), or nullopt and `end` set.
std::optional<Outcome> range_arguments(const RangeArgs& a, const Core& c, Va& end) {
  if (a.addr & (c.page_size - 1)) return Outcome{Err::einval};
  if (a.len == 0) return Outcome{};
  std::uint64_t len = c.page_round(a.len);
  if (len == 0 || a.addr + len < a.addr) return Outcome{Err::einval};
  end = a.addr + len;
  return std::nullopt;
}
}  // namespace

// k_mem_paging_backing_store_location_get of the RAM store: refuses a non-fault request
// when only one slot is free (that one is kept for fault-driven eviction).
std::optional<std::uint64_t> ZephyrModel::backing_slot_get(bool page_fault) {
  std::uint64_t free = 0;
  for (const Slot& s : zephyr_.slots) free += !s.used;
  if (free == 0 || (p_.keep_fault_slot && !page_fault && free == 1)) return std::nullopt;
  for (std::uint64_t i = 0; i < zephyr_.slots.size(); ++i)
    if (!zephyr_.slots[i].used) {
      zephyr_.slots[i] = {true, kStaleSlot};
      return i;
    }
  return std::nullopt;
}

// page_frame_prepare_locked + the page-out: the PTE becomes "paged out at slot", the
// data is written when the PTE is dirty or the frame is not BACKED, the TLB entry goes.
bool ZephyrModel::evict(Vpn vpn, bool page_fault, bool count) {
  const ZephyrParams& zr = p_;
  AddressSpace& s = spaces_.at(kKernelAs);
  const Pte pte = s.gpt.at(vpn);
  PageFrame& zf = zephyr_.frames[pte.frame];
  auto slot = backing_slot_get(page_fault);
  if (!slot) return false;
  zf.busy = true;
  if (count) ++(pte.dirty ? zephyr_.stats.dirty_evictions : zephyr_.stats.clean_evictions);
  bool write = pte.dirty || (zr.writeback_unbacked && !zf.backed);
  if (write) zephyr_.slots[*slot].data = stamp_of(pte.frame);
  remove_pte(s, vpn);
  if (zr.flush_on_evict) shootdown(kKernelAs, vpn, 1);
  zephyr_.paged_out[vpn] = {Location::slot, *slot};
  zephyr_.frames[pte.frame] = PageFrame{};
  delta_.ranges.push_back({kKernelAs, vpn, 1});
  delta_.frames.push_back(pte.frame);
  return true;
}

// k_mem_paging_eviction_select of the NRU policy: round-robin from after the last
// victim; the first not-accessed clean frame, else the lowest (accessed, dirty) class.
std::optional<FrameId> ZephyrModel::evict_any(bool page_fault) {
  const AddressSpace& s = spaces_.at(kKernelAs);
  auto n = static_cast<std::uint32_t>(zephyr_.frames.size());
  std::uint32_t start = (zephyr_.nru_last + 1) % n, i = start;
  std::optional<FrameId> best;
  unsigned best_prec = 4;
  do {
    FrameId f = i;
    i = (i + 1) % n;
    const PageFrame& zf = zephyr_.frames[f];
    if (!zf.mapped || zf.busy || (zf.pinned && p_.respect_pins)) continue;
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
  if (!evict(victim, page_fault, true)) return std::nullopt;
  return best;
}

// do_page_fault(addr, pin): bring the page in from its token or slot.
bool ZephyrModel::fault(Vpn vpn, bool pin) {
  AddressSpace& s = spaces_.at(kKernelAs);
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
  // kept slot would leave none for a page coming back (spec/kernels/zephyr.md §5).
  bool from_store = loc->second.kind == Location::slot;
  if (!f) f = evict_any(from_store || !p_.token_fault_keeps_slot);
  if (!f) {
    // The slot kept for faults exists for a page coming back from the store: its own
    // slot is freed only after the page-in, so the eviction needs one more. A first touch
    // of an ANON token adds a page to the store and may find it full when more was
    // mapped than frames + slots hold (over-commit), as may a system with every frame
    // pinned (Zephyr asserts "no page to evict"): those faults fail legitimately.
    CallNote n;
    bool any_evictable = false;
    for (const PageFrame& zf : zephyr_.frames) any_evictable = any_evictable || (zf.mapped && !zf.pinned);
    n.fault_no_slot = any_evictable && from_store;
    n.fault_va = va;
    notes_.push_back(n);
    return false;
  }
  const Location where = loc->second;
  PageContents data = zephyr_.data_at(where);
  frames_[*f].content = data.content;
  frames_[*f].version = data.version;
  if (where.kind == Location::slot) zephyr_.slots[where.slot_index].used = false;  // page_finalize frees it
  zephyr_.paged_out.erase(loc);
  const Region* r = nullptr;
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
Outcome ZephyrModel::access(const Event& ev) {
  core_.need_cpu(ev.cpu);
  const auto& e = ev.get<vocab::AccessArgs>();
  AddressSpace& s = spaces_.at(kKernelAs);
  Outcome o;
  const Vseg* v = s.vsl.find(e.va);
  if (!v) {
    o.access = AccessResult::segv_maperr;  // a fatal error in Zephyr (reason 0)
    return o;
  }
  if (!allows(core_.grantable(v->prot), e.kind)) {
    o.access = AccessResult::segv_accerr;
    return o;
  }
  Vpn vpn = e.va >> page_shift_;
  zephyr_.touched.insert(vpn);
  if (!fault(vpn, false)) return {Err::enomem, 0, AccessResult::ok, kNoFrame, "the fault found no frame"};
  Pte& p = s.gpt.at(vpn);
  p.accessed = true;
  if (e.kind == AccessKind::write) {
    p.dirty = true;
    Frame& f = frames_[p.frame];
    f.content = Content::data;
    ++f.version;
    zephyr_.ghost[vpn] = stamp_of(p.frame);
  }
  delta_.ranges.push_back({kKernelAs, vpn, 1});
  o.frame = p.frame;
  return o;
}

// k_mem_page_out(addr, size): page by page; pages not loaded are skipped.
Outcome ZephyrModel::k_mem_page_out(const Event& ev) {
  const auto& e = ev.get<RangeArgs>();
  AddressSpace& s = spaces_.at(kKernelAs);
  Va end = 0;
  if (auto bad = range_arguments(e, core_, end)) return *bad;
  for (Va va = e.addr; va < end; va += page_size_) {
    Vpn vpn = va >> page_shift_;
    if (!s.vsl.find(va)) return {Err::einval, 0, AccessResult::ok, kNoFrame, "not inside a k_mem_map region"};
    auto it = s.gpt.find(vpn);
    if (it == s.gpt.end()) continue;
    FrameId f = it->second.frame;
    if (zephyr_.frames[f].pinned) return {Err::ebusy, 0, AccessResult::ok, kNoFrame, "the page is pinned"};
    if (!evict(vpn, false, false)) return {Err::enomem, 0, AccessResult::ok, kNoFrame, "backing store full"};
    put_frame(f);  // back on the free list
  }
  return {};
}

// k_mem_page_in (a fault without pin), k_mem_pin (a fault with pin), k_mem_unpin.
Outcome ZephyrModel::k_mem_paging(const Event& ev) {
  const auto& e = ev.get<RangeArgs>();
  AddressSpace& s = spaces_.at(kKernelAs);
  Va end = 0;
  if (auto bad = range_arguments(e, core_, end)) return *bad;
  for (Va va = e.addr; va < end; va += page_size_)
    if (!s.vsl.find(va)) return {Err::einval, 0, AccessResult::ok, kNoFrame, "not inside a k_mem_map region"};
  for (Va va = e.addr; va < end; va += page_size_) {
    Vpn vpn = va >> page_shift_;
    delta_.ranges.push_back({kKernelAs, vpn, 1});
    if (ev.op == &ops::k_mem_unpin) {
      if (auto it = s.gpt.find(vpn); it != s.gpt.end()) zephyr_.frames[it->second.frame].pinned = false;
      zephyr_.pinned.erase(vpn);
      continue;
    }
    zephyr_.touched.insert(vpn);
    if (!fault(vpn, ev.op == &ops::k_mem_pin))
      return {Err::enomem, 0, AccessResult::ok, kNoFrame, "the fault found no frame"};
  }
  return {};
}

// The NRU timer: clears the accessed bit of every evictable frame's PTE.
Outcome ZephyrModel::nru_tick(const Event&) {
  AddressSpace& s = spaces_.at(kKernelAs);
  for (const PageFrame& zf : zephyr_.frames)
    if (zf.mapped && !zf.pinned) {
      s.gpt.at(zf.va >> page_shift_).accessed = false;
      delta_.ranges.push_back({kKernelAs, zf.va >> page_shift_, 1});
    }
  return {};
}

// Counters a test reads: ret = the value.
Outcome ZephyrModel::k_mem_stat(const Event& e) {
  Outcome o;
  const Stats& st = zephyr_.stats;
  switch (e.get<StatArgs>().stat) {
    case Stat::faults: o.ret = st.faults; break;
    case Stat::clean_evictions: o.ret = st.clean_evictions; break;
    case Stat::dirty_evictions: o.ret = st.dirty_evictions; break;
    case Stat::free_bytes: {  // k_mem_free_get
      std::uint64_t free = frames_.capacity() - frames_.in_use(), keep = p_.frames_reserve;
      o.ret = (free > keep ? free - keep : 0) * page_size_;
      break;
    }
    case Stat::free_slots:
      for (const Slot& sl : zephyr_.slots) o.ret += !sl.used;
      break;
  }
  return o;
}

}  // namespace vmref::zephyr
