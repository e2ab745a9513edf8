// The optimized VMM's Zephyr state (profiles.md §3), laid out as Zephyr keeps it rather
// than as the model does: the page-frame array in physical order with its FIFO free list
// (kernel/mmu.c k_mem_page_frames, free_page_frame_list), the RAM backing store as real
// pages of simulated memory, the virtual-region bitmap as 64-bit words (sys_bitarray),
// and the location of every page that has no PTE.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <unordered_map>
#include <vector>

#include "vmref/model/types.hpp"
#include "vmref/model/zephyr.hpp"  // kZephyrAs: the address space traces name

namespace vmref::impl {

struct ZephyrCore {
  /// One k_mem_map region, keyed by its first byte (guards excluded). Pages, not bytes.
  struct Region {
    std::uint64_t pages = 0;
    model::Prot prot;
    bool user = false, uninit = false, lock = false;
    bool orphan = false;  ///< a failed eager map the seed leaves behind (no rollback)
  };
  /// arch_page_location of a page without a PTE: an ANON token or a backing-store slot.
  /// Zephyr's x86 port writes it into the non-present PTE; we keep it beside the table
  /// because the engine counts only present entries as live (spec/differential.md §4).
  struct Location {
    enum Kind : std::uint8_t { anon_zero, anon_uninit, in_slot } kind = anon_zero;
    std::uint32_t slot = 0;  ///< the backing-store slot when kind == in_slot
  };
  /// k_mem_page_frame: its PFN and the flags of va_and_flags.
  struct PageFrame {
    std::uint64_t pfn = 0;
    model::Va va = 0;  ///< bytes: where it is mapped when `mapped`
    bool mapped = false, pinned = false, busy = false, backed = false;
  };

  std::vector<std::uint64_t> bitmap;  ///< bit b set: page b from the top of the VM is taken
  std::uint64_t vm_pages = 0;
  std::map<model::Va, Region> regions;
  std::unordered_map<model::Vpn, Location> locations;
  /// Index 0 is the zero page's frame: never mapped here, never a victim (as kernel
  /// image frames are in Zephyr), so frame i of this array is frame i of the model.
  std::vector<PageFrame> frames;
  std::deque<std::uint32_t> free_frames;  ///< FIFO: append on free, take from the head
  std::vector<std::uint32_t> index_of;    ///< PFN -> index into `frames`
  std::vector<std::uint64_t> slot_pfn;    ///< the RAM store's pages
  std::vector<bool> slot_used;
  std::uint64_t faults = 0, clean_evictions = 0, dirty_evictions = 0;
  std::uint32_t nru_last = 0;             ///< last_pf_idx of the NRU policy

  bool taken(std::uint64_t b) const { return bitmap[b >> 6] >> (b & 63) & 1; }
  void set(std::uint64_t b, bool v) {
    if (v) bitmap[b >> 6] |= 1ull << (b & 63);
    else bitmap[b >> 6] &= ~(1ull << (b & 63));
  }
};

}  // namespace vmref::impl
