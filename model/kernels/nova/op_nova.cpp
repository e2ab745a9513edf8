// The nova VMM (spec/kernels/nova.md): prepare_map, execute_map, map_pages, unmap_pages
// and drop over NVIDIA MMU v2/v3 page tables. The control flow, the arithmetic and the
// error paths follow the seed (nova-core-vmm-map-unmap.patch) as posted; each place
// where `fixed` differs is a NovaParams flag named after the defect it corrects.
#include <algorithm>

#include "nova_model.hpp"
#include "vmref/trace/hex.hpp"

namespace vmref::nova {

using namespace vmref::model;
using trace::hex;
using vocab::Err;

namespace {
constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kMaxPages = std::uint64_t{1} << 20;  ///< the model's limit per call (§11)
constexpr unsigned kChunkPtes = 16;                           ///< small PTEs per 64 KiB chunk
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0); }
/// The seed's EIO: the shared vocabulary has no EIO, so it is reported as EFAULT (§11).
constexpr Err kEio = Err::efault;
}  // namespace

unsigned Geometry::entries(unsigned level) const {
  if (level == 0) return mmu == 2 ? 4 : 2;
  return level == dual_level() ? 256 : 512;
}
unsigned Geometry::shift(unsigned level) const {
  if (level == pt_level()) return 0;
  if (level == dual_level()) return 9;       // PD0: VA 28:21
  return 17 + 9 * (dual_level() - 1 - level);  // PD1 37:29, PD2 46:38, ...
}
std::uint64_t Geometry::upper_bound(std::uint64_t pages) const {
  std::uint64_t c = ceil_div(pages, entries(pt_level())), total = c;
  for (unsigned l = pde_levels(); l-- > 0;) {
    c = ceil_div(c, entries(l));
    total += c;
  }
  return total;
}

bool NovaModel::va_live(const Vmm& v, Vfn vfn) {
  auto it = v.va.upper_bound(vfn);
  if (it == v.va.begin()) return false;
  --it;
  return vfn < it->first + it->second;
}

Vmm& NovaModel::vmm_of(Asid as) {
  space_of(as);
  auto it = vmms_.find(as);
  if (it == vmms_.end()) throw ModelError("as", "address space " + std::to_string(as) + " has no nova VMM (nova_new)");
  return it->second;
}

Pfn NovaModel::alloc_page(Asid owner, unsigned level) {
  Pfn p;
  if (!free_.empty()) {
    p = *free_.begin();
    free_.erase(free_.begin());
  } else {
    do p = next_pfn_++;  // skip pages a recorded driver took (nova_pt_alloc, nova_new's pdb)
    while (vram_.count(p));
  }
  Table t;
  t.level = level;
  t.owner = owner;
  vram_[p] = t;  // allocated and zeroed through PRAMIN (alloc_and_zero_page_table)
  return p;
}

void NovaModel::free_page(Pfn p) {
  Table& t = vram_.at(p);
  t.live = false;
  free_.insert(p);
}

// KVec::reserve(k): room for k more without reallocating; growing doubles at least (§2.3).
bool NovaModel::reserve(Vmm& v, std::uint64_t k, bool inject_fail) {
  const std::uint64_t len = v.allocs.size();
  if (v.cap - len >= k) return true;
  if (inject_fail) return false;
  v.cap = std::max(2 * v.cap, len + k);
  return true;
}

std::optional<Pfn> NovaModel::table_at(const Vmm& v, Vfn vfn, unsigned level) const {
  Pfn t = v.pdb;
  for (unsigned l = 0; l < level; ++l) {
    auto tab = vram_.find(t);
    if (tab == vram_.end()) return std::nullopt;  // a recorded PDE to no table page (§15): reads as zeros
    auto it = tab->second.pde.find(g_.index(l, vfn));
    if (it == tab->second.pde.end()) return std::nullopt;
    t = it->second;
  }
  if (!vram_.count(t)) return std::nullopt;
  return t;
}

const Table& NovaModel::walked(Pfn p) const {
  auto it = vram_.find(p);
  if (it == vram_.end())
    throw ModelError("op", "a PDE points at VRAM page " + hex(p) + ", no table page: the call cannot walk the tables a "
                           "recorded step broke (spec/kernels/nova.md §15)");
  return it->second;
}

