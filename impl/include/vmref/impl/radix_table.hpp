// The generic radix page-table engine: builds and edits tables of any RadixCodec in
// simulated physical memory. One engine serves every format; a format folder
// (impl/arch/<a>/) supplies only its codec (CONTRIBUTING.md "Adding a format").
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "vmref/impl/frame_pool.hpp"
#include "vmref/impl/mutant.hpp"
#include "vmref/impl/radix_format.hpp"

namespace vmref::impl {

/// One leaf translation: VA and PA in bytes, `size` the leaf's page size in bytes.
struct Mapping {
  std::uint64_t va = 0, pa = 0, size = 0;
  unsigned level = 0;
  LeafAttrs attrs;
};

/// Why a hardware walk failed (x86: the P and RSVD bits of the #PF error code).
/// `non_canonical`: the VA is not canonical, so no walk happens (x86: #GP, SDM Vol 3A §4.5).
enum class WalkFault : unsigned char { none, not_present, protection, non_canonical };

/// Result of a hardware walk for one access.
struct Translation {
  WalkFault fault = WalkFault::none;
  std::uint64_t pa = 0;        ///< of the accessed byte
  std::uint64_t page_pa = 0;   ///< of the leaf's page
  std::uint64_t page_size = 0; ///< bytes
  Rights rights;               ///< combined over the walk
  bool global = false;
  /// The walk itself, for paging-structure caches (Intel SDM Vol 3A §4.10.3): the leaf's
  /// level (0 = an entry of the root table) and, for each level above it, the PA of the
  /// table page that level's entry points to.
  unsigned leaf_level = 0;
  std::array<std::uint64_t, 8> next_table{};
};

/// Told of every entry software writes into a tree (not the hardware's A/D updates), for
/// a format's checks of the order of table writes and TLB maintenance (AArch64's
/// break-before-make, spec/formats/aarch64.md). `entry_pa`: where the entry is; `va`: the
/// first (canonical) VA it covers at `level`; `old`/`now`: the entry before and after.
class EntryObserver {
 public:
  virtual ~EntryObserver() = default;
  virtual void written(std::uint64_t entry_pa, unsigned level, std::uint64_t va, std::uint64_t old, std::uint64_t now) = 0;
  /// The 4 KiB frame `pfn` became a new, empty table page (its old entries are gone).
  virtual void table_created(std::uint64_t pfn) = 0;
};

/// Called with (leaf VA, leaf PA, attributes to edit in place).
using ProtectFn = std::function<void(std::uint64_t, std::uint64_t, LeafAttrs&)>;

/// A page-table tree rooted in one table page. VAs are canonical; ranges are
/// [va, va + len) in bytes and must be aligned to 4 KiB (the smallest leaf).
/// Emptied table pages are reclaimed as soon as their last live entry goes.
class RadixTable {
 public:
  RadixTable(FramePool& pool, const RadixCodec& codec, Mutant mutant = nullptr);
  ~RadixTable();  ///< releases every table page (not the mapped frames)
  RadixTable(const RadixTable&) = delete;
  RadixTable& operator=(const RadixTable&) = delete;

  /// Physical address of the root table (what CR3 / TTBR / satp point to).
  std::uint64_t root() const { return root_ << 12; }
  const RadixCodec& codec() const { return codec_; }

