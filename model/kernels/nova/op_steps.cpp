// The nova kernel's mechanism-level steps (spec/kernels/nova.md §15): a driver's recorded
// code path applied to the model's state one step at a time: table pages taken at the
// driver's own PFNs, raw PDE and PTE words read by the model's own decoder
// (raw_words.hpp), the VA allocator's steps, call brackets for the call invariants, and
// invalidates whose effect starts only when they complete.
#include "nova_model.hpp"
#include "vmref/trace/hex.hpp"
#include "raw_words.hpp"

namespace vmref::nova {

using namespace vmref::model;
using trace::hex;

namespace {
constexpr std::uint64_t kPage = 4096;
constexpr unsigned kBigEntries = 32;  ///< big PTEs in a 256-byte big page table
std::string level_name(unsigned level) { return "level-" + std::to_string(level); }
}  // namespace

void check_table_pfn(Pfn p, const char* field) {
  if (p < kFirstTablePfn || p >= kTablePfnLimit)
    throw ModelError(field, hex(p) + ": table pages lie in VRAM pages [0x10000, 0x1000000) (§15)");
}

Table& NovaModel::owned_table(Asid as, std::uint64_t addr, const char* field) {
  auto it = vram_.find(addr / kPage);
  if (it == vram_.end() || !it->second.live)
    throw ModelError(field, hex(addr) + " is not in a live table page (nova_pt_alloc it first)");
  if (it->second.owner != as)
    throw ModelError(field, hex(addr) + " is in a table page of address space " + std::to_string(it->second.owner));
  return it->second;
}

CallNote& NovaModel::step_note(Asid as) {
  auto it = step_notes_.find(as);
  if (it != step_notes_.end()) return notes_[it->second];
  notes_.push_back({as, "driver", true});
  step_notes_[as] = notes_.size() - 1;
  return notes_.back();
}

std::optional<Vfn> NovaModel::prefix_of(const Vmm& v, Pfn t) const {
  const unsigned want = vram_.at(t).level;
  std::set<Pfn> seen;  // each table once, as the format's walk: a table linked many times cannot blow up the search
  std::function<std::optional<Vfn>(Pfn, unsigned, Vfn)> go = [&](Pfn p, unsigned level, Vfn prefix) -> std::optional<Vfn> {
    if (p == t) return level == want ? std::optional<Vfn>(prefix) : std::nullopt;
    auto it = vram_.find(p);
    if (level >= g_.pt_level() || it == vram_.end() || it->second.level != level || !seen.insert(p).second)
      return std::nullopt;
    for (const auto& [i, c] : it->second.pde)
      if (auto r = go(c, level + 1, prefix | (Vfn{i} << g_.shift(level)))) return r;
    return std::nullopt;
  };
  return go(v.pdb, 0, 0);
}

void NovaModel::fill_below(Vmm& v, Pfn t, unsigned level, Vfn prefix, std::set<Pfn>& seen) {
  auto it = vram_.find(t);
  if (it == vram_.end() || it->second.level != level || it->second.is_big || !seen.insert(t).second) return;
  if (level == g_.pt_level()) {
    for (const auto& [i, pte] : it->second.pte) v.may_hold.insert({prefix | i, pte.pfn});
    return;
  }
  for (const auto& [i, c] : it->second.pde) fill_below(v, c, level + 1, prefix | (Vfn{i} << g_.shift(level)), seen);
}

Outcome NovaModel::pt_alloc(const Event& e) {
  const auto& a = e.get<PtAllocArgs>();
  Vmm& v = vmm_of(a.as);
  if (a.level > g_.pt_level()) throw ModelError("level", "MMU v" + std::to_string(g_.mmu) + " has levels 0 to " +
                                                             std::to_string(g_.pt_level()));
  if (a.big && a.level != g_.pt_level()) throw ModelError("big", "a big page table sits at the leaf level");
  check_table_pfn(a.pfn, "pfn");
  auto it = vram_.find(a.pfn);
  if (it != vram_.end() && it->second.live) throw ModelError("pfn", hex(a.pfn) + " is a live table page already");
  Table t;
  t.level = a.level;
  t.owner = a.as;
  t.zeroed = false;  // what VRAM held before: nova_pt_zero clears it
  t.is_big = a.big;
  // A freed page keeps its words until zeroed: read at the same level, they are the
  // entries it had. Read at another level the model sees none (its tables are typed);
  // INV-NOVA-4 flags any PDE pointing at the page before nova_pt_zero anyway.
  if (it != vram_.end() && it->second.level == a.level && it->second.is_big == a.big) {
    t.pde = std::move(it->second.pde);
    t.big = std::move(it->second.big);
    t.pte = std::move(it->second.pte);
    t.chunks = std::move(it->second.chunks);
  }
  vram_[a.pfn] = std::move(t);
  free_.erase(a.pfn);
  v.allocs.push_back(a.pfn);
  v.cap = std::max<std::uint64_t>(v.cap, v.allocs.size());
  CallNote& n = step_note(a.as);
  if (n.call == "execute") ++n.allocations_in_execute;  // INV-NOVA-1
  return {};
}

Outcome NovaModel::pt_zero(const Event& e) {
  const auto& a = e.get<PtArgs>();
  vmm_of(a.as);
  Table& t = owned_table(a.as, a.pfn * kPage, "pfn");
  t.pde.clear();
  t.big.clear();
  t.pte.clear();
  t.chunks.clear();
  t.zeroed = true;
  return {};
}

Outcome NovaModel::pt_free(const Event& e) {
  const auto& a = e.get<PtArgs>();
  Vmm& v = vmm_of(a.as);
  owned_table(a.as, a.pfn * kPage, "pfn");
  if (a.pfn == v.pdb) throw ModelError("pfn", "the VMM's PDB: nova_drop frees it");
  free_page(a.pfn);
  std::erase(v.allocs, a.pfn);
  return {};
}

Outcome NovaModel::pde_write(const Event& e) {
  const auto& a = e.get<WriteArgs>();
  Vmm& v = vmm_of(a.as);
  const Pfn tp = a.addr / kPage;
  Table& t = owned_table(a.as, a.addr, "addr");
  const unsigned level = t.level;
  if (level == g_.pt_level()) throw ModelError("addr", "in a page table: nova_pte_write writes PTEs");
  const unsigned idx = static_cast<unsigned>(a.addr % kPage / g_.entry_size(level));
  if (idx >= g_.entries(level))
    throw ModelError("addr", "beyond the " + std::to_string(g_.entries(level)) + " entries of a " + level_name(level) + " table");
  const bool dual = level == g_.dual_level(), big = dual && a.addr % 16 == 0;
  const raw::PdeWord w = big ? raw::big_half(g_.mmu, a.value) : dual ? raw::small_half(g_.mmu, a.value) : raw::pde(g_.mmu, a.value);
  if (w.reserved)
    throw ModelError("value", "reserved bits " + hex(w.reserved) + " set: the format's walk does not follow the entry (spec/formats/nv_mmu_v" +
                                  std::to_string(g_.mmu) + ".md)");
  if (w.is_pte) throw ModelError("value", "IS_PTE: a large-page PTE, which the nova model does not map (4 KiB pages only)");
  if (w.present && !w.video)
    throw ModelError("value", "a system-memory aperture: the model keeps table pages in VRAM only (N-C7)");
  if (w.present && w.addr % kPage)
    throw ModelError("value", "a table at " + hex(w.addr) + ", not at a page boundary: the model keeps one table per VRAM page");
  std::map<unsigned, Pfn>& slots = big ? t.big : t.pde;
  if (big && slots.count(idx) && !w.present) ++step_note(a.as).big_halves_erased;  // INV-NOVA-8
  if (!w.present) {
    slots.erase(idx);
    return {};
  }
  slots[idx] = w.addr / kPage;
  std::set<Pfn> seen;  // each table once, as the format's walk reads it: aliases cannot blow up the fill
  if (!big)
    if (std::optional<Vfn> prefix = prefix_of(v, tp))
      fill_below(v, w.addr / kPage, level + 1, *prefix | (Vfn{idx} << g_.shift(level)), seen);
  return {};
}

Outcome NovaModel::pte_write(const Event& e) {
  const auto& a = e.get<WriteArgs>();
  Vmm& v = vmm_of(a.as);
  Table& t = owned_table(a.as, a.addr, "addr");
  if (t.level != g_.pt_level()) throw ModelError("addr", "in a " + level_name(t.level) + " directory: nova_pde_write writes PDEs");
  const unsigned idx = static_cast<unsigned>(a.addr % kPage / 8);
  if (t.is_big) {
    if (idx >= kBigEntries) throw ModelError("addr", "beyond the 32 big PTEs of a big page table");
    std::optional<BigState> s = raw::big_state(g_.mmu, a.value);
    if (!s) throw ModelError("value", "VALID: a 64 KiB page, which the nova model does not map (states U, I, S only)");
    if (*s == BigState::U) t.chunks.erase(idx);
    else t.chunks[idx] = *s;
    return {};
  }
  const raw::PteWord w = raw::pte(g_.mmu, a.value);
  if (!w.valid) {
    t.pte.erase(idx);
    return {};
  }
  if (!w.video) throw ModelError("value", "a peer or system-memory aperture: the model maps VRAM pages only (N-C7)");
  if (w.reserved) throw ModelError("value", "a peer ID " + hex(w.reserved) + " in a VIDEO PTE (V2-C8, V3-C8)");
  if (w.privileged) throw ModelError("value", "PRIVILEGE: the model keeps the pages GPU engines reach unprivileged only");
  t.pte[idx] = Pte{w.pfn, !w.read_only};
  if (std::optional<Vfn> prefix = prefix_of(v, a.addr / kPage)) v.may_hold.insert({*prefix | idx, w.pfn});
  return {};
}

Outcome NovaModel::va_alloc(const Event& e) {
  const auto& a = e.get<VaArgs>();
  Vmm& v = vmm_of(a.as);
  const Vfn start = a.va / kPage;
  const std::uint64_t pages = a.size / kPage;
  if (start + pages > p_.va_pages) throw ModelError("va", "the range reaches beyond the VA the VMM manages (params.va_pages)");
  auto next = v.va.lower_bound(start);
  if ((next != v.va.end() && next->first < start + pages) ||
      (next != v.va.begin() && std::prev(next)->first + std::prev(next)->second > start))
    throw ModelError("va", "the range overlaps a live VA range");
  v.va[start] = pages;
  return {};
}

Outcome NovaModel::va_free(const Event& e) {
  const auto& a = e.get<VaArgs>();
  Vmm& v = vmm_of(a.as);
  if (a.va % kPage || !v.va.erase(a.va / kPage)) throw ModelError("va", hex(a.va) + " is not the start of a live VA range");
  return {};
}

Outcome NovaModel::call_bracket(const Event& e) {
  const auto& a = e.get<CallArgs>();
  vmm_of(a.as);
  notes_.push_back({a.as, a.call, a.ok});
  step_notes_[a.as] = notes_.size() - 1;
  return {};
}

Outcome NovaModel::flush_start(const Event& e) {
  const auto& a = e.get<FlushArgs>();
  Vmm& v = vmm_of(a.as);
  if (a.range && (a.range->first + a.range->second - 1) >> (g_.vfn_bits() + 12))
    throw ModelError("va", "the range reaches beyond the MMU version's VA");
  v.in_flight.push_back({a, stale_named(v, a)});
  ++step_note(a.as).flushes;  // INV-NOVA-7 counts flushes issued
  return {};
}

Outcome NovaModel::flush_done(const Event& e) {
  Vmm& v = vmm_of(e.get<vocab::SpaceArgs>().as);
  if (v.in_flight.empty()) throw ModelError("as", "no invalidate of this VMM is in flight (nova_flush_start)");
  const InFlight f = std::move(v.in_flight.front());
  v.in_flight.pop_front();
  if (f.flush.ack == Ack::none) return {};  // NONE_REQUIRED guarantees nothing (V2-T2)
  // Only what was stale when it was triggered, and still is: a translation the tables
  // dropped after the trigger may have been refilled before the invalidate reached it.
  forget_stale(v, [&](const Translation& t) { return f.stale.count(t) != 0; });
  return {};
}

}  // namespace vmref::nova
