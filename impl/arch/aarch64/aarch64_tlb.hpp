// The TLB of one AArch64 PE for the EL1&0 stage-1 regime, ASID-tagged with global
// entries, and the Mmu that drives it with TTBR0_EL1 writes, TLBI and DSB (Arm ARM DDI
// 0487 D8.13 "Translation Lookaside Buffers (TLBs)", D8.13.8 on completion by DSB, C5.5
// TLBI; Linux arch/arm64/include/asm/tlbflush.h; ../shared/references/page-table-formats.md
// §2.6).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "vmref/impl/mmu.hpp"
#include "vmref/impl/mutant.hpp"
#include "aarch64_mutants.hpp"

namespace vmref::impl::aarch64 {

class BreakBeforeMake;

/// One TLB maintenance instruction of the EL1&0 regime (C5.5). `is`: the Inner
/// Shareable (broadcast) form, reaching every PE; otherwise the executing PE only.
struct Tlbi {
  enum Op : unsigned char {
    vae1,     ///< by VA and ASID, every level; global entries for the VA whatever their ASID
    vale1,    ///< as vae1, last-level (leaf) entries only
    vaae1,    ///< by VA, every ASID
    aside1,   ///< every non-global entry of the ASID
    vmalle1,  ///< every entry of the regime
  } op = vmalle1;
  bool is = false;
  std::uint16_t asid = 0;  ///< the operand's bits 63:48
  std::uint64_t va = 0;    ///< the operand's VA (bytes; bits 55:12 matter)
};

/// Whether `op` removes entry (asid `ctx`, page [va, va+size), `global`): the rule of
/// C5.5 for each operation. `mutant` may break it (tlbi-va-keeps-blocks,
/// asid-tlbi-drops-globals); `page_size` is the granule's.
bool tlbi_hits(const Tlbi& op, std::uint16_t ctx, std::uint64_t va, std::uint64_t size, bool global,
               std::uint64_t page_size, Mutant mutant);

/// Cached leaf translations of one PE, bucketed by page (VA aligned to its size, and the
/// size) so a TLBI by VA looks up one bucket per page size. Nothing is evicted but by
/// TLBI: the cache holds the most the architecture lets it keep. Walk-cache (non-leaf)
/// entries are not modelled (spec/formats/aarch64.md "TLB"), so VAE1 and VALE1 remove
/// the same entries here.
class Tlb {
 public:
  /// `page_shift`: 12, 14 or 16 (the granule); blocks are 1, 2 or 3 strides larger.
  explicit Tlb(unsigned page_shift = 12, Mutant m = nullptr) : page_shift_(page_shift), mutant_(m) {}
  /// A walk under `asid` of `owner`'s tables succeeded: cache its leaf.
  void fill(std::uint16_t asid, std::uint64_t va, const Translation& t, std::uint32_t owner = 0);
  /// Removes what `op` reaches (the effect a TLBI has once a DSB completed it).
  void invalidate(const Tlbi& op);
  std::size_t size() const { return count_; }
  const TlbHeld* find(std::uint16_t asid, std::uint64_t va, std::uint64_t size) const;
  void each(const std::function<void(const TlbHeld&)>& fn) const;

 private:
  std::uint64_t key(std::uint64_t va, std::uint64_t size) const;
  std::uint64_t size_of(unsigned cls) const { return 1ull << (page_shift_ + (page_shift_ - 3) * cls); }
  unsigned page_shift_;
  Mutant mutant_;
  std::size_t count_ = 0;
  std::unordered_map<std::uint64_t, std::vector<TlbHeld>> buckets_;
};

/// TLBI/DSB maintenance over one Tlb per PE. A TLBI is only issued: its effect is
/// guaranteed once a DSB on the issuing PE completes it (D8.13.8), so the Mmu queues it
/// per PE and applies it at that DSB. The VMM core's requests map, as Linux's
/// local_flush_tlb_* do: a context switch writes TTBR0_EL1 (ASID in bits 63:48, BADDR)
/// and ISB, flushing nothing, followed by TLBI ASIDE1 when the ASID's old entries must go;
/// a page: TLBI VAE1 (which also reaches global entries for the VA); a whole ASID: TLBI
/// ASIDE1, or VMALLE1 when global entries must go too (no ASID form reaches them);
/// everything: VMALLE1. Each TLBI is followed by DSB NSH. The VMM core asks CPU by CPU,
/// so the local forms serve; the IS forms are issued by `tlbi` with `is` set.
class Mmu : public vmref::impl::Mmu {
 public:
  /// `asid_bits`: 8 or 16 (TCR_EL1.AS); `page_shift` the granule's.
  Mmu(unsigned cpus, unsigned asid_bits = 16, unsigned page_shift = 12, Mutant m = nullptr);
  ~Mmu() override;
  /// Checks break-before-make on the tables the VMM core writes (aarch64_bbm.hpp): `bbm`
  /// observes their entry writes and is told every TLBI and DSB.
  void check_bbm(std::unique_ptr<BreakBeforeMake> bbm);
  EntryObserver* entry_observer() override;
  void take_findings(const std::function<void(const char* id, const std::string& msg)>& fn) const override;
  unsigned cpus() const override { return static_cast<unsigned>(tlbs_.size()); }
  std::uint16_t max_contexts() const override { return static_cast<std::uint16_t>((1u << asid_bits_) - 1); }
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

  /// TLBI `op` on `cpu`: queued until `dsb(cpu)` (the mutant kTlbiWithoutDsb applies it
  /// at once and issues no DSB).
  void tlbi(unsigned cpu, const Tlbi& op);
  /// DSB on `cpu`: every TLBI `cpu` issued before it is complete, on every PE it reaches.
  void dsb(unsigned cpu);
  /// TLBIs `cpu` issued that no DSB has completed yet.
  std::size_t pending(unsigned cpu) const { return pending_[cpu].size(); }
  const Tlb& tlb(unsigned cpu) const { return tlbs_[cpu]; }
  unsigned asid_bits() const { return asid_bits_; }
  unsigned page_shift() const { return page_shift_; }
  Mutant mutant() const { return mutant_; }
  /// The TTBR0_EL1 value `cpu` was last given (ASID << 48 | BADDR), 0 before any.
  std::uint64_t ttbr0(unsigned cpu) const { return ttbr0_[cpu]; }

  /// Every instruction issued, for a reference TLB to follow (conformance/diff).
  struct Insn {
    enum Kind { fill, tlbi, dsb, write_ttbr0 } kind;
    unsigned cpu;
    std::uint16_t asid = 0;  ///< fill: the ASID in TTBR0_EL1
    std::uint64_t va = 0;    ///< fill: the accessed VA
    Translation t{};
    std::uint32_t owner = 0;
    Tlbi op{};               ///< tlbi: the operation
  };
  void set_listener(std::function<void(const Insn&)> l) { listener_ = std::move(l); }

 private:
  void note(const Insn& i) { if (listener_) listener_(i); }
  void apply(unsigned cpu, const Tlbi& op);
  void maintain(unsigned cpu, const Tlbi& op);  ///< TLBI then DSB
  unsigned asid_bits_, page_shift_;
  Mutant mutant_;
  std::vector<Tlb> tlbs_;
  std::vector<std::vector<Tlbi>> pending_;
  std::vector<std::uint16_t> current_;
  std::vector<std::uint32_t> owner_;
  std::vector<std::uint64_t> ttbr0_;
  std::function<void(const Insn&)> listener_;
  std::unique_ptr<BreakBeforeMake> bbm_;
};

}  // namespace vmref::impl::aarch64
