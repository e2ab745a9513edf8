// The zephyr kernel's vocabulary (spec/kernels/zephyr.md): Zephyr's kernel address
// space with on-demand anonymous maps and demand paging, its k_mem_* calls, the NRU
// timer, and the layout parameters of a board.
#pragma once

#include <optional>
#include <string>

#include "vmref/vocab/core_ops.hpp"

namespace vmref::zephyr {

using vocab::Prot;
using vocab::Va;

/// The one kernel address space the zephyr kernel boots with, current on every CPU.
inline constexpr vocab::Asid kKernelAs = 1;

/// A board's configuration and the rules (spec/kernels/zephyr.md §1, §7). Sizes in
/// pages. The number of page frames comes from the trace header (phys_mem / page_size).
/// The *_fix / keep / flush flags are the correct rules; broken variants clear one.
struct ZephyrParams : vocab::KernelParams {
  bool demand_mapping = true;         ///< CONFIG_DEMAND_MAPPING: anonymous maps start unpaged
  Va vm_start = 0x80000000;           ///< K_MEM_VIRT_RAM_START (our choice)
  std::uint64_t vm_pages = 1024;      ///< CONFIG_KERNEL_VM_SIZE in pages (our choice: 4 MiB)
  std::uint64_t image_pages = 64;     ///< kernel image below K_MEM_VM_FREE_START (our choice)
  std::uint64_t vm_reserved = 1;      ///< K_MEM_VM_RESERVED pages at the top (scratch page)
  std::uint64_t backing_pages = 16;   ///< CONFIG_BACKING_STORE_RAM_PAGES
  std::uint64_t frames_reserve = 0;   ///< CONFIG_DEMAND_PAGING_PAGE_FRAMES_RESERVE
  bool rollback_fix = true;           ///< #115581: a failed eager map releases what it took
  bool guards = true;                 ///< a guard page below and above every region
  bool unmap_frees_guards = true;     ///< k_mem_unmap frees the two guard pages' VA too
  bool respect_pins = true;           ///< eviction never selects a pinned frame
  bool writeback_unbacked = true;     ///< a frame not BACKED is written out even if clean
  bool keep_fault_slot = true;        ///< the RAM store keeps one slot for fault-driven eviction
  /// Our fix (spec/kernels/zephyr.md §5): the first touch of an ANON token page frees no
  /// slot, so its eviction must leave the kept slot for pages coming back from the store.
  bool token_fault_keeps_slot = true;
  bool flush_on_evict = true;         ///< arch_mem_page_out invalidates the TLB entry
  bool lazy_map = true;               ///< an on-demand map allocates no frame
  bool unmap_frees_frames = true;     ///< k_mem_unmap returns each frame to the free list
};

/// k_mem_map (§2): `len` bytes with `prot` and the K_MEM_MAP_* flags.
struct MapArgs : vocab::OpArgs {
  std::uint64_t len = 0;
  Prot prot{true, true, false};
  bool uninit = false;  ///< K_MEM_MAP_UNINIT
  bool lock = false;    ///< K_MEM_MAP_LOCK (eager and pinned)
  bool user = false;    ///< K_MEM_PERM_USER
};

/// k_mem_unmap, k_mem_page_out, k_mem_page_in, k_mem_pin, k_mem_unpin (§3, §5):
/// [addr, addr + len) in bytes.
struct RangeArgs : vocab::OpArgs {
  Va addr = 0;
  std::uint64_t len = 0;
};

/// The statistics Zephyr's tests read (§6).
enum class Stat : std::uint8_t { faults, clean_evictions, dirty_evictions, free_bytes, free_slots };
const char* to_string(Stat s);

/// k_mem_stat (§6): ret = the statistic.
struct StatArgs : vocab::OpArgs {
  Stat stat = Stat::faults;
};

/// nru_tick (§4): the NRU timer clears every accessed bit.
struct TickArgs : vocab::OpArgs {};

// Mechanism events (spec/kernels/zephyr.md §10): the kernel's own steps, so that its
// fault and eviction paths replay step by step. Frames are core frame labels.

/// zephyr_frame: k_mem_page_frame's va_and_flags of the frame labelled `frame` become
/// exactly these (absent flags are clear); `va` (bytes) is required when `mapped`.
struct FrameFlagsArgs : vocab::OpArgs {
  std::string frame;
  Va va = 0;
  bool mapped = false, pinned = false, busy = false, backed = false;
};

/// zephyr_slot: backing-store slot `slot` is taken (`used`) or freed
/// (k_mem_paging_backing_store_location_get / _free).
struct SlotArgs : vocab::OpArgs {
  std::uint64_t slot = 0;
  bool used = true;
};

/// zephyr_page_out: the backing store writes the frame labelled `frame` to `slot`
/// (k_mem_paging_backing_store_page_out).
struct PageOutArgs : vocab::OpArgs {
  std::string frame;
  std::uint64_t slot = 0;
};

/// zephyr_page_in: the backing store fills the frame labelled `frame` from the location
/// the PTE at `va` holds: a slot's data, zeros for ANON_ZERO, nothing for ANON_UNINIT
/// (k_mem_paging_backing_store_page_in).
struct PageInArgs : vocab::OpArgs {
  std::string frame;
  Va va = 0;
};

/// zephyr_location: the PTE at `va` now holds a location instead of a frame (arch_mem_page_out,
/// or the initial token of an on-demand page): `slot`, or `token` ANON_ZERO / ANON_UNINIT.
struct LocationArgs : vocab::OpArgs {
  Va va = 0;
  std::optional<std::uint64_t> slot;
  bool uninit = false;  ///< token ANON_UNINIT (else ANON_ZERO) when no slot
};

namespace ops {
extern vocab::OpInfo k_mem_map, k_mem_unmap, k_mem_page_out, k_mem_page_in, k_mem_pin, k_mem_unpin, k_mem_stat,
    nru_tick;
extern vocab::OpInfo zephyr_frame, zephyr_slot, zephyr_page_out, zephyr_page_in, zephyr_location;
}  // namespace ops

inline constexpr const char* kKernel = "zephyr";
/// Zephyr keeps one record per page frame (z_page_frames[]), and so do the model and the
/// implementation: a trace may give at most this many frames (4 GiB of 4 KiB pages),
/// checked before anything is allocated (spec/kernels/zephyr.md §1).
inline constexpr std::uint64_t kMaxFrames = 1u << 20;
/// Page frames a fuzz campaign gives the kernel: few, so that eviction is frequent.
inline constexpr std::uint64_t kCampaignFrames = 24;

/// Registers the kernel, its variants and its operations.
void register_vocab();

}  // namespace vmref::zephyr
