// State of the Zephyr profile (spec/profiles.md §3): one kernel address space whose
// anonymous k_mem_map regions are paged on demand over a bounded set of page frames and
// a RAM backing store with a fixed number of slots.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "vmref/model/frames.hpp"
#include "vmref/model/types.hpp"

namespace vmref::model {

/// The one kernel address space the zephyr profile boots with, current on every CPU.
inline constexpr Asid kZephyrAs = 1;

/// Where the data of one page of a k_mem_map region lives (Zephyr's arch_page_location).
/// PAGED_IN pages have a PTE in the kernel GPT instead and no Location entry.
struct ZLocation {
  enum Kind : std::uint8_t { anon_zero, anon_uninit, slot } kind = anon_zero;
  std::uint64_t slot_index = 0;  ///< backing-store slot when kind == slot
};

/// What a page holds, kept apart from the frame so INV-ZEPHYR-5 can compare: the
/// content class and the write version the last store left (frames.hpp Content).
struct ZStamp {
  Content content = Content::zero;
  std::uint64_t version = 0;
  friend bool operator==(const ZStamp&, const ZStamp&) = default;
};

/// What a slot holds when nothing was written to it: never equal to a real stamp.
inline constexpr ZStamp kStaleSlot{Content::uninit, UINT64_MAX};

/// One k_mem_map region: [start, start + pages*page) with a guard page on each side.
struct ZRegion {
  Va start = 0;
  std::uint64_t pages = 0;
  bool uninit = false, lock = false, user = false, demand = false;
  bool orphan = false;  ///< a failed map that kept its VA and pages (the seed's TODO): nobody can unmap it
  Prot prot;
};

/// Page-frame flags of k_mem_page_frame.va_and_flags (Zephyr kernel/include/mmu.h).
struct ZFrame {
  bool mapped = false, pinned = false, busy = false, backed = false;
  Va va = 0;  ///< bytes: the page the frame is mapped at when `mapped`
};

/// A backing-store slot of the RAM store: in use or free, and what was written to it.
struct ZSlot {
  bool used = false;
  ZStamp data;
};

/// Counters of k_mem_num_pagefaults_get and the k_mem_paging_stats_t eviction counts.
struct ZStats {
  std::uint64_t faults = 0, clean_evictions = 0, dirty_evictions = 0;
};

struct ZephyrState {
  /// The virtual-region bitmap, one bit per page of the kernel VM; bit 0 = the highest page.
  std::vector<bool> bitmap;
  std::map<Va, ZRegion> regions;             ///< by start
  std::map<Vpn, ZLocation> paged_out;         ///< pages with no frame: token or slot
  std::map<Vpn, ZStamp> ghost;                ///< the data every live page must hold
  std::vector<ZFrame> frames;                 ///< by FrameId
  std::vector<ZSlot> slots;                   ///< the RAM backing store
  std::set<Vpn> touched;                      ///< pages accessed, paged in or pinned since their map
  std::set<Vpn> pinned;                       ///< pages pinned by k_mem_pin or LOCK (not by frame flag)
  ZStats stats;
  std::uint32_t nru_last = 0;                 ///< NRU's round-robin start (last_pf_idx)

  /// The data a paged-out page's location holds: ANON_ZERO reads as zero, ANON_UNINIT
  /// as uninitialized, a slot as what was written to it.
  ZStamp data_at(const ZLocation& l) const {
    if (l.kind == ZLocation::anon_zero) return {Content::zero, 0};
    if (l.kind == ZLocation::anon_uninit) return {Content::uninit, 0};
    return slots[l.slot_index].data;
  }
};

}  // namespace vmref::model
