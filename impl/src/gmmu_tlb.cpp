// The GMMU TLB (vmref/impl/gmmu_tlb.hpp): buckets by page and size class, so a targeted
// invalidate looks up the few pages it covers in each class instead of scanning.
#include "vmref/impl/gmmu_tlb.hpp"

#include <stdexcept>

namespace vmref::impl::gmmu {

namespace {
constexpr std::uint64_t kMaxPagesPerClass = 64;  // beyond this a targeted drop scans every bucket
}  // namespace

unsigned Tlb::class_of(std::uint64_t size) const {
  const auto& s = config_->sizes;
  unsigned c = 0;
  while (c + 1 < s.size() && s[c] < size) ++c;
  return c;
}

bool guarantees_removal(Ack ack) { return ack == Ack::globally || ack == Ack::intranode; }

bool names(const Invalidate& inv, std::uint64_t pdb, std::uint64_t va, std::uint64_t size) {
  if (!inv.all_pdb && inv.pdb != pdb) return false;
  if (inv.all_va) return true;
  return va < inv.va + inv.size && inv.va < va + size;  // the ranges overlap
}

std::uint64_t Tlb::key(std::uint64_t va, std::uint64_t size) const {
  return ((va & ~(size - 1)) >> 12) | static_cast<std::uint64_t>(class_of(size)) << 52;
}

void Tlb::fill(std::uint64_t pdb, std::uint16_t ctx, std::uint64_t va, const Translation& t, std::uint32_t owner) {
  auto& b = buckets_[key(va, t.page_size)];
  count_ -= std::erase_if(b, [&](const Held& o) { return o.pdb == pdb; });
  b.push_back({TlbHeld{ctx, va & ~(t.page_size - 1), t.page_pa, t.page_size, t.rights, t.global, owner}, pdb});
  ++count_;
}

void Tlb::invalidate(const Invalidate& given) {
  if (!guarantees_removal(given.ack) && !config_->ack_none_complete) return;  // may still hold
  Invalidate inv = given;
  if (config_->targeted_one_page) inv.size = 4096;  // the mutant reads VADDR only
  if (!inv.all_va && inv.size / 4096 <= kMaxPagesPerClass) {
    drop_range(inv);
    return;
  }
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    count_ -= std::erase_if(it->second, [&](const Held& o) { return names(inv, o.pdb, o.h.va, o.h.size); });
    it = it->second.empty() ? buckets_.erase(it) : std::next(it);
  }
}

void Tlb::drop_range(const Invalidate& inv) {
  for (std::uint64_t sz : config_->sizes) {
    if (config_->targeted_small_only && sz >= (2ull << 20)) break;  // the mutant stops below 2 MiB
    for (std::uint64_t page = inv.va & ~(sz - 1); page < inv.va + inv.size; page += sz) {
      auto it = buckets_.find(key(page, sz));
      if (it == buckets_.end()) continue;
      count_ -= std::erase_if(it->second, [&](const Held& o) { return o.h.size == sz && names(inv, o.pdb, o.h.va, sz); });
      if (it->second.empty()) buckets_.erase(it);
    }
  }
}

const TlbHeld* Tlb::find(std::uint16_t ctx, std::uint64_t va, std::uint64_t size) const {
  auto it = buckets_.find(key(va, size));
  if (it == buckets_.end()) return nullptr;
  for (const Held& o : it->second)
    if (o.h.ctx == ctx && o.h.size == size) return &o.h;
  return nullptr;
}

void Tlb::each(const std::function<void(const TlbHeld&)>& fn) const {
  for (const auto& kv : buckets_)
    for (const Held& o : kv.second) fn(o.h);
}

Mmu::Mmu(unsigned cpus, TlbConfig config)
    : config_(std::move(config)), tlbs_(cpus, Tlb(config_)), current_(cpus, 0), pdb_(cpus, 0), owner_(cpus, 0), bound_(cpus) {
  if (config_.sizes.empty() || config_.sizes.size() > 8) throw std::invalid_argument("GMMU TLB: 1 to 8 page sizes");
}

void Mmu::issue(unsigned cpu, Invalidate inv) {
  inv.ack = config_.ack_none_complete ? Ack::none : Ack::globally;
  tlbs_[cpu].invalidate(inv);
  if (listener_) listener_({Insn::invalidate, cpu, 0, 0, 0, {}, 0, inv});
}

void Mmu::each_pdb(unsigned cpu, std::uint16_t ctx, Invalidate base) {
  auto it = bound_[cpu].find(ctx);
  if (it == bound_[cpu].end()) return;
  for (std::uint64_t p : it->second) {
    base.pdb = p;
    issue(cpu, base);
  }
}

void Mmu::load(unsigned cpu, std::uint16_t ctx, std::uint64_t root, std::uint32_t owner, bool flush) {
  current_[cpu] = ctx;
  pdb_[cpu] = root;
  owner_[cpu] = owner;
  if (flush) invalidate_context(cpu, ctx, false);
  bound_[cpu][ctx].insert(root);
}

void Mmu::fill(unsigned cpu, std::uint64_t va, const Translation& t) {
  tlbs_[cpu].fill(pdb_[cpu], current_[cpu], va, t, owner_[cpu]);
  if (listener_) listener_({Insn::fill, cpu, current_[cpu], pdb_[cpu], va, t, owner_[cpu], {}});
}

void Mmu::invalidate_page(unsigned cpu, std::uint16_t ctx, std::uint64_t va, bool with_global) {
  Invalidate inv{with_global, 0, false, va & ~0xfffull, 4096};
  if (with_global) issue(cpu, inv);
  else each_pdb(cpu, ctx, inv);
}

void Mmu::invalidate_context(unsigned cpu, std::uint16_t ctx, bool with_global) {
  if (with_global) issue(cpu, Invalidate{true, 0, true});
  else each_pdb(cpu, ctx, Invalidate{false, 0, true});
  auto& pdbs = bound_[cpu][ctx];
  pdbs.clear();
  if (current_[cpu] == ctx) pdbs.insert(pdb_[cpu]);
}

void Mmu::invalidate_all(unsigned cpu) {
  issue(cpu, Invalidate{true, 0, true});
  bound_[cpu].clear();
  bound_[cpu][current_[cpu]].insert(pdb_[cpu]);
}

}  // namespace vmref::impl::gmmu