std::optional<Pte> NovaModel::lookup(const Vmm& v, Vfn vfn) const {
  std::optional<Pfn> pt = table_at(v, vfn, g_.pt_level());
  if (!pt) return std::nullopt;
  const Table& t = vram_.at(*pt);
  auto it = t.pte.find(g_.index(g_.pt_level(), vfn));
  if (it == t.pte.end()) return std::nullopt;
  return it->second;
}

std::optional<Pte> NovaModel::BlockLookup::operator()(Vfn vfn) {
  const Vfn block = vfn / m_.g_.entries(m_.g_.pt_level());
  if (block != block_) {
    block_ = block;
    std::optional<Pfn> pt = m_.table_at(v_, vfn, m_.g_.pt_level());
    pt_ = pt ? &m_.vram_.at(*pt) : nullptr;
  }
  if (!pt_) return std::nullopt;
  auto it = pt_->pte.find(m_.g_.index(m_.g_.pt_level(), vfn));
  if (it == pt_->pte.end()) return std::nullopt;
  return it->second;
}

bool NovaModel::hidden_by_big(const Vmm& v, Vfn vfn) const {
  std::optional<Pfn> dual = table_at(v, vfn, g_.dual_level());
  if (!dual) return false;
  const Table& d = vram_.at(*dual);
  auto b = d.big.find(g_.index(g_.dual_level(), vfn));
  if (b == d.big.end()) return false;
  auto bt = vram_.find(b->second);
  return bt != vram_.end() && bt->second.chunks.count(g_.index(g_.pt_level(), vfn) / kChunkPtes) != 0;
}

void NovaModel::write_pte(Vmm& v, Vfn vfn, std::optional<Pte> pte) {
  std::optional<Pfn> pt = table_for_write(v, vfn, g_.pt_level());
  if (!pt) return;
  Table& t = vram_.at(*pt);
  unsigned i = g_.index(g_.pt_level(), vfn);
  if (pte) {
    t.pte[i] = *pte;
    v.may_hold.insert({vfn, pte->pfn});  // any valid translation may be filled from now on (§1)
  } else {
    t.pte.erase(i);
  }
}

// Tlb::flush(pdb): an all-VA invalidate of the PDB. Only an ACK GLOBALLY invalidate that
// completed removes translations from the may-hold set (spec/formats/nv_mmu_v2.md V2-T2).
void NovaModel::flush(Vmm& v, CallNote& n) {
  ++n.flushes;
  if (p_.ack_global_fix) forget_stale(v, [](const Translation&) { return true; });
}

void NovaModel::forget_stale(Vmm& v, const std::function<bool(const Translation&)>& named) {
  BlockLookup look(*this, v);
  for (auto it = v.may_hold.begin(); it != v.may_hold.end();) {
    std::optional<Pte> cur = look(it->first);
    const bool stale = named(*it) && !(cur && cur->pfn == it->second);
    it = stale ? v.may_hold.erase(it) : std::next(it);
  }
}

std::optional<Range> NovaModel::alloc_va(Vmm& v, std::uint64_t pages,
                                         const std::optional<std::pair<vocab::Va, vocab::Va>>& range, Err& err) {
  if (range) {
    // A fixed va_range must be exactly pages x 4 KiB, page-aligned, inside the VMM's VA.
    auto [start, end] = *range;
    if (end < start || end - start != pages * kPage || start % kPage || end > p_.va_pages * kPage) {
      err = Err::einval;
      return std::nullopt;
    }
    Vfn s = start / kPage;
    auto it = v.va.lower_bound(s + pages);
    if (it != v.va.begin() && std::prev(it)->first + std::prev(it)->second > s) {
      err = Err::eexist;
      return std::nullopt;
    }
    return Range{s, pages};
  }
  Vfn s = 0;  // allocate anywhere: the lowest free range (§11)
  for (const auto& [start, n] : v.va) {
    if (s + pages <= start) break;
    s = std::max(s, start + n);
  }
  if (s + pages > p_.va_pages) {
    err = Err::enomem;
    return std::nullopt;
  }
  return Range{s, pages};
}

