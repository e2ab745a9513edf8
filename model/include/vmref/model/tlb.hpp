// Per-CPU "may hold" translation sets (spec/vmm.md §1.6, §3).
#pragma once

#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "vmref/model/gpt.hpp"

namespace vmref::model {

/// A translation a CPU may have cached: the PTE contents it saw.
struct Held {
  FrameId frame = kNoFrame;
  Prot prot;
  bool global = false;
  std::uint64_t generation = 0;  ///< the allocation of `frame` it reached (Frame::generation)
  std::uint8_t order = 0;        ///< the leaf maps 2^order pages from its key's VPN
  friend bool operator==(const Held&, const Held&) = default;
};

/// A cached upper-level entry (a paging-structure cache entry, Intel SDM Vol 3A §4.10.3;
/// an Arm walk cache entry): it leads the walker to table page `table` (that allocation)
/// for the VPNs [first, end) (spec/vmm.md §1.6, §1.8).
struct WalkHeld {
  FrameId table = kNoFrame;
  std::uint64_t generation = 0;
  Vpn end = 0;
  std::uint64_t since = 0;  ///< Core::link_seq when it went stale
  friend bool operator==(const WalkHeld&, const WalkHeld&) = default;
};

/// What one CPU may still hold (spec/vmm.md §3.1). A TLB may cache any translation that was
/// valid in an address space the CPU had loaded, at any time since the last flush
/// covering it (Intel SDM Vol 3 §4.10.2-§4.10.4; Arm ARM D8.13). Represented as
///   may_hold = { every valid PTE of each ASID in `loaded` }  U  stale entries,
/// where a stale entry is a translation that was valid while its ASID was loaded and
/// has since been removed or changed in the page table without a covering flush.
/// Only stale entries can break INV-TLB-*, so only they are stored.
class CpuTlb {
 public:
  using Key = std::pair<Asid, Vpn>;
  using Entries = std::map<Key, std::vector<Held>>;
  /// (as, first VPN of the table's range, table level) -> stale walk entries.
  using WalkKey = std::tuple<Asid, Vpn, unsigned>;
  using Walks = std::map<WalkKey, std::vector<WalkHeld>>;

  Asid current = 0;              ///< address space in use, 0 = none
  std::set<Asid> loaded;         ///< ASIDs whose valid translations may be cached
  std::set<Asid> global_loaded;  ///< ASIDs whose global translations may be cached

  /// Whether this CPU may hold the (now superseded) translation `old` of `as`.
  bool may_have_cached(Asid as, const Held& old) const {
    return loaded.count(as) || (old.global && global_loaded.count(as));
  }
  /// Records a superseded translation as stale. `held_index` counts stale entries per frame.
  void add_stale(Asid as, Vpn vpn, const Held& h, std::vector<std::uint64_t>& held_index);
  /// Records a walk through a table page that was unlinked or replaced (spec/vmm.md §1.8).
  void add_stale_walk(const WalkKey& k, const WalkHeld& w);
  /// Range flush of `as` (INVLPG-like): stale entries of leaves that overlap
  /// [first, first+count) go (a flush of one VA covers the whole leaf mapping it), and so
  /// do stale walk entries whose range overlaps it; global leaves stay unless `with_global`.
  void flush_range(Asid as, Vpn first, std::uint64_t count, bool with_global,
                   std::vector<std::uint64_t>& held_index);
  /// ASID flush: also forgets the ASID's valid translations unless it is current.
  void flush_asid(Asid as, bool with_global, std::vector<std::uint64_t>& held_index);
  /// Full flush: only the current address space stays loaded.
  void flush_all(std::vector<std::uint64_t>& held_index);
  const Entries& stale() const { return stale_; }
  const Walks& stale_walks() const { return walks_; }

 private:
  void flush_walks(Asid as, Vpn first, std::uint64_t count);
  Entries stale_;
  Walks walks_;
  std::uint64_t max_span_ = 1;  ///< pages of the largest stale leaf ever recorded
};

}  // namespace vmref::model
