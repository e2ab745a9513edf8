// Per-CPU "may hold" translation sets (spec/vmm.md §1.6, §3).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "vmref/model/gpt.hpp"

namespace vmref::model {

/// A TLB tag as a trace names it: an ASID, PCID or VMID (<= vocab::kMaxTlbTag).
using Tag = std::uint32_t;
/// The tag of a switch that names none: the address space tags its own translations.
inline constexpr Tag kSpaceTag = UINT32_MAX;

/// What a CPU last loaded under a tag (spec/vmm.md §2.3): the tag may hold translations
/// of this address space, walked from this root (that allocation; kNoFrame: no root named).
struct TagUse {
  Asid as = 0;
  FrameId root = kNoFrame;
  std::uint64_t root_generation = 0;
  friend bool operator==(const TagUse&, const TagUse&) = default;
};

/// A translation a CPU may have cached: the PTE contents it saw.
struct Held {
  FrameId frame = kNoFrame;
  Prot prot;
  bool global = false;
  std::uint64_t generation = 0;  ///< the allocation of `frame` it reached (Frame::generation)
  std::uint8_t order = 0;        ///< the leaf maps 2^order pages from its key's VPN
  std::uint64_t page = 0;        ///< from this page of `frame` on (Pte::page)
  Tag tag = kSpaceTag;           ///< the tag it was cached under
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
  Tag tag = kSpaceTag;      ///< the tag it was cached under
  friend bool operator==(const WalkHeld&, const WalkHeld&) = default;
};

/// What one CPU may still hold (spec/vmm.md §3.1). A TLB may cache any translation that was
/// valid in an address space the CPU had loaded, at any time since the last flush
/// covering it (Intel SDM Vol 3 §4.10.2-§4.10.4; Arm ARM D8.13), under the tag it was
/// loaded with (§2.3). Represented as
///   may_hold = { every valid PTE of each space loaded untagged (`loaded`) or bound to a
///                tag (`tags`) }  U  stale entries,
/// where a stale entry is a translation that was valid while its space was loaded and
/// has since been removed or changed in the page table without a covering flush.
/// Only stale entries can break INV-TLB-*, so only they are stored, each with its tag.
class CpuTlb {
 public:
  using Key = std::pair<Asid, Vpn>;
  using Entries = std::map<Key, std::vector<Held>>;
  /// (as, first VPN of the table's range, table level) -> stale walk entries.
  using WalkKey = std::tuple<Asid, Vpn, unsigned>;
  using Walks = std::map<WalkKey, std::vector<WalkHeld>>;

  Asid current = 0;              ///< address space in use, 0 = none
  Tag current_tag = kSpaceTag;   ///< the tag it runs under
  std::set<Asid> loaded;         ///< spaces loaded without a tag whose valid translations may be cached
  std::set<Asid> global_loaded;  ///< spaces whose global translations may be cached

  /// Whether this CPU may hold valid translations of `as` under some tag.
  bool holds_space(Asid as) const { return loaded.count(as) || tags_of_.count(as); }
  /// Whether this CPU may hold a valid translation of `as` (global or not).
  bool may_have_cached(Asid as, bool global) const { return holds_space(as) || (global && global_loaded.count(as)); }
  /// Calls fn(tag) for each tag under which this CPU may hold valid translations of `as`.
  template <class Fn> void each_tag_of(Asid as, Fn fn) const {
    if (loaded.count(as)) fn(kSpaceTag);
    if (auto it = tags_of_.find(as); it != tags_of_.end())
      for (Tag t : it->second) fn(t);
  }
  /// The explicit tags that may hold translations, and what each was last loaded with
  /// (a tag loaded for another root without a flush still holds the old root's too).
  const std::map<Tag, TagUse>& tags() const { return tags_; }
  /// Runs `u` under tag `t` from now on (switch, §2.3); `flush` first drops the tag's
  /// non-global entries (MOV to CR3 with bit 63 clear). Returns what the tag held before
  /// when that was another root (or allocation of it) and was not flushed: INV-TLB-6.
  std::optional<TagUse> load_tag(Tag t, const TagUse& u, bool flush, std::vector<std::uint64_t>& held_index);
  /// Runs `as` untagged from now on; `flush` first drops every untagged non-global entry
  /// (MOV to CR3 without PCIDs, Intel SDM Vol 3A §4.10.4.1).
  void load_space(Asid as, bool flush, std::vector<std::uint64_t>& held_index);
  /// Records a superseded translation as stale. `held_index` counts stale entries per frame.
  void add_stale(Asid as, Vpn vpn, const Held& h, std::vector<std::uint64_t>& held_index);
  /// Records a walk through a table page that was unlinked or replaced (spec/vmm.md §1.8).
  void add_stale_walk(const WalkKey& k, const WalkHeld& w);
  /// Range flush of `as` (INVLPG-like): stale entries of leaves that overlap
  /// [first, first+count) go (a flush of one VA covers the whole leaf mapping it), and so
  /// do stale walk entries whose range overlaps it; global leaves stay unless `with_global`.
  /// With `tag`, only entries cached under it go (INVPCID type 0); global ones ignore it.
  void flush_range(Asid as, Vpn first, std::uint64_t count, bool with_global,
                   std::vector<std::uint64_t>& held_index, std::optional<Tag> tag = std::nullopt);
  /// ASID flush: also forgets the space's valid translations unless it is running (under
  /// that tag). With `tag`, only what the tag holds goes, of any space (INVPCID type 1).
  void flush_asid(Asid as, bool with_global, std::vector<std::uint64_t>& held_index,
                  std::optional<Tag> tag = std::nullopt);
  /// Full flush: only the current address space stays loaded, under its tag.
  void flush_all(std::vector<std::uint64_t>& held_index);
  const Entries& stale() const { return stale_; }
  const Walks& stale_walks() const { return walks_; }

 private:
  void flush_walks(Asid as, Vpn first, std::uint64_t count, std::optional<Tag> tag);
  /// Drops the non-global stale entries and walks cached under `t`, of every space.
  void drop_tagged(Tag t, std::vector<std::uint64_t>& held_index);
  void bind(Tag t, const TagUse& u);
  void unbind(Tag t);                  ///< the tag holds nothing any more
  void unbind(Tag t, Asid as);         ///< the tag holds nothing of `as` any more
  Entries stale_;
  Walks walks_;
  std::map<Tag, TagUse> tags_;                  ///< what each tag was last loaded with
  std::map<Tag, std::set<Asid>> tag_spaces_;    ///< spaces whose translations a tag may hold
  std::map<Asid, std::set<Tag>> tags_of_;       ///< reverse of tag_spaces_
  std::uint64_t max_span_ = 1;  ///< pages of the largest stale leaf ever recorded
};

}  // namespace vmref::model