Outcome NovaModel::nova_new(const Event& e) {
  const Asid as = e.get<NewArgs>().as;
  space_of(as);
  if (vmms_.count(as)) throw ModelError("as", "address space " + std::to_string(as) + " already has a nova VMM");
  Vmm v;
  const auto& a = e.get<NewArgs>();
  if (a.pdb) {  // a recorded driver's PDB: allocate exactly that page (§15)
    check_table_pfn(*a.pdb, "pdb");
    auto it = vram_.find(*a.pdb);
    if (it != vram_.end() && it->second.live) throw ModelError("pdb", "VRAM page " + hex(*a.pdb) + " is a live table page");
    free_.erase(*a.pdb);
    vram_[*a.pdb] = Table{};
    vram_[*a.pdb].owner = as;
    v.pdb = *a.pdb;
  } else {
    v.pdb = alloc_page(as, 0);
  }
  if (auto left = left_by_pdb_.find(v.pdb); left != left_by_pdb_.end()) {  // the TLB tags by PDB address
    v.may_hold = std::move(left->second);
    left_by_pdb_.erase(left);
  }
  vmms_[as] = v;
  notes_.push_back({as, "new", true});
  return {};
}

Outcome NovaModel::do_prepare(Vmm& v, std::uint64_t pages, const std::string& handle,
                              const std::optional<std::pair<vocab::Va, vocab::Va>>& range, const PrepareFail& fail,
                              CallNote& n) {
  if (pages == 0) return {Err::einval};
  // Pre-reserve so execute can push without allocating: the seed's bound (P2: it counts
  // neither the pages other pending prepares staged nor the range's alignment).
  if (!p_.reserve_fix && !reserve(v, g_.upper_bound(pages), fail.reserve)) return {Err::enomem};
  Err err = Err::ok;
  std::optional<Range> r = fail.va ? std::nullopt : alloc_va(v, pages, range, err);
  if (!r) return {fail.va ? Err::enomem : err};
  v.va[r->start] = r->pages;
  std::vector<std::uint64_t> staged;  // keys this call put into pt_pages
  auto give_up = [&](Err e) -> Outcome {
    v.va.erase(r->start);  // the VA allocation is dropped
    if (p_.reserve_fix)    // fixed: the call takes back what it staged (§4.3)
      for (std::uint64_t k : staged) {
        free_page(v.pending.at(k).page);
        v.pending.erase(k);
      }
    return {e};
  };
  if (p_.keep_big_fix)
    for (std::uint64_t i = 0; i < pages; ++i)
      if (hidden_by_big(v, r->start + i)) return give_up(Err::eexist);
  std::uint64_t table_allocs = 0;
  const Asid owner = vram_.at(v.pdb).owner;
  for (std::uint64_t i = 0; i < pages; ++i) {
    const Vfn vfn = r->start + i;
    bool complete = false;
    // ensure_pte_path: walk from the root, through installed and prepared pages, staging
    // one missing table per walk; at most 2 x pde_levels walks, then EIO.
    for (unsigned iter = 0; iter < 2 * g_.pde_levels() && !complete; ++iter) {
      Pfn t = v.pdb;
      std::optional<std::pair<std::uint64_t, unsigned>> missing;
      for (unsigned l = 0; l < g_.pde_levels(); ++l) {
        const Table& tab = walked(t);
        unsigned idx = g_.index(l, vfn);
        if (auto it = tab.pde.find(idx); it != tab.pde.end()) {
          t = it->second;
          continue;
        }
        std::uint64_t key = slot_key(t, l, idx);
        if (auto p = v.pending.find(key); p != v.pending.end()) {
          t = p->second.page;
          continue;
        }
        missing = {key, l};
        break;
      }
      if (!missing || (p_.lazy_pt && missing->second == g_.dual_level())) {
        complete = true;
        break;
      }
      if (fail.pt && *fail.pt == table_allocs) return give_up(Err::enomem);
      ++table_allocs;
      Pfn page = alloc_page(owner, missing->second + 1);
      if (!v.pending.emplace(missing->first, Staged{page, missing->second}).second) {
        free_page(page);  // duplicate install_addr: "internal consistency error"
        return give_up(kEio);
      }
      staged.push_back(missing->first);
    }
    if (!complete) return give_up(kEio);
  }
  // fixed (P2): room for every page now pending, whoever staged it.
  if (p_.reserve_fix && !reserve(v, v.pending.size(), fail.reserve)) return give_up(Err::enomem);
  v.prepared[handle] = *r;
  n.ok = true;
  Outcome o;
  o.ret = r->start * kPage;
  return o;
}

Outcome NovaModel::prepare(const Event& e) {
  const auto& a = e.get<PrepareArgs>();
  Vmm& v = vmm_of(a.as);
  if (a.handle.empty()) throw ModelError("handle", "empty handle");
  if (v.prepared.count(a.handle) || v.mapped.count(a.handle))
    throw ModelError("handle", "handle '" + a.handle + "' names a live prepared or mapped range");
  if (a.pages > kMaxPages) throw ModelError("pages", "more than 2^20 pages in one call (the model's limit, §11)");
  notes_.push_back({a.as, "prepare"});
  return do_prepare(v, a.pages, a.handle, a.range, a.fail, notes_.back());
}

