// The address-translation cache of one RISC-V hart, ASID-tagged with global entries, and
// the Mmu that drives it with satp writes and SFENCE.VMA (RISC-V Privileged ISA 20211203
// §4.2.1 and §4.1.11; §12.2.1 and §12.1.11 in the 20240411 edition), or with Svinval's
// SFENCE.W.INVAL, SINVAL.VMA, SFENCE.INVAL.IR (ISA manual src/priv/svinval.adoc).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "vmref/impl/mmu.hpp"
#include "vmref/impl/mutant.hpp"
#include "riscv_mutants.hpp"

namespace vmref::impl::riscv {

/// Cached leaf translations, each tagged with the ASID in satp when it was filled; a
/// global one (G = 1) belongs to every address space. Entries are bucketed by their page
/// (VA aligned to their size, and the size), so a VA fence looks up one bucket per page
/// size instead of scanning. Nothing is evicted but by SFENCE.VMA: the cache holds the
/// most the manual lets it keep. Non-leaf (walk) entries are not cached (see
/// spec/formats/riscv.md "TLB": a VA fence need not drop them, and the VMM core's page
/// shootdown does not say when tables were freed).
class Tlb {
 public:
  /// `sv`: 39, 48 or 57 (fixes which VAs are valid fence operands).
  explicit Tlb(unsigned sv = 48, Mutant m = nullptr) : sv_(sv), mutant_(m) {}
  /// A walk under `asid` of `owner`'s tables succeeded: cache its leaf.
  void fill(std::uint16_t asid, std::uint64_t va, const Translation& t, std::uint32_t owner = 0);
  /// SFENCE.VMA rs1, rs2: `va` empty for rs1 = x0, `asid` empty for rs2 = x0.
  /// rs1 = va drops leaves of every size covering va; rs2 = asid keeps global entries; a
  /// non-canonical va makes the fence a no-op (§4.2.1).
  void sfence_vma(std::optional<std::uint64_t> va, std::optional<std::uint16_t> asid);
  std::size_t size() const { return count_; }
  const TlbHeld* find(std::uint16_t asid, std::uint64_t va, std::uint64_t size = 4096) const;
  void each(const std::function<void(const TlbHeld&)>& fn) const;

 private:
  /// VPN (bits 56:12 of the page's VA) | size class << 45 (0: 4 KiB, 1: 2 MiB, ... 4: 256 TiB).
  static std::uint64_t key(std::uint64_t va, std::uint64_t size);
  bool valid_va(std::uint64_t va) const;
  template <class Pred> void drop_in(std::vector<TlbHeld>& b, Pred p);
  unsigned sv_;
  Mutant mutant_;
  std::size_t count_ = 0;
  std::unordered_map<std::uint64_t, std::vector<TlbHeld>> buckets_;
};

/// SFENCE.VMA-based maintenance over one Tlb per hart, as Linux's arch/riscv/mm/tlbflush.c
/// does: a context switch writes satp (which flushes nothing), followed by SFENCE.VMA
/// x0, asid when the ASID's old entries must go; a page of one ASID is fenced with
/// rs1 = va, rs2 = asid, or rs2 = x0 when global entries must go too; a whole ASID with
/// rs1 = x0, rs2 = asid, or x0, x0 when globals must go (no ASID form drops them).
/// With Svinval, each such fence is issued as SFENCE.W.INVAL; SINVAL.VMA rs1, rs2;
/// SFENCE.INVAL.IR with the same operands (one bracket per request of the VMM core).
class Mmu : public vmref::impl::Mmu {
 public:
  /// `svinval`: fence with the Svinval bracket instead of SFENCE.VMA (the mutants
  /// kSinvalWithoutInvalIr and kSinvalBeforeWInval imply it: they break the bracket).
  Mmu(unsigned cpus, unsigned sv = 48, Mutant m = nullptr, bool svinval = false);
  unsigned cpus() const override { return static_cast<unsigned>(tlbs_.size()); }
  std::uint16_t max_contexts() const override { return 65535; }  ///< ASIDLEN 16 (§4.1.11)
  void load(unsigned cpu, std::uint16_t ctx, std::uint64_t root, std::uint32_t owner, bool flush = false) override;
  std::uint16_t current(unsigned cpu) const override { return current_[cpu]; }
  void fill(unsigned cpu, std::uint64_t va, const Translation& t) override;
  void invalidate_page(unsigned cpu, std::uint16_t ctx, std::uint64_t va, bool with_global) override;
  void invalidate_context(unsigned cpu, std::uint16_t ctx, bool with_global) override;
  void invalidate_all(unsigned cpu) override;
  void held(unsigned cpu, const std::function<void(const TlbHeld&)>& fn) const override { tlbs_[cpu].each(fn); }
  const TlbHeld* find(unsigned cpu, std::uint16_t ctx, std::uint64_t va, std::uint64_t size) const override {
    return tlbs_[cpu].find(ctx, va, size);
  }
  std::size_t size(unsigned cpu) const override { return tlbs_[cpu].size(); }
  void held_walks(unsigned, const std::function<void(const WalkCached&)>&) const override {}
  const Tlb& tlb(unsigned cpu) const { return tlbs_[cpu]; }
  unsigned sv() const { return sv_; }
  bool svinval() const { return svinval_; }
  /// The satp value `cpu` was last given (MODE | ASID << 44 | PPN), 0 before any.
  std::uint64_t satp(unsigned cpu) const { return satp_[cpu]; }
  /// Every instruction issued, for a reference TLB to follow (conformance/diff).
  struct Insn {
    enum Kind { fill, sfence_vma, write_satp, sfence_w_inval, sinval_vma, sfence_inval_ir } kind;
    unsigned cpu;
    std::uint16_t asid;  ///< fill: the ASID in satp; sfence_vma, sinval_vma: rs2 when has_asid
    std::uint64_t va;    ///< fill: the accessed VA; sfence_vma, sinval_vma: rs1 when has_va
    bool has_va, has_asid;
    Translation t;
    std::uint32_t owner = 0;
  };
  void set_listener(std::function<void(const Insn&)> l) { listener_ = std::move(l); }

 private:
  void fence(unsigned cpu, std::optional<std::uint64_t> va, std::optional<std::uint16_t> asid);
  void note(const Insn& i) { if (listener_) listener_(i); }
  unsigned sv_;
  Mutant mutant_;
  bool svinval_;
  std::vector<Tlb> tlbs_;
  std::vector<std::uint16_t> current_;
  std::vector<std::uint32_t> owner_;
  std::vector<std::uint64_t> satp_;
  std::function<void(const Insn&)> listener_;
};

}  // namespace vmref::impl::riscv
