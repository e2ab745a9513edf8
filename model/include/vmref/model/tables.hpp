// Page-table pages (spec/vmm.md §1.8): which table pages an address space links, at
// which level and for which VA range, so that table-page lifetimes, sharing and the
// walks a CPU may cache can be judged (INV-PT-*).
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "vmref/model/types.hpp"

namespace vmref::model {

/// The radix geometry every table-page event is read in: a table page is one page of
/// 8-byte entries, so it has page_size / 8 entries: 512 for 4 KiB pages, as x86-64
/// (Intel SDM Vol 3A §4.5), AArch64 with the 4K granule (Arm ARM, VMSAv8-64) and
/// RISC-V Sv39/48/57 (privileged spec, "8 B, 512 per table") have. A level-1 table holds leaves of one
/// page; an entry of a level-L table covers page_size * E^(L-1) bytes. Units: VPNs
/// (pages), shifts in log2 bytes.
struct TableGeometry {
  unsigned page_shift = 12;
  unsigned entry_bits = 9;  ///< log2(entries per table)
  /// log2 of the bytes a level-`level` table covers (its whole range); may exceed 63.
  unsigned table_shift(unsigned level) const { return page_shift + level * entry_bits; }
  /// The highest level whose table still fits a 64-bit VA space.
  unsigned max_level() const { return (64 - page_shift) / entry_bits; }
  /// First VPN and page count of the level-`level` table whose range holds `va`.
  std::pair<Vpn, std::uint64_t> range_of(unsigned level, Va va) const {
    unsigned span = level * entry_bits;  // pages, log2
    if (span + page_shift >= 64) return {0, std::uint64_t{1} << (64 - page_shift)};
    Vpn first = (va >> page_shift) & ~((std::uint64_t{1} << span) - 1);
    return {first, std::uint64_t{1} << span};
  }
};

/// One table page linked into an address space: the frame, the allocation it was
/// linked as, and whether the trace declared the link shared (hugetlb PMD sharing).
struct TableSlot {
  FrameId table = kNoFrame;
  std::uint64_t generation = 0;
  bool shared = false;
};

/// Where a table page is linked: the address space, its level, the first VPN of its
/// range; `root` for the address space's root (PDB: CR3, TTBR, satp).
struct TableLink {
  Asid as = 0;
  unsigned level = 0;
  Vpn first = 0;
  bool root = false;
  bool shared = false;
  std::uint64_t seq = 0;  ///< when it was linked (Core::link_seq): later than a stale walk = a reuse
  bool same_place(const TableLink& o) const {
    return as == o.as && level == o.level && first == o.first && root == o.root;
  }
};

/// The tables of one address space, as its kernel reports them (`pt_root`, `pt_link`,
/// `pt_unlink`). Empty (`root_level` 0) for a space whose trace reports no tables: then
/// no INV-PT-* rule applies to it.
struct PageTables {
  unsigned root_level = 0;
  /// The roots, in the order reported. Several when the kernel keeps more than one
  /// top-level table for the space (PTI's user and kernel PGDs); they share the tables
  /// linked below them, as PTI's do for user addresses.
  std::vector<TableSlot> roots;
  /// (level, first VPN of the table's range) -> the table linked there.
  std::map<std::pair<unsigned, Vpn>, TableSlot> linked;
  bool reported() const { return root_level != 0; }
  /// The root slot of table page `t`, or nullptr when `t` is no root here.
  const TableSlot* root_of(FrameId t) const {
    for (const TableSlot& r : roots)
      if (r.table == t) return &r;
    return nullptr;
  }
};

}  // namespace vmref::model