Outcome NovaModel::do_execute(Vmm& v, const std::string& handle, Pfn pfn, std::optional<std::uint64_t> count,
                              bool writable, const StepFail& fail, CallNote& n) {
  auto pit = v.prepared.find(handle);
  if (pit == v.prepared.end()) throw ModelError("handle", "no prepared mapping '" + handle + "'");
  const Range r = pit->second;
  v.prepared.erase(pit);  // execute consumes the PreparedMapping on every path
  if (pfn + r.pages < pfn) throw ModelError("pfn", "pfn + pages overflows");
  std::vector<Vfn> written;
  // An error drops the VA allocation (posted). fixed first takes back the PTEs it wrote
  // and flushes; when that flush fails the VA stays allocated (never reused).
  auto fail_with = [&](Err e) -> Outcome {
    if (p_.execute_rollback_fix && !written.empty()) {
      for (Vfn vfn : written) write_pte(v, vfn, std::nullopt);
      // The TLB may hold what a failed flush should have removed: the VA is never reused.
      if (fail.at == Step::flush) return {e};
      flush(v, n);
    }
    v.va.erase(r.start);
    return {e};
  };
  if (count.value_or(r.pages) != r.pages) return fail_with(Err::einval);
  if (fail.at == Step::window) return fail_with(kEio);
  n.executed = true;
  n.pending_at_execute = v.pending.size();
  n.room_at_execute = v.cap - v.allocs.size();
  // Drain pt_pages in install_addr order: install each PDE, keep the page in
  // page_table_allocs (push_within_capacity).
  std::uint64_t i = 0;
  std::vector<std::pair<std::uint64_t, Staged>> drain(v.pending.begin(), v.pending.end());
  for (const auto& [key, page] : drain) {
    if (!p_.keep_pending) v.pending.erase(key);
    const std::uint64_t index = i++;
    const Pfn table = key >> 12;
    const unsigned idx = static_cast<unsigned>((key & 0xfff) / g_.entry_size(page.level));
    if (p_.execute_rollback_fix) {  // fixed: owned before installed, so never freed after
      if (v.allocs.size() == v.cap) {
        v.pending.emplace(key, page);
        return fail_with(Err::enomem);
      }
      v.allocs.push_back(page.page);
      if (fail.at == Step::pde && fail.index == index) return fail_with(kEio);
    } else if (fail.at == Step::pde && fail.index == index) {
      free_page(page.page);  // the removed node is dropped with the error
      return fail_with(kEio);
    }
    Table& t = vram_.at(table);
    t.pde[idx] = page.page;
    if (page.level == g_.dual_level() && !p_.keep_big_fix && t.big.erase(idx))  // DualPde::new_small
      ++n.big_halves_erased;
    if (!p_.execute_rollback_fix) {
      if (v.allocs.size() == v.cap) {
        free_page(page.page);  // push_within_capacity gave the allocation back: dropped
        return fail_with(Err::enomem);
      }
      v.allocs.push_back(page.page);
    }
  }
  // Then the PTEs, every table now installed; a lookup that finds no table is EIO.
  const Asid owner = vram_.at(v.pdb).owner;
  for (std::uint64_t k = 0; k < r.pages; ++k) {
    const Vfn vfn = r.start + k;
    if (fail.at == Step::pte && fail.index == k) return fail_with(kEio);
    if (!table_for_write(v, vfn, g_.pt_level())) {
      std::optional<Pfn> dual = table_at(v, vfn, g_.dual_level());
      if (!p_.lazy_pt || !dual) return fail_with(kEio);
      Pfn page = alloc_page(owner, g_.pt_level());  // lazy-pt: an allocation in execute
      ++n.allocations_in_execute;
      vram_.at(*dual).pde[g_.index(g_.dual_level(), vfn)] = page;
      if (v.allocs.size() == v.cap) {
        v.cap = std::max(2 * v.cap, v.cap + 1);
        ++n.allocations_in_execute;
      }
      v.allocs.push_back(page);
    }
    write_pte(v, vfn, Pte{pfn + k, writable});
    written.push_back(vfn);
  }
  if (!p_.skip_flush) {
    if (fail.at == Step::flush) {
      ++n.flushes;  // issued, the poll timed out
      return fail_with(kEio);
    }
    flush(v, n);
  }
  v.mapped[handle] = r;
  n.ok = true;
  Outcome o;
  o.ret = r.start * kPage;
  return o;
}

