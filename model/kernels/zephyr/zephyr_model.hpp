// The zephyr kernel's layer of the model (spec/kernels/zephyr.md): one kernel address
// space whose anonymous k_mem_map regions are paged on demand over a bounded set of
// page frames and a RAM backing store with a fixed number of slots.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "vmref/model/layer.hpp"
#include "zephyr_events.hpp"

namespace vmref::zephyr {

using namespace vmref::model;
using model::Outcome;
using vocab::Event;

/// Where the data of one page of a k_mem_map region lives (Zephyr's arch_page_location).
/// PAGED_IN pages have a PTE in the kernel GPT instead and no Location entry.
struct Location {
  enum Kind : std::uint8_t { anon_zero, anon_uninit, slot } kind = anon_zero;
  std::uint64_t slot_index = 0;  ///< backing-store slot when kind == slot
};

/// What a page holds, kept apart from the frame so INV-ZEPHYR-5 can compare: the
/// content class and the write version the last store left (frames.hpp Content).
struct PageContents {
  Content content = Content::zero;
  std::uint64_t version = 0;
  friend bool operator==(const PageContents&, const PageContents&) = default;
};

/// What a slot holds when nothing was written to it: never equal to a real stamp.
inline constexpr PageContents kStaleSlot{Content::uninit, UINT64_MAX};

/// One k_mem_map region: [start, start + pages*page) with a guard page on each side.
struct Region {
  Va start = 0;
  std::uint64_t pages = 0;
  bool uninit = false, lock = false, user = false, demand = false;
  bool orphan = false;  ///< a failed map that kept its VA and pages (the seed's TODO): nobody can unmap it
  Prot prot;
};

/// Page-frame flags of k_mem_page_frame.va_and_flags (Zephyr kernel/include/mmu.h).
struct PageFrame {
  bool mapped = false, pinned = false, busy = false, backed = false;
  Va va = 0;  ///< bytes: the page the frame is mapped at when `mapped`
};

/// A backing-store slot of the RAM store: in use or free, and what was written to it.
struct Slot {
  bool used = false;
  PageContents data;
};

/// Counters of k_mem_num_pagefaults_get and the k_mem_paging_stats_t eviction counts.
struct Stats {
  std::uint64_t faults = 0, clean_evictions = 0, dirty_evictions = 0;
};

struct ZephyrState {
  /// The virtual-region bitmap, one bit per page of the kernel VM; bit 0 = the highest page.
  std::vector<bool> bitmap;
  std::map<Va, Region> regions;             ///< by start
  std::map<Vpn, Location> paged_out;         ///< pages with no frame: token or slot
  std::map<Vpn, PageContents> ghost;                ///< the data every live page must hold
  std::vector<PageFrame> frames;                 ///< by FrameId
  std::vector<Slot> slots;                   ///< the RAM backing store
  std::set<Vpn> touched;                      ///< pages accessed, paged in or pinned since their map
  std::set<Vpn> pinned;                       ///< pages pinned by k_mem_pin or LOCK (not by frame flag)
  Stats stats;
  std::uint32_t nru_last = 0;                 ///< NRU's round-robin start (last_pf_idx)

  /// The data a paged-out page's location holds: ANON_ZERO reads as zero, ANON_UNINIT
  /// as uninitialized, a slot as what was written to it.
  PageContents data_at(const Location& l) const {
    if (l.kind == Location::anon_zero) return {Content::zero, 0};
    if (l.kind == Location::anon_uninit) return {Content::uninit, 0};
    return slots[l.slot_index].data;
  }
};

/// What a zephyr call did, for INV-ZEPHYR-2/6/7 (which judge the call).
struct CallNote {
  bool map = false, failed = false, demand = false;   ///< k_mem_map
  Va start = 0, end = 0;                              ///< k_mem_map: the range asked for (0 if none)
  std::vector<bool> bitmap_before;
  std::uint64_t frames_before = 0, frames_after = 0;  ///< frames in use
  bool fault_no_slot = false;                         ///< a fault found no backing-store slot
  Va fault_va = 0;
};

class ZephyrModel : public KernelLayer {
 public:
  ZephyrModel(Core& core, const ZephyrParams& params);
  // op_map.cpp (§1-§3)
  Outcome k_mem_map(const Event& e);
  Outcome k_mem_unmap(const Event& e);
  // op_paging.cpp (§4-§6)
  Outcome k_mem_page_out(const Event& e);
  Outcome k_mem_paging(const Event& e);  ///< k_mem_page_in, k_mem_pin, k_mem_unpin
  Outcome k_mem_stat(const Event& e);
  Outcome nru_tick(const Event& e);
  Outcome access(const Event& e);
  // op_steps.cpp (§10): the kernel's own steps
  Outcome zephyr_frame(const Event& e);
  Outcome zephyr_slot(const Event& e);
  Outcome zephyr_page_out(const Event& e);
  Outcome zephyr_page_in(const Event& e);
  Outcome zephyr_location(const Event& e);

  void begin_group() override { notes_.clear(); }
  /// Zephyr has one kernel address space, for ever.
  void before_destroy(Asid as) override;
  /// A PTE written over a paged-out page replaces its location (arch_mem_page_in).
  void pte_installed(Asid as, Vpn vpn) override;

  const ZephyrParams& params() const { return p_; }
  const ZephyrState& state() const { return zephyr_; }
  const std::vector<CallNote>& notes() const { return notes_; }

 private:
  void boot();
  std::optional<Va> virt_region_alloc(std::uint64_t pages);
  void virt_region_free(Va start, std::uint64_t pages);
  /// map_anon_page: a frame (free, or evicted for it) mapped at vpn. False: ENOMEM.
  bool map_anon_page(const Region& r, Vpn vpn);
  /// do_page_fault: bring vpn in (and pin it when `pin`). False when it cannot.
  bool fault(Vpn vpn, bool pin);
  /// eviction_select + page out: frees a mapped frame for reuse (refcount kept at 1).
  std::optional<FrameId> evict_any(bool page_fault);
  /// Pages the frame mapped at vpn out to a new slot. False when no slot is granted.
  bool evict(Vpn vpn, bool page_fault, bool count);
  std::optional<std::uint64_t> backing_slot_get(bool page_fault);
  /// Removes every trace of the page at vpn (frame freed, slot freed): k_mem_unmap's loop.
  void drop_page(Vpn vpn);
  PageContents stamp_of(FrameId f) const { return {frames_[f].content, frames_[f].version}; }
  /// The frame a step names by label (ModelError "frame" when unknown).
  FrameId step_frame(const std::string& label) const;
  /// The backing-store slot a step names (ModelError "slot" beyond the store).
  std::uint64_t step_slot(std::uint64_t slot) const;
  /// The page at `va` of a live region (ModelError "va" otherwise).
  Vpn step_page(Va va) const;

  ZephyrParams p_;
  ZephyrState zephyr_;
  std::vector<CallNote> notes_;
};

/// Registers the zephyr layer and INV-ZEPHYR-1..8.
void register_model();

}  // namespace vmref::zephyr