  /// Maps [va, va+len) to [pa, pa+len) with `a`, using leaves of up to `max_leaf` bytes
  /// where VA and PA are both aligned to them. Existing translations in the range are
  /// replaced; a large leaf straddling an edge is split first.
  void map(std::uint64_t va, std::uint64_t pa, std::uint64_t len, const LeafAttrs& a,
           std::uint64_t max_leaf = 4096);
  /// Applies `change` to every leaf attribute in the range, splitting straddling leaves.
  void protect(std::uint64_t va, std::uint64_t len, const ProtectFn& change);
  /// Removes every translation in the range; `removed` sees each leaf (or leaf part)
  /// that went, with its PA. Table pages left empty are freed.
  void unmap(std::uint64_t va, std::uint64_t len, const std::function<void(const Mapping&)>& removed = {});
  /// Removes every translation of the tree (both halves of the VA space).
  void clear(const std::function<void(const Mapping&)>& removed = {});
  /// The leaf mapping `va`, if any (software lookup: no A/D update).
  std::optional<Mapping> lookup(std::uint64_t va) const;
  /// The PA of the table page the level-`level` entry for `va` points to (0 = an entry
  /// of the root table), or 0 when that entry, or one above it, is absent or a leaf.
  std::uint64_t table_below(std::uint64_t va, unsigned level) const;
  /// Every leaf in [va, va+len), in VA order (leaves are reported whole).
  void for_each(std::uint64_t va, std::uint64_t len, const std::function<void(const Mapping&)>& fn) const;
  /// A hardware walk for one access (rights combined over the levels, SDM Vol 3A §4.6);
  /// on success sets A in every entry used and D in the leaf for a write (§4.8).
  /// `user`: a user-mode access needs U/S = 1; a supervisor-mode one ignores U/S (CR0.WP
  /// = 1 so writes still need R/W = 1; SMEP and SMAP off, §4.6.1).
  Translation translate(std::uint64_t va, bool write, bool exec, bool user = true);
  /// Table pages in use, the root included.
  std::uint64_t table_pages() const { return tables_; }
  /// Whether nothing is mapped: the root holds no present entry (then no other table exists).
  bool empty() const { return live_[root_] == 0; }
  /// Tells `o` (nullptr: nobody) of every later entry write; the root is reported created.
  void set_observer(EntryObserver* o);

 private:
  std::uint64_t* entries(std::uint64_t pfn) { return pool_.mem().page(pfn); }
  const std::uint64_t* entries(std::uint64_t pfn) const { return pool_.mem().find(pfn); }
  /// Entry `i` of the table at `t` (a level-`level` table), as the codec's view.
  std::uint64_t load(const std::uint64_t* t, std::uint64_t i, unsigned level) const {
    return words_[level] == 1 ? t[i] : codec_.load(t + i * words_[level], level);
  }
  std::uint64_t span(unsigned level) const { return 1ull << shift_[level]; }
  unsigned index(std::uint64_t va, unsigned level) const {
    return static_cast<unsigned>((va >> shift_[level]) & mask_[level]);
  }
  std::uint64_t new_table();
  void free_table(std::uint64_t pfn);
  void free_subtree(std::uint64_t pfn, unsigned level);
  std::uint16_t& live(std::uint64_t pfn) { return live_[pfn]; }
  /// The table below entry `e` (at `level`): allocated if absent, split from a leaf.
  std::uint64_t child(std::uint64_t& e, std::uint64_t pfn, unsigned level, std::uint64_t va, std::uint64_t& parent_live);
  /// Entry `e` of table `pfn` at `level` (covering VAs from `va`) now holds `now`.
  void write(std::uint64_t& e, std::uint64_t pfn, unsigned level, std::uint64_t va, std::uint64_t now);
  /// Splits leaf `e`, the entry of table `pfn` at `level` for VAs from `va`.
  void split(std::uint64_t& e, std::uint64_t pfn, unsigned level, std::uint64_t va);
  void map_in(std::uint64_t pfn, unsigned level, std::uint64_t base, std::uint64_t start, std::uint64_t end,
              std::uint64_t pa, const LeafAttrs& a, std::uint64_t max_leaf);
  void protect_in(std::uint64_t pfn, unsigned level, std::uint64_t base, std::uint64_t start, std::uint64_t end,
                  const ProtectFn& change);
  void unmap_in(std::uint64_t pfn, unsigned level, std::uint64_t base, std::uint64_t start, std::uint64_t end,
                const std::function<void(const Mapping&)>& removed);
  void each_in(std::uint64_t pfn, unsigned level, std::uint64_t base, std::uint64_t start, std::uint64_t end,
               const std::function<void(const Mapping&)>& fn) const;

  FramePool& pool_;
  const RadixCodec& codec_;
  unsigned shift_[8] = {};       ///< the format's geometry, cached: no virtual call per level
  std::uint64_t mask_[8] = {};
  unsigned words_[8] = {};       ///< 8-byte words per entry (RadixFormat::entry_words)
  Mutant mutant_;
  EntryObserver* observer_ = nullptr;
  std::uint64_t root_;
  std::uint64_t tables_ = 0;
  std::vector<std::uint16_t> live_;  ///< present entries per table page, by PFN
};

}  // namespace vmref::impl
