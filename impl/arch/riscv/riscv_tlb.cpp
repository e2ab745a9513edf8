#include "riscv_tlb.hpp"

namespace vmref::impl::riscv {

namespace {
constexpr unsigned kSizeClasses = 5;  // 4 KiB, 2 MiB, 1 GiB, 512 GiB, 256 TiB
std::uint64_t size_of(unsigned cls) { return 1ull << (12 + 9 * cls); }
unsigned class_of(std::uint64_t size) {
  unsigned c = 0;
  while (c + 1 < kSizeClasses && size_of(c) < size) ++c;
  return c;
}
}  // namespace

std::uint64_t Tlb::key(std::uint64_t va, std::uint64_t size) {
  return (((va & ~(size - 1)) & ((1ull << 57) - 1)) >> 12) | static_cast<std::uint64_t>(class_of(size)) << 45;
}

bool Tlb::valid_va(std::uint64_t va) const {
  // Bits 63..sv-1 all equal (Priv ISA §4.4-§4.6); otherwise rs1 is not a valid VA.
  std::uint64_t top = va >> (sv_ - 1);
  return top == 0 || top == (~0ull >> (sv_ - 1));
}

template <class Pred> void Tlb::drop_in(std::vector<TlbHeld>& b, Pred p) {
  count_ -= std::erase_if(b, p);
}

void Tlb::fill(std::uint16_t asid, std::uint64_t va, const Translation& t, std::uint32_t owner) {
  std::uint64_t base = va & ~(t.page_size - 1);
  auto& b = buckets_[key(va, t.page_size)];
  drop_in(b, [&](const TlbHeld& h) { return h.ctx == asid; });
  b.push_back(TlbHeld{asid, base, t.page_pa, t.page_size, t.rights, t.global, owner});
  ++count_;
}

void Tlb::sfence_vma(std::optional<std::uint64_t> va, std::optional<std::uint16_t> asid) {
  // rs2 = asid never reaches global entries (the mutant's ASID-wide fence does).
  bool asid_wide = asid && !va;
  bool globals_too = !asid || (asid_wide && mutant_ == &kAsidFenceDropsGlobals);
  auto hit = [&](const TlbHeld& h) { return (!asid || h.ctx == *asid) && (globals_too || !h.global); };
  if (!va) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      drop_in(it->second, hit);
      it = it->second.empty() ? buckets_.erase(it) : std::next(it);
    }
    return;
  }
  if (!valid_va(*va)) return;  // an invalid rs1 makes the fence a no-op (§4.2.1)
  unsigned classes = mutant_ == &kFenceVaKeepsSuperpages ? 1 : kSizeClasses;
  for (unsigned c = 0; c < classes; ++c) {
    auto it = buckets_.find(key(*va, size_of(c)));
    if (it == buckets_.end()) continue;
    drop_in(it->second, [&](const TlbHeld& h) { return hit(h) && h.size == size_of(c); });
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

Mmu::Mmu(unsigned cpus, unsigned sv, Mutant m, bool svinval)
    : sv_(sv),
      mutant_(m),
      svinval_(svinval || m == &kSinvalWithoutInvalIr || m == &kSinvalBeforeWInval),
      current_(cpus, 0),
      owner_(cpus, 0),
      satp_(cpus, 0) {
  for (unsigned i = 0; i < cpus; ++i) tlbs_.emplace_back(sv, m);
}

void Mmu::fence(unsigned cpu, std::optional<std::uint64_t> va, std::optional<std::uint16_t> asid) {
  Insn op{Insn::sfence_vma, cpu, asid.value_or(0), va.value_or(0), va.has_value(), asid.has_value(), {}};
  tlbs_[cpu].sfence_vma(va, asid);
  if (!svinval_) return note(op);
  // Svinval: SFENCE.W.INVAL orders the PTE stores before the SINVAL.VMA; SFENCE.INVAL.IR
  // orders the SINVAL.VMA before this hart's later walks. The TLB above drops the entries
  // at once, as if the bracket had completed, which it has once SFENCE.INVAL.IR is issued.
  op.kind = Insn::sinval_vma;
  Insn w_inval{Insn::sfence_w_inval, cpu, 0, 0, false, false, {}};
  Insn inval_ir{Insn::sfence_inval_ir, cpu, 0, 0, false, false, {}};
  if (mutant_ == &kSinvalBeforeWInval) {
    note(op);
    note(w_inval);
  } else {
    note(w_inval);
    note(op);
  }
  if (mutant_ != &kSinvalWithoutInvalIr) note(inval_ir);
}

void Mmu::load(unsigned cpu, std::uint16_t ctx, std::uint64_t root, std::uint32_t owner, bool flush) {
  // Writing satp flushes nothing (§4.1.11); recycling an ASID takes SFENCE.VMA x0, asid.
  std::uint64_t mode = sv_ == 39 ? 8 : sv_ == 48 ? 9 : 10;
  satp_[cpu] = mode << 60 | static_cast<std::uint64_t>(ctx) << 44 | (root >> 12);
  current_[cpu] = ctx;
  owner_[cpu] = owner;
  note({Insn::write_satp, cpu, ctx, 0, false, false, {}});
  if (flush) fence(cpu, std::nullopt, ctx);
}

void Mmu::fill(unsigned cpu, std::uint64_t va, const Translation& t) {
  tlbs_[cpu].fill(current_[cpu], va, t, owner_[cpu]);
  note({Insn::fill, cpu, current_[cpu], va, false, false, t, owner_[cpu]});
}

void Mmu::invalidate_page(unsigned cpu, std::uint16_t ctx, std::uint64_t va, bool with_global) {
  // rs2 = asid keeps global entries; only rs2 = x0 reaches them, for every ASID.
  fence(cpu, va, with_global ? std::nullopt : std::optional<std::uint16_t>(ctx));
}

void Mmu::invalidate_context(unsigned cpu, std::uint16_t ctx, bool with_global) {
  fence(cpu, std::nullopt, with_global ? std::nullopt : std::optional<std::uint16_t>(ctx));
}

void Mmu::invalidate_all(unsigned cpu) { fence(cpu, std::nullopt, std::nullopt); }

}  // namespace vmref::impl::riscv
