// Abstract generic page table: VPN -> PTE, one per address space (spec/vmm.md §1.3).
#pragma once

#include <map>

#include "vmref/model/types.hpp"

namespace vmref::model {

/// One valid translation. Absent entries are simply not stored.
struct Pte {
  FrameId frame = kNoFrame;
  Prot prot;               ///< rights granted by the leaf (R/W/X)
  bool user = true;        ///< U/S: accessible from user mode
  bool global = false;     ///< G: survives ASID-scoped flushes (spec/vmm.md §3.2)
  bool cow = false;        ///< copy-on-write: never writable while set (INV-COW-1)
  bool accessed = false;   ///< A: set by any access through this PTE
  bool dirty = false;      ///< D: set by a write through this PTE
  std::uint8_t order = 0;  ///< page size = base page size << order (0 = base page)
  std::uint64_t page = 0;  ///< the first page of `frame` the leaf maps (compound frames)
  /// Mapped by fault-around only and not used since: Linux skips a cached page it cannot
  /// lock at that moment, so whether the kernel mapped it is undetermined
  /// (spec/kernels/linux.md §1.9).
  bool fault_around = false;
  /// Its last COW fault reused the frame in place. Linux copies instead when a transient
  /// kernel reference (LRU batch, compaction) is held at that moment: undetermined.
  bool reused = false;
  /// A CPU-local kernel mapping (a per-CPU mapping region): only this CPU ever uses it,
  /// so only this CPU may cache it (spec/vmm.md §3.1). -1: any CPU running the address
  /// space may.
  std::int16_t local_cpu = -1;
  /// The allocation of `frame` this PTE was set to (Frame::generation, set by
  /// Core::install_pte): a PTE whose frame was freed and reallocated since dangles.
  std::uint64_t generation = 0;
  friend bool operator==(const Pte&, const Pte&) = default;
};

/// Ordered so range operations (munmap, mprotect, fork) visit entries in address order.
using Gpt = std::map<Vpn, Pte>;

/// The leaf translating `vpn`: the entry at `vpn`, or a huge leaf (order > 0) starting
/// below it that spans it; end() when none does.
inline Gpt::iterator leaf_at(Gpt& g, Vpn vpn) {
  auto it = g.upper_bound(vpn);
  if (it == g.begin()) return g.end();
  --it;
  return vpn - it->first < (Vpn{1} << it->second.order) ? it : g.end();
}

}  // namespace vmref::model