Outcome NovaModel::execute(const Event& e) {
  const auto& a = e.get<ExecuteArgs>();
  Vmm& v = vmm_of(a.as);
  notes_.push_back({a.as, "execute"});
  return do_execute(v, a.handle, a.pfn, a.count, a.writable, a.fail, notes_.back());
}

Outcome NovaModel::map(const Event& e) {
  const auto& a = e.get<MapArgs>();
  Vmm& v = vmm_of(a.as);
  if (a.handle.empty()) throw ModelError("handle", "empty handle");
  if (v.prepared.count(a.handle) || v.mapped.count(a.handle))
    throw ModelError("handle", "handle '" + a.handle + "' names a live prepared or mapped range");
  if (a.pages > kMaxPages) throw ModelError("pages", "more than 2^20 pages in one call (the model's limit, §11)");
  notes_.push_back({a.as, "map"});
  CallNote& n = notes_.back();
  if (a.pages == 0) return {Err::einval};
  std::optional<std::pair<vocab::Va, vocab::Va>> range = a.range;
  if (range) {  // map_pages' own check: the range must be at least large enough
    const std::uint64_t required = a.pages * kPage;
    if (range->second < range->first || range->second - range->first < required) return {Err::einval};
    if (p_.map_range_fix) range->second = range->first + required;  // P8
  }
  Outcome o = do_prepare(v, a.pages, a.handle, range, a.prepare_fail, n);
  if (o.err != Err::ok) {
    // P8: refused for its size alone (prepare wants exactly pages x 4 KiB).
    n.range_refused = range && o.err == Err::einval && range->second - range->first != a.pages * kPage;
    return o;
  }
  n.ok = false;
  return do_execute(v, a.handle, a.pfn, std::nullopt, a.writable, a.fail, n);
}

Outcome NovaModel::unmap(const Event& e) {
  const auto& a = e.get<UnmapArgs>();
  Vmm& v = vmm_of(a.as);
  auto it = v.mapped.find(a.handle);
  if (it == v.mapped.end()) throw ModelError("handle", "no mapped range '" + a.handle + "'");
  const Range r = it->second;
  notes_.push_back({a.as, "unmap"});
  CallNote& n = notes_.back();
  // An error returns through `?`: the posted seed drops the MappedRange (its VA is freed
  // and its armed guard warns); fixed keeps it for the caller to unmap again (P5, P9).
  auto fail_with = [&]() -> Outcome {
    if (!p_.unmap_keep_fix) {
      v.va.erase(r.start);
      v.mapped.erase(a.handle);
      n.spurious_warning = true;
    }
    return {kEio};
  };
  if (a.fail.at == Step::window) return fail_with();
  for (std::uint64_t k = 0; k < r.pages; ++k) {
    if (a.fail.at == Step::pte && a.fail.index == k) return fail_with();
    write_pte(v, r.start + k, std::nullopt);  // a VFN whose table is missing is skipped
  }
  if (!p_.skip_flush) {
    if (a.fail.at == Step::flush) {
      ++n.flushes;
      return fail_with();
    }
    flush(v, n);
  }
  v.va.erase(r.start);
  v.mapped.erase(a.handle);
  n.ok = true;
  return {};
}

Outcome NovaModel::drop(const Event& e) {
  const Asid as = e.get<DropArgs>().as;
  Vmm& v = vmm_of(as);
  notes_.push_back({as, "drop"});
  CallNote& n = notes_.back();
  if (p_.drop_fix) {  // fixed: nothing may still translate through the tables it frees
    for (const auto& [h, r] : v.mapped)
      for (std::uint64_t k = 0; k < r.pages; ++k) write_pte(v, r.start + k, std::nullopt);
    flush(v, n);
  }
  n.ghost_translations = v.may_hold.size();
  if (!v.may_hold.empty()) left_by_pdb_[v.pdb].insert(v.may_hold.begin(), v.may_hold.end());
  for (Pfn p : v.allocs) free_page(p);
  for (const auto& [k, s] : v.pending) free_page(s.page);
  free_page(v.pdb);
  vmms_.erase(as);
  n.ok = true;
  return {};
}

void NovaModel::before_destroy(Asid as) {
  if (vmms_.count(as))
    throw ModelError("as", "address space " + std::to_string(as) + " still has a nova VMM (nova_drop first)");
}

