// Virtual Segment List: the ordered, disjoint set of vsegs of one address space
// (spec/vmm.md §1.2, ALMOS-MKH "VSL", Linux VMA tree).
#pragma once

#include <map>
#include <vector>

#include "vmref/model/vseg.hpp"

namespace vmref::model {

/// Ordered map start -> Vseg. Written for clarity: every operation is a plain map walk.
/// The class itself does not enforce disjointness; INV-VSL-1 checks it, so that traces
/// from a kernel under test (vseg_insert events) can exhibit overlaps and be caught.
class Vsl {
 public:
  using Map = std::multimap<Va, Vseg>;

  /// The vseg containing `va`, or nullptr.
  const Vseg* find(Va va) const;
  Vseg* find(Va va);
  /// All vsegs intersecting [start, end), in address order.
  std::vector<const Vseg*> overlapping(Va start, Va end) const;
  bool any_overlap(Va start, Va end) const { return !overlapping(start, end).empty(); }
  /// If a vseg strictly contains `va` (start < va < end), cut it in two at `va`;
  /// the high part's pgoff advances by the pages cut off (Linux __split_vma).
  void split_at(Va va, std::uint64_t page_size);
  /// Removes every vseg inside [start, end) after splitting at both ends; returns them.
  std::vector<Vseg> remove_range(Va start, Va end, std::uint64_t page_size);
  /// Adds `v` as is (no merge). Marks the VSL as overlapping if it intersects a vseg.
  void insert(const Vseg& v);
  /// Removes the vseg starting exactly at `start`; false if none.
  bool erase(Va start);
  /// Neighbour ending exactly at `va` / starting exactly at `va`, or nullptr.
  Vseg* ending_at(Va va);
  Vseg* starting_at(Va va);
  /// Lowest start >= `va` among vsegs, or nullptr.
  const Vseg* next_from(Va va) const;
  /// Highest vseg whose start < `va`, or nullptr.
  const Vseg* prev_before(Va va) const;

  const Map& map() const { return map_; }
  Map& map() { return map_; }
  bool empty() const { return map_.empty(); }
  std::size_t size() const { return map_.size(); }
  void clear() { map_.clear(); overlaps_ = false; }
  /// True once an insert created an overlap (then lookups scan instead of stopping early).
  bool has_overlaps() const { return overlaps_; }

 private:
  Map map_;
  bool overlaps_ = false;
};

}  // namespace vmref::model
