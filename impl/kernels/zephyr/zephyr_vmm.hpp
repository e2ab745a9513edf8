// Zephyr's kernel address space and demand paging, implemented over the shared VMM core
// the way Zephyr keeps them (spec/kernels/zephyr.md): the page-frame array in physical
// order with its FIFO free list (kernel/mmu.c k_mem_page_frames, free_page_frame_list),
// the RAM backing store as real pages of simulated memory, the virtual-region bitmap as
// 64-bit words (sys_bitarray), and the location of every page that has no PTE.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "vmref/impl/vmm.hpp"
#include "zephyr_events.hpp"

namespace vmref::zephyr {

using impl::VmmCore;
using vocab::Asid;
using vocab::Event;
using vocab::Outcome;
using vocab::Vpn;

extern const impl::MutantInfo kLifoFrames;  ///< free page frames are handed out last-freed first
extern const impl::MutantInfo kSlotLeak;    ///< a page-in from the backing store keeps its slot

class ZephyrVmm : public impl::KernelLayer {
 public:
  /// One k_mem_map region, keyed by its first byte (guards excluded). Pages, not bytes.
  struct Region {
    std::uint64_t pages = 0;
    vocab::Prot prot;
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
    Va va = 0;  ///< bytes: where it is mapped when `mapped`
    bool mapped = false, pinned = false, busy = false, backed = false;
  };

  ZephyrVmm(VmmCore& core, const ZephyrParams& params);
  Outcome k_mem_map(const Event& e);       // map.cpp
  Outcome k_mem_unmap(const Event& e);
  Outcome k_mem_page_out(const Event& e);  // paging.cpp
  Outcome k_mem_paging(const Event& e);    ///< k_mem_page_in, k_mem_pin, k_mem_unpin
  Outcome nru_tick(const Event& e);
  Outcome k_mem_stat(const Event& e);
  Outcome access(const Event& e);
  void before_destroy(Asid as) override;

  const std::map<Va, Region>& regions() const { return regions_; }

 private:
  void boot();
  VmmCore::Space& kernel_space() { return core_.space_of(kKernelAs); }
  const Region* region_of(Va va) const;
  bool taken(std::uint64_t b) const { return bitmap_[b >> 6] >> (b & 63) & 1; }
  void set(std::uint64_t b, bool v) {
    if (v) bitmap_[b >> 6] |= 1ull << (b & 63);
    else bitmap_[b >> 6] &= ~(1ull << (b & 63));
  }
  std::optional<Va> va_alloc(std::uint64_t pages);
  void va_free(Va start, std::uint64_t pages);
  std::optional<std::uint32_t> frame_alloc();
  void frame_free(std::uint32_t index);
  /// Maps a fresh or evicted frame at `va` of the region starting at `region` (eager maps).
  bool map_page(Va region, Va va);
  /// Drops one page of a region being unmapped or rolled back: PTE, frame, slot, location.
  void drop(Va va);
  std::optional<std::uint32_t> slot_get(bool page_fault);
  bool evict(Va va, bool page_fault, bool count);
  std::optional<std::uint32_t> evict_any(bool page_fault);
  bool fault(Va va, bool pin);

  ZephyrParams p_;
  std::vector<std::uint64_t> bitmap_;  ///< bit b set: page b from the top of the VM is taken
  std::map<Va, Region> regions_;
  std::unordered_map<Vpn, Location> locations_;
  /// Index 0 is the zero page's frame: never mapped here, never a victim (as kernel
  /// image frames are in Zephyr), so frame i of this array is frame i of the model.
  std::vector<PageFrame> frames_;
  std::deque<std::uint32_t> free_frames_;  ///< FIFO: append on free, take from the head
  std::vector<std::uint32_t> index_of_;    ///< PFN -> index into `frames_`
  std::vector<std::uint64_t> slot_pfn_;    ///< the RAM store's pages
  std::vector<bool> slot_used_;
  std::uint64_t faults_ = 0, clean_evictions_ = 0, dirty_evictions_ = 0;
  std::uint32_t nru_last_ = 0;             ///< last_pf_idx of the NRU policy
};

/// Registers the implementation and its mutants.
void register_impl();

}  // namespace vmref::zephyr
