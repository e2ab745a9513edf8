// The GPU TLB of NVIDIA's GMMU, tagged by PDB, and the Mmu that drives it through the
// MMU_INVALIDATE registers ([NV-HUB] tu104 pri_mmu_hub.ref.txt and dev_vm.ref.txt:
// INVALIDATE_PDB, _VADDR, _SIZE and INVALIDATE's ALL_VA, ALL_PDB, ACK 8:7, TRIGGER;
// [NV-INV] tu102 dev_vm.h; nova-core tlb.rs). One block for both page-table formats
// (VER2 and VER3: Hopper's hub keeps Turing's invalidate registers); each format gives
// its page sizes and its mutants' flags. spec/formats/nv_mmu_v2.md and nv_mmu_v3.md "TLB".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "vmref/impl/mmu.hpp"

namespace vmref::impl::gmmu {

/// INVALIDATE.ACK (bits 8:7) [NV-HUB]: 0 NONE_REQUIRED, 1 GLOBALLY, 2 INTRANODE.
enum class Ack : unsigned { none = 0, globally = 1, intranode = 2 };

/// One invalidate, as the INVALIDATE registers carry it. VA and size in bytes.
struct Invalidate {
  bool all_pdb = false;      ///< ALL_PDB: every PDB; otherwise `pdb`
  std::uint64_t pdb = 0;     ///< INVALIDATE_PDB/_UPPER_PDB: the PDB's byte address
  bool all_va = true;        ///< ALL_VA; otherwise the range [va, va + size) (VADDR, SIZE)
  std::uint64_t va = 0, size = 4096;
  Ack ack = Ack::globally;
};

/// Whether an invalidate with `ack` guarantees, once its TRIGGER bit reads 0, that the
/// TLBs the harness models (one GPU: every TLB is in the node) dropped what it names:
/// GLOBALLY and INTRANODE do; NONE_REQUIRED guarantees nothing (spec choices V2-T2, V3-T2).
bool guarantees_removal(Ack ack);

/// What differs between the formats: the leaf sizes a walk can fill, in bytes, ascending
/// (4 KiB first), and the behaviour of their broken variants.
struct TlbConfig {
  std::vector<std::uint64_t> sizes;
  bool ack_none_complete = false;  ///< mutant: invalidates issued with ACK NONE and counted as complete
  bool targeted_small_only = false;  ///< mutant: a targeted invalidate drops entries below 2 MiB only
  bool targeted_one_page = false;    ///< mutant: a targeted invalidate ignores SIZE, naming 4 KiB at VADDR
};

/// Whether invalidate `inv` names an entry of `pdb` covering [va, va + size).
bool names(const Invalidate& inv, std::uint64_t pdb, std::uint64_t va, std::uint64_t size);

/// One TLB of the GPU (the harness's CPUs stand for the GPU's TLBs, e.g. one per GPC).
/// Entries are tagged by the PDB of the walk that filled them and carry the harness's
/// context number for the differential. Nothing is evicted but by an invalidate that
/// guarantees removal: the TLB holds the most the rules let it keep (the may-hold set).
class Tlb {
 public:
  /// `config` outlives the TLB (its Mmu's copy).
  explicit Tlb(const TlbConfig& config) : config_(&config) {}
  void fill(std::uint64_t pdb, std::uint16_t ctx, std::uint64_t va, const Translation& t, std::uint32_t owner);
  void invalidate(const Invalidate& inv);
  std::size_t size() const { return count_; }
  /// The entry of context `ctx` for the `size`-byte page holding `va`, or nullptr.
  const TlbHeld* find(std::uint16_t ctx, std::uint64_t va, std::uint64_t size) const;
  void each(const std::function<void(const TlbHeld&)>& fn) const;

 private:
  struct Held {
    TlbHeld h;
    std::uint64_t pdb;
  };
  /// VFN of the page | size class (its index in TlbConfig::sizes) << 52.
  std::uint64_t key(std::uint64_t va, std::uint64_t size) const;
  unsigned class_of(std::uint64_t size) const;
  void drop_range(const Invalidate& inv);
  const TlbConfig* config_;
  std::size_t count_ = 0;
  std::unordered_map<std::uint64_t, std::vector<Held>> buckets_;
};

/// The harness's TLB requests as GMMU invalidates, every one with ACK GLOBALLY and
/// waited for: a page of one context is a targeted invalidate (ALL_VA = 0, VADDR, SIZE
/// 4 KiB) of each PDB the context was bound to on that TLB since its last full
/// invalidate; a whole context is ALL_VA of each such PDB; `with_global` (the GPU has no
/// global entries) widens either to ALL_PDB; everything is ALL_PDB | ALL_VA. Binding a
/// context (a channel's instance block naming the PDB) invalidates nothing.
class Mmu : public vmref::impl::Mmu {
 public:
  Mmu(unsigned cpus, TlbConfig config);
  Mmu(const Mmu&) = delete;  // its TLBs point at config_
  Mmu& operator=(const Mmu&) = delete;
  unsigned cpus() const override { return static_cast<unsigned>(tlbs_.size()); }
  std::uint16_t max_contexts() const override { return 65535; }
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
  /// The PDB bound on `cpu`, 0 before any.
  std::uint64_t pdb(unsigned cpu) const { return pdb_[cpu]; }
  /// Every fill and invalidate issued, for a reference TLB to follow.
  struct Insn {
    enum Kind { fill, invalidate } kind;
    unsigned cpu;
    std::uint16_t ctx = 0;       ///< fill: the context bound
    std::uint64_t pdb = 0;       ///< fill: the PDB walked
    std::uint64_t va = 0;        ///< fill: the accessed VA
    Translation t{};
    std::uint32_t owner = 0;
    Invalidate inv{};
  };
  void set_listener(std::function<void(const Insn&)> l) { listener_ = std::move(l); }

 private:
  void issue(unsigned cpu, Invalidate inv);
  /// Invalidates `base` for each PDB `ctx` was bound to on `cpu`, then forgets them.
  void each_pdb(unsigned cpu, std::uint16_t ctx, Invalidate base);
  TlbConfig config_;
  std::vector<Tlb> tlbs_;
  std::vector<std::uint16_t> current_;
  std::vector<std::uint64_t> pdb_;
  std::vector<std::uint32_t> owner_;
  std::vector<std::map<std::uint16_t, std::set<std::uint64_t>>> bound_;  ///< per TLB: ctx -> PDBs since its last flush
  std::function<void(const Insn&)> listener_;
};

}  // namespace vmref::impl::gmmu
