// Zephyr demand paging (spec/kernels/zephyr.md §4-§6): the RAM store with one slot kept
// for faults, NRU eviction scanning the page-frame array by index, do_page_fault with
// ANON tokens, page out / in / pin / unpin, the NRU timer and the statistics. Page
// contents move between frames and slots as simulated memory.
#include <algorithm>

#include "vmref/impl/registry.hpp"
#include "zephyr_vmm.hpp"

namespace vmref::zephyr {

using namespace vmref::impl;
using vocab::AccessKind;
using vocab::AccessResult;

const MutantInfo kLifoFrames{"zephyr-lifo-frames", kKernel, "free page frames are handed out last-freed first", kKernel};
const MutantInfo kSlotLeak{"zephyr-slot-leak", kKernel, "a page-in from the backing store keeps its slot", kKernel};

namespace {
/// What a slot holds until something is written to it: the model's never-written stamp.
/// The store poisons a slot it hands out so a missed write-out reads back as this.
constexpr std::uint64_t kPoison = UINT64_MAX;
}  // namespace

std::optional<std::uint32_t> ZephyrVmm::slot_get(bool page_fault) {
  std::uint64_t free = std::count(slot_used_.begin(), slot_used_.end(), false);
  if (free == 0 || (p_.keep_fault_slot && !page_fault && free == 1)) return std::nullopt;
  auto i = static_cast<std::uint32_t>(std::find(slot_used_.begin(), slot_used_.end(), false) - slot_used_.begin());
  slot_used_[i] = true;
  core_.stamp(slot_pfn_[i]) = kPoison;
  return i;
}

// Page-out of the page at `va`: its data goes to a slot when the PTE is dirty or the
// frame not BACKED, the PTE is cleared and (in the correct rules) its TLB entries go.
// The frame keeps its reference: the caller frees it or maps it elsewhere.
bool ZephyrVmm::evict(Va va, bool page_fault, bool count) {
  VmmCore::Space& s = kernel_space();
  auto m = s.table.lookup(va);
  PageFrame& f = frames_[index_of_[m->pa >> kPageShift]];
  auto slot = slot_get(page_fault);
  if (!slot) return false;
  f.busy = true;
  if (count) ++(m->attrs.dirty ? dirty_evictions_ : clean_evictions_);
  if (m->attrs.dirty || (p_.writeback_unbacked && !f.backed)) core_.stamp(slot_pfn_[*slot]) = core_.version(f.pfn);
  core_.clear_pte(s, va);
  if (p_.flush_on_evict) core_.shootdown(s, va, va + kPage);
  locations_[va >> kPageShift] = {Location::in_slot, *slot};
  f = {f.pfn};
  return true;
}

// k_mem_paging_eviction_select (NRU): from after the last victim, the first frame that is
// neither accessed nor dirty, else the first of the lowest (accessed, dirty) class.
std::optional<std::uint32_t> ZephyrVmm::evict_any(bool page_fault) {
  const VmmCore::Space& s = kernel_space();
  auto n = static_cast<std::uint32_t>(frames_.size());
  std::uint32_t start = (nru_last_ + 1) % n, i = start;
  std::optional<std::uint32_t> best;
  unsigned best_class = 4;
  do {
    std::uint32_t f = i;
    i = (i + 1) % n;
    const PageFrame& pf = frames_[f];
    if (!pf.mapped || pf.busy || (pf.pinned && p_.respect_pins)) continue;
    LeafAttrs a = s.table.lookup(pf.va)->attrs;
    unsigned cls = (a.accessed ? 2u : 0u) + (a.dirty ? 1u : 0u);
    if (cls < best_class) {
      best = f;
      best_class = cls;
    }
    if (cls == 0) break;
  } while (i != start);
  if (!best) return std::nullopt;
  nru_last_ = *best;
  if (!evict(frames_[*best].va, page_fault, true)) return std::nullopt;
  return best;
}

// do_page_fault(addr, pin): a loaded page only gains the pin; an unpaged one comes in
// from its token (zeroed or left as found) or its slot, which is then freed.
bool ZephyrVmm::fault(Va va, bool pin) {
  VmmCore::Space& s = kernel_space();
  if (auto m = s.table.lookup(va)) {
    if (pin) frames_[index_of_[m->pa >> kPageShift]].pinned = true;
    return true;
  }
  auto loc = locations_.find(va >> kPageShift);
  if (loc == locations_.end()) return false;
  ++faults_;
  bool from_store = loc->second.kind == Location::in_slot;
  auto i = frame_alloc();
  if (!i) i = evict_any(from_store || !p_.token_fault_keeps_slot);
  if (!i) return false;
  PageFrame& f = frames_[*i];
  if (from_store) {
    core_.stamp(f.pfn) = core_.version(slot_pfn_[loc->second.slot]);
    if (core_.mutant() != &kSlotLeak) slot_used_[loc->second.slot] = false;
  } else {
    core_.stamp(f.pfn) = 0;  // ANON_ZERO is zeroed; ANON_UNINIT holds no write yet either
  }
  locations_.erase(loc);
  LeafAttrs a;
  a.rights = {true, false, false};
  if (const Region* r = region_of(va)) a.rights = {r->prot.w, r->user, r->prot.x};
  core_.set_pte(s, va, f.pfn, a);
  f.va = va;
  f.mapped = true;
  f.pinned = pin;
  return true;
}

// A kernel thread's access (supervisor mode): a missing PTE faults the page in, then the
// walk sets A (and D for a store) and the TLB may cache the translation.
Outcome ZephyrVmm::access(const Event& e) {
  unsigned cpu = core_.need_cpu(e.cpu);
  const auto& a = e.get<vocab::AccessArgs>();
  VmmCore::Space& s = kernel_space();
  const Region* r = region_of(a.va);
  if (!r) return {Err::ok, 0, AccessResult::segv_maperr};
  // x86: a writable or executable page is readable too.
  bool granted = a.kind == AccessKind::read ? (r->prot.r || r->prot.w || r->prot.x)
                 : a.kind == AccessKind::write ? r->prot.w : r->prot.x;
  if (!granted) return {Err::ok, 0, AccessResult::segv_accerr};
  bool write = a.kind == AccessKind::write, exec = a.kind == AccessKind::exec;
  Translation t = s.table.translate(a.va, write, exec, false);
  if (t.fault != WalkFault::none) {
    if (!fault(a.va & ~(kPage - 1), false)) return {Err::enomem};
    t = s.table.translate(a.va, write, exec, false);
    if (t.fault != WalkFault::none) throw std::logic_error("impl: zephyr access faults after its fault was handled");
  }
  core_.mmu().fill(cpu, a.va, t);
  std::uint64_t pfn = t.page_pa >> kPageShift;
  if (write) ++core_.stamp(pfn);
  Outcome o;
  o.frame = pfn;  // a PFN: the checker maps it to the model's frame
  return o;
}

namespace {
/// The page range of a k_mem_page_* call: [addr, end) in bytes, or the refusal.
std::optional<Outcome> page_range(const RangeArgs& a, Va& end) {
  if (a.addr & (kPage - 1)) return Outcome{Err::einval};
  if (a.len == 0) return Outcome{};
  std::uint64_t len = a.len > UINT64_MAX - (kPage - 1) ? 0 : (a.len + kPage - 1) & ~(kPage - 1);
  if (len == 0 || a.addr + len < a.addr) return Outcome{Err::einval};
  end = a.addr + len;
  return std::nullopt;
}
}  // namespace

// §5 k_mem_page_out(addr, size): page by page; pages without a PTE are skipped.
Outcome ZephyrVmm::k_mem_page_out(const Event& e) {
  const auto& a = e.get<RangeArgs>();
  VmmCore::Space& s = kernel_space();
  Va end = 0;
  if (auto bad = page_range(a, end)) return *bad;
  for (Va va = a.addr; va < end; va += kPage) {
    if (!region_of(va)) return {Err::einval};
    auto m = s.table.lookup(va);
    if (!m) continue;
    std::uint32_t i = index_of_[m->pa >> kPageShift];
    if (frames_[i].pinned) return {Err::ebusy};
    if (!evict(va, false, false)) return {Err::enomem};
    frame_free(i);
  }
  return {};
}

// §5 k_mem_page_in (a fault without pin), k_mem_pin (a fault with pin), k_mem_unpin.
Outcome ZephyrVmm::k_mem_paging(const Event& e) {
  const auto& a = e.get<RangeArgs>();
  VmmCore::Space& s = kernel_space();
  Va end = 0;
  if (auto bad = page_range(a, end)) return *bad;
  for (Va va = a.addr; va < end; va += kPage)
    if (!region_of(va)) return {Err::einval};
  for (Va va = a.addr; va < end; va += kPage) {
    if (e.op == &ops::k_mem_unpin) {
      if (auto m = s.table.lookup(va)) frames_[index_of_[m->pa >> kPageShift]].pinned = false;
    } else if (!fault(va, e.op == &ops::k_mem_pin)) {
      return {Err::enomem};
    }
  }
  return {};
}

// §4 The NRU timer clears A in every evictable frame's PTE. A cached translation would
// let later accesses skip the walk that sets A again (SDM Vol 3A §4.8, §4.10.2), so each
// page's TLB entries are invalidated too.
Outcome ZephyrVmm::nru_tick(const Event&) {
  VmmCore::Space& s = kernel_space();
  for (const PageFrame& f : frames_) {
    if (!f.mapped || f.pinned) continue;
    s.table.protect(f.va, kPage, [](std::uint64_t, std::uint64_t, LeafAttrs& a) { a.accessed = false; });
    for (unsigned cpu = 0; cpu < core_.mmu().cpus(); ++cpu) core_.invalidate_page(cpu, s, f.va, true);
  }
  return {};
}

// §6
Outcome ZephyrVmm::k_mem_stat(const Event& e) {
  Outcome o;
  switch (e.get<StatArgs>().stat) {
    case Stat::faults: o.ret = faults_; break;
    case Stat::clean_evictions: o.ret = clean_evictions_; break;
    case Stat::dirty_evictions: o.ret = dirty_evictions_; break;
    case Stat::free_bytes: {
      std::uint64_t free = free_frames_.size(), keep = p_.frames_reserve;
      o.ret = (free > keep ? free - keep : 0) * kPage;
      break;
    }
    case Stat::free_slots: o.ret = std::count(slot_used_.begin(), slot_used_.end(), false); break;
  }
  return o;
}

void register_impl() {
  add_impl_kernel({kKernel,
                   [](VmmCore& c, const vocab::KernelParams* p) -> std::unique_ptr<KernelLayer> {
                     return std::make_unique<ZephyrVmm>(c, static_cast<const ZephyrParams&>(*p));
                   },
                   {{&ops::k_mem_map, &call<ZephyrVmm, &ZephyrVmm::k_mem_map>},
                    {&ops::k_mem_unmap, &call<ZephyrVmm, &ZephyrVmm::k_mem_unmap>},
                    {&ops::k_mem_page_out, &call<ZephyrVmm, &ZephyrVmm::k_mem_page_out>},
                    {&ops::k_mem_page_in, &call<ZephyrVmm, &ZephyrVmm::k_mem_paging>},
                    {&ops::k_mem_pin, &call<ZephyrVmm, &ZephyrVmm::k_mem_paging>},
                    {&ops::k_mem_unpin, &call<ZephyrVmm, &ZephyrVmm::k_mem_paging>},
                    {&ops::k_mem_stat, &call<ZephyrVmm, &ZephyrVmm::k_mem_stat>},
                    {&ops::nru_tick, &call<ZephyrVmm, &ZephyrVmm::nru_tick>},
                    {&vocab::ops::access, &call<ZephyrVmm, &ZephyrVmm::access>}}});
  for (const MutantInfo* m : {&kLifoFrames, &kSlotLeak}) add_mutant(*m);
}

}  // namespace vmref::zephyr
