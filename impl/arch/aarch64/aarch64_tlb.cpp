#include "aarch64_tlb.hpp"

#include "aarch64_bbm.hpp"

namespace vmref::impl::aarch64 {

namespace {
constexpr unsigned kSizeClasses = 4;  // the page and blocks of 1, 2 and 3 strides more
}  // namespace

bool tlbi_hits(const Tlbi& op, std::uint16_t ctx, std::uint64_t va, std::uint64_t size, bool global,
               std::uint64_t page_size, Mutant mutant) {
  switch (op.op) {
    case Tlbi::vmalle1: return true;
    case Tlbi::aside1: return ctx == op.asid && (!global || mutant == &kAsidTlbiDropsGlobals);
    case Tlbi::vaae1:
    case Tlbi::vae1:
    case Tlbi::vale1: {
      // VA bits 55:12 select the page; a block covering the VA is hit too.
      std::uint64_t mask = (1ull << 56) - 1;
      bool covers = ((op.va & mask) & ~(size - 1)) == ((va & mask) & ~(size - 1));
      if (mutant == &kTlbiVaKeepsBlocks && size != page_size) return false;
      return covers && (op.op == Tlbi::vaae1 || global || ctx == op.asid);
    }
  }
  return false;
}

std::uint64_t Tlb::key(std::uint64_t va, std::uint64_t size) const {
  unsigned cls = 0;
  while (cls + 1 < kSizeClasses && size_of(cls) < size) ++cls;
  return (((va & ~(size - 1)) & ((1ull << 56) - 1)) >> 12) | static_cast<std::uint64_t>(cls) << 48;
}

void Tlb::fill(std::uint16_t asid, std::uint64_t va, const Translation& t, std::uint32_t owner) {
  auto& b = buckets_[key(va, t.page_size)];
  count_ -= std::erase_if(b, [&](const TlbHeld& h) { return h.ctx == asid; });
  b.push_back(TlbHeld{asid, va & ~(t.page_size - 1), t.page_pa, t.page_size, t.rights, t.global, owner});
  ++count_;
}

void Tlb::invalidate(const Tlbi& op) {
  std::uint64_t page = size_of(0);
  auto hit = [&](const TlbHeld& h) { return tlbi_hits(op, h.ctx, h.va, h.size, h.global, page, mutant_); };
  if (op.op == Tlbi::aside1 || op.op == Tlbi::vmalle1) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      count_ -= std::erase_if(it->second, hit);
      it = it->second.empty() ? buckets_.erase(it) : std::next(it);
    }
    return;
  }
  for (unsigned c = 0; c < kSizeClasses; ++c) {
    auto it = buckets_.find(key(op.va, size_of(c)));
    if (it == buckets_.end()) continue;
    count_ -= std::erase_if(it->second, [&](const TlbHeld& h) { return h.size == size_of(c) && hit(h); });
    if (it->second.empty()) buckets_.erase(it);
  }
}

const TlbHeld* Tlb::find(std::uint16_t asid, std::uint64_t va, std::uint64_t size) const {
  auto it = buckets_.find(key(va, size));
  if (it == buckets_.end()) return nullptr;
  for (const TlbHeld& h : it->second)
    if (h.ctx == asid && h.size == size) return &h;
  return nullptr;
}

void Tlb::each(const std::function<void(const TlbHeld&)>& fn) const {
  for (const auto& kv : buckets_)
    for (const TlbHeld& h : kv.second) fn(h);
}

Mmu::Mmu(unsigned cpus, unsigned asid_bits, unsigned page_shift, Mutant m)
    : asid_bits_(asid_bits), page_shift_(page_shift), mutant_(m), pending_(cpus), current_(cpus, 0), owner_(cpus, 0),
      ttbr0_(cpus, 0) {
  for (unsigned i = 0; i < cpus; ++i) tlbs_.emplace_back(page_shift, m);
}

Mmu::~Mmu() = default;

void Mmu::check_bbm(std::unique_ptr<BreakBeforeMake> bbm) { bbm_ = std::move(bbm); }

EntryObserver* Mmu::entry_observer() { return bbm_.get(); }

void Mmu::take_findings(const std::function<void(const char* id, const std::string& msg)>& fn) const {
  if (bbm_) bbm_->take(fn);
}

void Mmu::apply(unsigned cpu, const Tlbi& op) {
  if (!op.is) return tlbs_[cpu].invalidate(op);
  for (Tlb& t : tlbs_) t.invalidate(op);
}

void Mmu::tlbi(unsigned cpu, const Tlbi& op) {
  note({Insn::tlbi, cpu, 0, 0, {}, 0, op});
  if (bbm_) bbm_->tlbi(cpu, op);
  if (mutant_ == &kTlbiWithoutDsb) return apply(cpu, op);  // taken as complete at once
  pending_[cpu].push_back(op);
}

void Mmu::dsb(unsigned cpu) {
  for (const Tlbi& op : pending_[cpu]) apply(cpu, op);
  pending_[cpu].clear();
  note({Insn::dsb, cpu});
  if (bbm_) bbm_->dsb(cpu);
}

void Mmu::maintain(unsigned cpu, const Tlbi& op) {
  tlbi(cpu, op);
  if (mutant_ != &kTlbiWithoutDsb) dsb(cpu);
}

void Mmu::load(unsigned cpu, std::uint16_t ctx, std::uint64_t root, std::uint32_t owner, bool flush) {
  // MSR TTBR0_EL1 (ASID in 63:48, TCR_EL1.A1 = 0) and ISB: no TLB entry is removed.
  ttbr0_[cpu] = static_cast<std::uint64_t>(ctx) << 48 | root;
  current_[cpu] = ctx;
  owner_[cpu] = owner;
  note({Insn::write_ttbr0, cpu, ctx});
  if (flush) maintain(cpu, {Tlbi::aside1, false, ctx, 0});
}

void Mmu::fill(unsigned cpu, std::uint64_t va, const Translation& t) {
  tlbs_[cpu].fill(current_[cpu], va, t, owner_[cpu]);
  if (bbm_) bbm_->walked(ttbr0_[cpu] & ((1ull << 48) - 1), va, t);
  note({Insn::fill, cpu, current_[cpu], va, t, owner_[cpu]});
}

void Mmu::invalidate_page(unsigned cpu, std::uint16_t ctx, std::uint64_t va, bool) {
  // VAE1 reaches global entries for the VA whatever the ASID, so one form serves both.
  maintain(cpu, {mutant_ == &kVale1ForTables ? Tlbi::vale1 : Tlbi::vae1, false, ctx, va});
}

void Mmu::invalidate_context(unsigned cpu, std::uint16_t ctx, bool with_global) {
  maintain(cpu, with_global ? Tlbi{Tlbi::vmalle1, false, 0, 0} : Tlbi{Tlbi::aside1, false, ctx, 0});
}

void Mmu::invalidate_all(unsigned cpu) { maintain(cpu, {Tlbi::vmalle1, false, 0, 0}); }

}  // namespace vmref::impl::aarch64
