// The TLB of one x86-64 logical processor with PCIDs (Intel SDM Vol 3A §4.10), and the
// Mmu that drives it the way a PCID-aware kernel does.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "vmref/impl/mmu.hpp"
#include "vmref/impl/mutant.hpp"
#include "x86_64_mutants.hpp"

namespace vmref::impl::x86_64 {

/// Cached translations, each tagged with the PCID current when it was filled. Global
/// entries (G set, CR4.PGE = 1) match every PCID (§4.10.2.4). Beside them, the
/// paging-structure caches (§4.10.3): each successful walk caches every non-leaf entry
/// it used (PML5E/PML4E/PDPTE/PDE caches), under the PCID, never global. Invalidation
/// follows the SDM exactly (§4.10.4.1; Vol 2 INVLPG, INVPCID); nothing is evicted
/// otherwise, so the TLB holds the most the architecture allows it to keep.
class Tlb {
 public:
  explicit Tlb(bool pge = true, Mutant m = nullptr) : pge_(pge), mutant_(m) {}
  /// A walk under `pcid` of `owner`'s tables succeeded: cache its leaf and its non-leaf
  /// entries. G is ignored when CR4.PGE = 0.
  void fill(std::uint16_t pcid, std::uint64_t va, const Translation& t, std::uint32_t owner = 0);
  /// INVLPG: the current PCID's entries for the page, global entries for it, and every
  /// paging-structure cache entry of the current PCID whatever its VA.
  void invlpg(std::uint16_t current_pcid, std::uint64_t va);
  /// INVPCID of `type` 0-3 (individual address, single context, all incl. globals, all
  /// non-global); type 0 drops the PCID's cached walk entries that translate `va`, the
  /// others every walk entry they reach. Throws std::invalid_argument for a type above 3 (#GP).
  void invpcid(unsigned type, std::uint16_t pcid, std::uint64_t va);
  /// MOV to CR3 with CR4.PCIDE = 1: without bit 63 (`noflush` false) the new PCID's
  /// non-global entries and walk entries go; with it nothing goes.
  void mov_cr3(std::uint16_t pcid, bool noflush);
  /// MOV to CR4 changing PGE: everything goes, globals and walk entries included.
  void set_pge(bool pge);
  std::size_t size() const { return map_.size(); }
  std::size_t walk_count() const { return walks_.size(); }
  void each_walk(const std::function<void(const WalkCached&)>& fn) const;
  /// The entry filled under `pcid` for the page of `size` bytes containing `va`, if held.
  const TlbHeld* find(std::uint16_t pcid, std::uint64_t va, std::uint64_t size = 4096) const {
    auto it = map_.find(key(pcid, va, size));
    return it == map_.end() ? nullptr : &it->second;
  }
  void each(const std::function<void(const TlbHeld&)>& fn) const;

 private:
  /// (VPN of a 57-bit VA: 45 bits) | (PCID: 12 bits) << 45 | (page size, or walk level) << 57.
  static std::uint64_t pack(std::uint16_t pcid, std::uint64_t va, unsigned kind) {
    return ((va & ((1ull << 57) - 1)) >> 12) | (static_cast<std::uint64_t>(pcid & 0xfff) << 45) |
           (static_cast<std::uint64_t>(kind) << 57);
  }
  static std::uint64_t key(std::uint16_t pcid, std::uint64_t va, std::uint64_t size) {
    return pack(pcid, va & ~(size - 1), size == 4096 ? 0 : size == (1ull << 21) ? 1 : 2);
  }
  template <class Map, class Pred> static void erase_if(Map& m, Pred p) {
    for (auto it = m.begin(); it != m.end();) it = p(it->second) ? m.erase(it) : std::next(it);
  }
  template <class Pred> void erase_if(Pred p) { erase_if(map_, p); }
  template <class Pred> void erase_walks_if(Pred p) { erase_if(walks_, p); }
  bool pge_;
  Mutant mutant_;
  std::unordered_map<std::uint64_t, TlbHeld> map_;
  std::unordered_map<std::uint64_t, WalkCached> walks_;  ///< key: pack(pcid, region, level)
};

/// PCID-aware TLB maintenance over one Tlb per CPU, as Linux does with INVPCID:
/// a page of the current PCID is invalidated with INVLPG, a page of another PCID with
/// INVPCID type 0, a whole PCID with type 1, globals with type 2; context switches
/// write CR3 with bit 63 set (the PCID's entries stay valid for it).
class Mmu : public vmref::impl::Mmu {
 public:
  Mmu(unsigned cpus, Mutant m = nullptr);
  unsigned cpus() const override { return static_cast<unsigned>(tlbs_.size()); }
  std::uint16_t max_contexts() const override { return 4095; }  ///< PCIDs 1..4095 (12 bits)
  void load(unsigned cpu, std::uint16_t ctx, std::uint64_t root, std::uint32_t owner, bool flush = false) override;
  std::uint16_t current(unsigned cpu) const override { return current_[cpu]; }
  void fill(unsigned cpu, std::uint64_t va, const Translation& t) override;
  void invalidate_page(unsigned cpu, std::uint16_t ctx, std::uint64_t va, bool with_global) override;
  void invalidate_context(unsigned cpu, std::uint16_t ctx, bool with_global) override;
  void invalidate_all(unsigned cpu) override;
  void held(unsigned cpu, const std::function<void(const TlbHeld&)>& fn) const override;
  const TlbHeld* find(unsigned cpu, std::uint16_t ctx, std::uint64_t va, std::uint64_t size) const override {
    return tlbs_[cpu].find(ctx, va, size);
  }
  std::size_t size(unsigned cpu) const override { return tlbs_[cpu].size(); }
  void held_walks(unsigned cpu, const std::function<void(const WalkCached&)>& fn) const override {
    tlbs_[cpu].each_walk(fn);
  }
  const Tlb& tlb(unsigned cpu) const { return tlbs_[cpu]; }
  /// Every instruction issued, for a reference TLB to follow (conformance/diff).
  struct Insn { enum Kind { fill, invlpg, invpcid, mov_cr3 } kind; unsigned cpu; std::uint16_t pcid;
                std::uint64_t va; unsigned type; bool noflush; Translation t; std::uint32_t owner = 0; };
  void set_listener(std::function<void(const Insn&)> l) { listener_ = std::move(l); }

 private:
  void note(const Insn& i) { if (listener_) listener_(i); }
  std::vector<Tlb> tlbs_;
  std::vector<std::uint16_t> current_;
  std::vector<std::uint32_t> owner_;  ///< the address space whose tables each CPU walks
  Mutant mutant_;
  std::function<void(const Insn&)> listener_;
};

}  // namespace vmref::impl::x86_64