Outcome NovaModel::access(const Event& e) {
  const auto& a = e.get<AccessArgs>();
  Vmm& v = vmm_of(a.as);
  if (a.va >> (g_.vfn_bits() + 12)) throw ModelError("va", "beyond the MMU version's VA");
  const Vfn vfn = a.va / kPage;
  Outcome o;
  std::optional<Pte> pte = hidden_by_big(v, vfn) ? std::nullopt : lookup(v, vfn);
  if (!pte) return {Err::efault};
  v.may_hold.insert({vfn, pte->pfn});  // the walk fills the TLB (already there unless reached through an alias)
  if (a.kind != Kind::read && !pte->writable) return {Err::eacces};
  o.ret = pte->pfn * kPage + a.va % kPage;
  return o;
}

// A driver's invalidate (§8.1): once complete with an ACK that guarantees removal, the
// GPU TLB holds nothing in the named VAs that the tables no longer give.
Outcome NovaModel::driver_flush(const Event& e) {
  const auto& a = e.get<FlushArgs>();
  Vmm& v = vmm_of(a.as);
  if (a.range && (a.range->first + a.range->second - 1) >> (g_.vfn_bits() + 12))
    throw ModelError("va", "the range reaches beyond the MMU version's VA");
  if (auto bracket = step_notes_.find(a.as); bracket != step_notes_.end() && notes_[bracket->second].call != "driver")
    ++notes_[bracket->second].flushes;  // a flush recorded inside a call (§15) is one of its flushes
  complete(v, a);
  return {};
}

void NovaModel::complete(Vmm& v, const FlushArgs& a) {
  if (a.ack == Ack::none) return;  // NONE_REQUIRED guarantees nothing (V2-T2)
  forget_stale(v, [&](const Translation& t) { return names(a, t.first); });
}

bool NovaModel::names(const FlushArgs& a, Vfn vfn) {
  return !a.range || (vfn * kPage < a.range->first + a.range->second && a.range->first < (vfn + 1) * kPage);
}

std::set<std::pair<Vfn, Pfn>> NovaModel::stale_named(const Vmm& v, const FlushArgs& a) const {
  std::set<std::pair<Vfn, Pfn>> out;
  BlockLookup look(*this, v);
  for (const auto& held : v.may_hold) {
    std::optional<Pte> cur = look(held.first);
    if (names(a, held.first) && !(cur && cur->pfn == held.second)) out.insert(held);
  }
  return out;
}

std::optional<Pfn> NovaModel::table_for_write(const Vmm& v, Vfn vfn, unsigned level) const {
  std::optional<Pfn> t = table_at(v, vfn, level);
  if (t) return t;
  Pfn p = v.pdb;  // no table: find out whether the path ends at a missing PDE or at a bad one
  for (unsigned l = 0; l < level; ++l) {
    auto it = walked(p).pde.find(g_.index(l, vfn));
    if (it == walked(p).pde.end()) return std::nullopt;
    p = it->second;
  }
  walked(p);
  return std::nullopt;
}

Outcome NovaModel::set_big(const Event& e) {
  const auto& a = e.get<SetBigArgs>();
  Vmm& v = vmm_of(a.as);
  if (a.va >> (g_.vfn_bits() + 12)) throw ModelError("va", "beyond the MMU version's VA");
  const Vfn vfn = a.va / kPage;
  std::optional<Pfn> dual = table_for_write(v, vfn, g_.dual_level());
  if (!dual) throw ModelError("va", "no installed page-table path down to the dual PDE covering va");
  const unsigned idx = g_.index(g_.dual_level(), vfn);
  Table& d = vram_.at(*dual);
  if (!d.big.count(idx)) {
    Pfn page = alloc_page(vram_.at(v.pdb).owner, g_.pt_level());
    vram_.at(page).is_big = true;
    vram_.at(*dual).big[idx] = page;
    reserve(v, v.pending.size() + 1, false);  // keeps the room execute was promised
    v.allocs.push_back(page);
  }
  const Pfn big = vram_.at(*dual).big.at(idx);
  walked(big);  // a recorded big half may point at no table page (N-C9)
  Table& bt = vram_.at(big);
  const unsigned chunk = g_.index(g_.pt_level(), vfn) / kChunkPtes;
  if (a.state == BigState::U) bt.chunks.erase(chunk);
  else bt.chunks[chunk] = a.state;
  return {};
}

}  // namespace vmref::nova
