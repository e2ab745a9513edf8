// What the implementations need from an architecture's TLB maintenance: the engine and
// the VMM core are generic; each format folder (impl/arch/<a>/) provides a codec, an Mmu
// and a plain reference TLB the differential compares the Mmu's TLBs with.
#pragma once

#include <cstdint>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "vmref/impl/radix_table.hpp"

namespace vmref::impl {

/// A translation cached in one CPU's TLB. `ctx` is the hardware context tag it was
/// filled under (x86 PCID, Arm/RISC-V ASID); VA/PA/size in bytes.
struct TlbHeld {
  std::uint16_t ctx = 0;
  std::uint64_t va = 0, pa = 0, size = 0;
  Rights rights;
  bool global = false;
  /// The address space whose tables the filling walk read: simulator bookkeeping for the
  /// differential (the hardware tags by `ctx` alone, which a kernel may reuse).
  std::uint32_t owner = 0;
};

/// A paging-structure cache entry (Intel SDM Vol 3A §4.10.3; an Arm walk cache entry):
/// under context `ctx`, the non-leaf entry at `level` (0 = an entry of the root table)
/// for the `size`-byte region at `va` leads the walker to the table page at `table`.
/// VA, size and table PA in bytes. Such entries have no global form (§4.10.3.1).
struct WalkCached {
  std::uint16_t ctx = 0;
  unsigned level = 0;
  std::uint64_t va = 0, size = 0, table = 0;
  std::uint32_t owner = 0;  ///< as TlbHeld::owner
};

/// TLB maintenance for `cpus()` CPUs. Contexts are numbered 1..max_contexts(): the VMM
/// core gives each address space one, and a trace's `switch` may name others (its
/// tags); the Mmu turns each request into the architecture's instruction sequence (x86:
/// MOV to CR3, INVLPG, INVPCID).
class Mmu {
 public:
  virtual ~Mmu() = default;
  virtual unsigned cpus() const = 0;
  virtual std::uint16_t max_contexts() const = 0;
  /// Context switch: `cpu` now runs `ctx` with tables at `root`, which belong to address
  /// space `owner` (recorded in what it fills). Entries of `ctx` are kept unless `flush`,
  /// which drops its non-global ones first (x86: MOV to CR3 with bit 63 clear).
  virtual void load(unsigned cpu, std::uint16_t ctx, std::uint64_t root, std::uint32_t owner, bool flush = false) = 0;
  /// The context `cpu` runs, 0 = none.
  virtual std::uint16_t current(unsigned cpu) const = 0;
  /// A successful walk on `cpu`: the TLB may now hold it.
  virtual void fill(unsigned cpu, std::uint64_t va, const Translation& t) = 0;
  /// Invalidate `ctx`'s translation of the page containing `va` on `cpu` (and global
  /// translations of it when `with_global`).
  virtual void invalidate_page(unsigned cpu, std::uint16_t ctx, std::uint64_t va, bool with_global) = 0;
  /// Invalidate every translation of `ctx` on `cpu` (global ones when `with_global`).
  virtual void invalidate_context(unsigned cpu, std::uint16_t ctx, bool with_global) = 0;
  /// Invalidate everything on `cpu`.
  virtual void invalidate_all(unsigned cpu) = 0;
  /// Every translation `cpu` holds.
  virtual void held(unsigned cpu, const std::function<void(const TlbHeld&)>& fn) const = 0;
  /// The entry `cpu` holds for `ctx`'s page of `size` bytes containing `va`, or nullptr.
  virtual const TlbHeld* find(unsigned cpu, std::uint16_t ctx, std::uint64_t va, std::uint64_t size = 4096) const = 0;
  /// How many entries `cpu` holds.
  virtual std::size_t size(unsigned cpu) const = 0;
  /// Every paging-structure cache entry `cpu` holds (filled by `fill` from the walk).
  virtual void held_walks(unsigned cpu, const std::function<void(const WalkCached&)>& fn) const = 0;
  /// What the VMM core tells of every table entry it writes, for an architecture that
  /// checks their order against its TLB maintenance (AArch64 break-before-make); nullptr
  /// (the default) for none.
  virtual EntryObserver* entry_observer() { return nullptr; }
  /// Reports, and forgets, the violations of such ordering rules found since the last
  /// call, as (finding ID, message) (spec/differential.md: DIFF-BBM).
  virtual void take_findings(const std::function<void(const char* id, const std::string& msg)>&) const {}
};

/// A second, deliberately plain TLB per CPU that follows every instruction an Mmu issues
/// by a transcription of the architecture manual's invalidation rules (DIFF-TLB-2: the
/// optimized TLB must hold exactly what this one holds).
class ReferenceTlb {
 public:
  virtual ~ReferenceTlb() = default;
  virtual const std::vector<TlbHeld>& entries(unsigned cpu) const = 0;
  /// The paging-structure cache entries the manual lets `cpu` keep.
  virtual const std::vector<WalkCached>& walks(unsigned cpu) const = 0;
};

}  // namespace vmref::impl
