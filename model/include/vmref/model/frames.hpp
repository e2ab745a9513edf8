// Page frames and their reference counts (spec/vmm.md §1.4).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vmref/model/tables.hpp"
#include "vmref/model/types.hpp"
#include "vmref/model/vseg.hpp"

namespace vmref::model {

/// What a frame holds (spec/vmm.md §1.4): enough to tell that contents survive COW and paging.
enum class Content : std::uint8_t { zero, uninit, file, data };
const char* to_string(Content c);

/// A long-term pin (pin_user_pages) and what it was taken through: the address space,
/// the VA (bytes) and whether it asked for write access (FOLL_WRITE). INV-COW-3 reads it.
struct PinRef {
  Asid as = 0;
  Va va = 0;
  bool write = false;
  friend bool operator==(const PinRef&, const PinRef&) = default;
};

/// One page frame. The reference count is maintained by the operations the way a
/// kernel maintains it (get/put); its users (mappings, pins, page cache, deferred
/// flushes, named kernel references) are recorded separately by the steps that create
/// them, so INV-FRAME-1 compares two independently kept quantities.
struct Frame {
  bool allocated = false;
  /// A zero page (the zero page, or the huge zero page of §1.5): never reference
  /// counted, never freed, never mapped writable.
  bool zero_page = false;
  /// A compound frame of 2^order pages (a THP folio, a huge zero page); leaves map its
  /// pages by index (Pte::page).
  std::uint8_t order = 0;
  /// Not yet handed to any user since its allocation: the allocation's reference is the
  /// allocator's own (a frame the kernel keeps for itself, spec/vmm.md §4.3). Cleared by
  /// the first mapping, pin, page-cache or named reference.
  bool fresh = false;
  std::uint32_t refcount = 0;   ///< references the kernel holds (get_page/put_page)
  std::vector<PinRef> pins;     ///< pin_user_pages-style pins, each included in refcount
  /// Named kernel/driver references (frame_ref/frame_unref): holder label -> count.
  std::vector<std::pair<std::string, std::uint32_t>> holders;
  std::uint32_t held_refs = 0;  ///< sum of the counts in `holders`
  std::uint32_t mmu_gather = 0; ///< references held by a deferred TLB flush (Linux mmu_gather)
  bool cached = false;          ///< held by a backing object's page cache (one reference)
  Content content = Content::zero;
  std::uint64_t version = 0;    ///< bumped on every write; copied by a COW copy
  ObjectId object = kNoObject;  ///< page-cache owner when cached
  std::uint64_t index = 0;      ///< page index in `object`
  /// Mappings (asid, vpn) of this frame; not kept for the zero page (only counted).
  /// They survive a free and a reallocation: a PTE left pointing at the frame maps
  /// whatever the frame holds next (INV-GPT-3, INV-FRAME-1 and INV-COW-2 see it).
  std::vector<std::pair<Asid, Vpn>> mappers;
  /// Where this frame is linked as a table page (spec/vmm.md §1.8). Like `mappers`, links
  /// survive a free and a reallocation: a parent entry left pointing here still leads
  /// the walker into whatever the frame holds next.
  std::vector<TableLink> links;
  bool inherited = false;  ///< `mappers` held PTEs of a previous allocation when allocated
  bool held_at_alloc = false;  ///< some CPU could still hold a translation to it when allocated
  std::uint64_t zero_mapcount = 0;
  std::uint64_t generation = 0;  ///< distinct for every allocation: identifies "this" frame
  std::uint32_t fault_around_maps = 0; ///< mappings of it that are provisional (Pte::fault_around)
  std::uint64_t mapcount() const { return mappers.size() + zero_mapcount; }
};

/// Fixed pool of `capacity` pages plus the zero page (frame 0, always allocated).
/// By default freed frames are reused last-in first-out so a use-after-free shows up
/// quickly; `fifo` hands out frames as Zephyr's free list does (every frame in number
/// order first, then freed ones oldest first: sys_sflist_append + sys_sflist_get), which
/// the zephyr profile needs because its NRU eviction scans frames by number.
class FrameTable {
 public:
  explicit FrameTable(std::uint64_t capacity, bool fifo = false);
  /// A fresh frame of 2^order pages with refcount 1 and a new generation, or nullopt
  /// when fewer than 2^order of the `capacity` pages are free. Mappings left from its
  /// previous allocation are kept.
  std::optional<FrameId> alloc(Content c, unsigned order = 0);
  /// Returns the frame's pages to the free pool (no checks: INV-FRAME-2 judges the result).
  void release(FrameId f);
  Frame& operator[](FrameId f) { return frames_[f]; }
  const Frame& operator[](FrameId f) const { return frames_[f]; }
  bool valid(FrameId f) const { return f < frames_.size(); }
  std::size_t size() const { return frames_.size(); }
  std::uint64_t capacity() const { return capacity_; }
  /// Pages in use (a compound frame counts all its pages).
  std::uint64_t in_use() const { return in_use_; }
  /// Lets alloc() note frames that some CPU may still reach (Core::held_index), so that
  /// INV-TLB-1 looks for stale translations only where one can exist.
  void watch_held(const std::vector<std::uint64_t>* held_index) { held_index_ = held_index; }
  /// The free frames in the order alloc() hands them out (order-0 frames only; for
  /// `vmref prove`, which encodes Zephyr's free list).
  std::vector<FrameId> free_order() const;

 private:
  std::vector<Frame> frames_;
  std::deque<FrameId> free_;
  bool fifo_ = false;
  std::uint64_t capacity_;
  std::uint64_t in_use_ = 0;
  std::uint64_t generations_ = 0;
  const std::vector<std::uint64_t>* held_index_ = nullptr;
};

}  // namespace vmref::model
