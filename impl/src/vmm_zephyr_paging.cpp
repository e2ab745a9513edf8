// VMM core: Zephyr demand paging over real x86-64 tables (profiles.md §3.4-§3.6): the RAM
// store with one slot kept for faults, NRU eviction scanning the page-frame array by
// index, do_page_fault with ANON tokens, page out / in / pin / unpin, the NRU timer and
// the statistics. Page contents move between frames and slots as simulated memory.
#include "vmm_internal.hpp"
#include "zephyr_state.hpp"

namespace vmref::impl {

using namespace vmref::model;

namespace {
/// What a slot holds until something is written to it: the model's kStaleSlot version.
/// The store poisons a slot it hands out so a missed write-out reads back as this.
constexpr std::uint64_t kPoison = UINT64_MAX;
}  // namespace

std::optional<std::uint32_t> Vmm::zephyr_slot_get(bool page_fault) {
  ZephyrCore& z = *zephyr_;
  std::uint64_t free = std::count(z.slot_used.begin(), z.slot_used.end(), false);
  if (free == 0 || (profile_.zephyr.keep_fault_slot && !page_fault && free == 1)) return std::nullopt;
  auto i = static_cast<std::uint32_t>(std::find(z.slot_used.begin(), z.slot_used.end(), false) - z.slot_used.begin());
  z.slot_used[i] = true;
  mem_.page(z.slot_pfn[i])[0] = kPoison;
  return i;
}

// Page-out of the page at `va`: its data goes to a slot when the PTE is dirty or the
// frame not BACKED, the PTE is cleared and (in the correct rules) its TLB entries go.
// The frame keeps its reference: the caller frees it or maps it elsewhere.
bool Vmm::zephyr_evict(Va va, bool page_fault, bool count) {
  ZephyrCore& z = *zephyr_;
  Space& s = zephyr_space();
  auto m = s.table.lookup(va);
  ZephyrCore::PageFrame& f = z.frames[z.index_of[m->pa >> kPageShift]];
  auto slot = zephyr_slot_get(page_fault);
  if (!slot) return false;
  f.busy = true;
  if (count) ++(m->attrs.dirty ? z.dirty_evictions : z.clean_evictions);
  if (m->attrs.dirty || (profile_.zephyr.writeback_unbacked && !f.backed))
    mem_.page(z.slot_pfn[*slot])[0] = version(f.pfn);
  clear_pte(s, va);
  if (profile_.zephyr.flush_on_evict) shootdown(s, va, va + kPage);
  z.locations[va >> kPageShift] = {ZephyrCore::Location::in_slot, *slot};
  f = {f.pfn};
  return true;
}

// k_mem_paging_eviction_select (NRU): from after the last victim, the first frame that is
// neither accessed nor dirty, else the first of the lowest (accessed, dirty) class.
std::optional<std::uint32_t> Vmm::zephyr_evict_any(bool page_fault) {
  ZephyrCore& z = *zephyr_;
  const Space& s = zephyr_space();
  auto n = static_cast<std::uint32_t>(z.frames.size());
  std::uint32_t start = (z.nru_last + 1) % n, i = start;
  std::optional<std::uint32_t> best;
  unsigned best_class = 4;
  do {
    std::uint32_t f = i;
    i = (i + 1) % n;
    const ZephyrCore::PageFrame& pf = z.frames[f];
    if (!pf.mapped || pf.busy || (pf.pinned && profile_.zephyr.respect_pins)) continue;
    LeafAttrs a = s.table.lookup(pf.va)->attrs;
    unsigned cls = (a.accessed ? 2u : 0u) + (a.dirty ? 1u : 0u);
    if (cls < best_class) {
      best = f;
      best_class = cls;
    }
    if (cls == 0) break;
  } while (i != start);
  if (!best) return std::nullopt;
  z.nru_last = *best;
  if (!zephyr_evict(z.frames[*best].va, page_fault, true)) return std::nullopt;
  return best;
}

// do_page_fault(addr, pin): a loaded page only gains the pin; an unpaged one comes in
// from its token (zeroed or left as found) or its slot, which is then freed.
bool Vmm::zephyr_fault(Va va, bool pin) {
  ZephyrCore& z = *zephyr_;
  Space& s = zephyr_space();
  if (auto m = s.table.lookup(va)) {
    if (pin) z.frames[z.index_of[m->pa >> kPageShift]].pinned = true;
    return true;
  }
  auto loc = z.locations.find(va >> kPageShift);
  if (loc == z.locations.end()) return false;
  ++z.faults;
  bool from_store = loc->second.kind == ZephyrCore::Location::in_slot;
  auto i = zephyr_frame_alloc();
  if (!i) i = zephyr_evict_any(from_store || !profile_.zephyr.token_fault_keeps_slot);
  if (!i) return false;
  ZephyrCore::PageFrame& f = z.frames[*i];
  if (from_store) {
    stamp(f.pfn) = mem_.page(z.slot_pfn[loc->second.slot])[0];
    if (mutant_ != Mutant::zephyr_slot_leak) z.slot_used[loc->second.slot] = false;
  } else {
    stamp(f.pfn) = 0;  // ANON_ZERO is zeroed; ANON_UNINIT holds no write yet either
  }
  z.locations.erase(loc);
  LeafAttrs a;
  a.rights = {true, false, false};
  if (auto it = z.regions.upper_bound(va); it != z.regions.begin()) {
    const ZephyrCore::Region& r = std::prev(it)->second;
    a.rights = {r.prot.w, r.user, r.prot.x};
  }
  set_pte(s, va, f.pfn, a);
  f.va = va;
  f.mapped = true;
  f.pinned = pin;
  return true;
}

// A kernel thread's access (supervisor mode): a missing PTE faults the page in, then the
// walk sets A (and D for a store) and the TLB may cache the translation.
Outcome Vmm::zephyr_access(const Event& e) {
  if (e.cpu < 0 || static_cast<unsigned>(e.cpu) >= mmu_.cpus())
    throw std::invalid_argument("cpu: cpu " + std::to_string(e.cpu) + " out of range");
  Space& s = zephyr_space();
  Outcome o;
  const Vseg* v = find(s, e.addr);
  if (!v) return {Err::ok, 0, AccessResult::segv_maperr};
  if (!permits(profile_.grantable(v->prot), e.kind)) return {Err::ok, 0, AccessResult::segv_accerr};
  bool write = e.kind == AccessKind::write, exec = e.kind == AccessKind::exec;
  Translation t = s.table.translate(e.addr, write, exec, false);
  if (t.fault != WalkFault::none) {
    if (!zephyr_fault(e.addr & ~(kPage - 1), false)) return {Err::enomem};
    t = s.table.translate(e.addr, write, exec, false);
    if (t.fault != WalkFault::none) throw std::logic_error("impl: zephyr access faults after its fault was handled");
  }
  mmu_.fill(static_cast<unsigned>(e.cpu), e.addr, t);
  std::uint64_t pfn = t.page_pa >> kPageShift;
  if (write) ++stamp(pfn);
  o.frame = static_cast<FrameId>(pfn);  // a PFN here: the checker maps it to the model's frame
  return o;
}

namespace {
/// The page range of a k_mem_page_* call: [addr, end) in bytes, or the refusal.
std::optional<Outcome> page_range(const Event& e, Va& end) {
  if (e.addr & (kPage - 1)) return Outcome{Err::einval};
  if (e.len == 0) return Outcome{};
  std::uint64_t len = page_round(e.len);
  if (len == 0 || e.addr + len < e.addr) return Outcome{Err::einval};
  end = e.addr + len;
  return std::nullopt;
}
}  // namespace

// k_mem_page_out(addr, size): page by page; pages without a PTE are skipped.
Outcome Vmm::k_mem_page_out(const Event& e) {
  Space& s = zephyr_space();
  ZephyrCore& z = *zephyr_;
  Va end = 0;
  if (auto bad = page_range(e, end)) return *bad;
  for (Va va = e.addr; va < end; va += kPage) {
    if (!find(s, va)) return {Err::einval};
    auto m = s.table.lookup(va);
    if (!m) continue;
    std::uint32_t i = z.index_of[m->pa >> kPageShift];
    if (z.frames[i].pinned) return {Err::ebusy};
    if (!zephyr_evict(va, false, false)) return {Err::enomem};
    zephyr_frame_free(i);
  }
  return {};
}

Outcome Vmm::k_mem_paging(const Event& e) {
  Space& s = zephyr_space();
  ZephyrCore& z = *zephyr_;
  Va end = 0;
  if (auto bad = page_range(e, end)) return *bad;
  for (Va va = e.addr; va < end; va += kPage)
    if (!find(s, va)) return {Err::einval};
  for (Va va = e.addr; va < end; va += kPage) {
    if (e.op == Op::k_mem_unpin) {
      if (auto m = s.table.lookup(va)) z.frames[z.index_of[m->pa >> kPageShift]].pinned = false;
    } else if (!zephyr_fault(va, e.op == Op::k_mem_pin)) {
      return {Err::enomem};
    }
  }
  return {};
}

// The NRU timer clears A in every evictable frame's PTE. A cached translation would let
// later accesses skip the walk that sets A again (SDM Vol 3A §4.8, §4.10.2), so each
// page's TLB entries are invalidated too.
Outcome Vmm::nru_tick(const Event&) {
  Space& s = zephyr_space();
  for (const ZephyrCore::PageFrame& f : zephyr_->frames) {
    if (!f.mapped || f.pinned) continue;
    s.table.protect(f.va, kPage, [](std::uint64_t, std::uint64_t, LeafAttrs& a) { a.accessed = false; });
    for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) mmu_.invalidate_page(cpu, s.ctx, f.va, true);
  }
  return {};
}

Outcome Vmm::k_mem_stat(const Event& e) {
  zephyr_space();  // refuses the event outside the zephyr profile
  const ZephyrCore& z = *zephyr_;
  Outcome o;
  if (e.name == "faults") o.ret = z.faults;
  else if (e.name == "clean_evictions") o.ret = z.clean_evictions;
  else if (e.name == "dirty_evictions") o.ret = z.dirty_evictions;
  else if (e.name == "free_bytes") {
    std::uint64_t free = z.free_frames.size(), keep = profile_.zephyr.frames_reserve;
    o.ret = (free > keep ? free - keep : 0) * kPage;
  } else if (e.name == "free_slots") {
    o.ret = std::count(z.slot_used.begin(), z.slot_used.end(), false);
  } else {
    throw std::invalid_argument("stat: unknown statistic '" + e.name + "'");
  }
  return o;
}

}  // namespace vmref::impl
