// Kernel profiles: the policy choices that differ between kernels (spec/profiles.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vmref/model/types.hpp"

namespace vmref::model {

/// The mermap allocator's rules (profiles.md §4). `fixed` sets every *_fix flag; `rfc`
/// (the allocator as posted) clears them; the broken variants clear one safety rule.
struct MermapRules {
  bool enabled = false;
  Va base = 0xffffeb0000000000ull;  ///< MERMAP_BASE_ADDR: our choice inside the mm-local region
  std::uint64_t region_pages = 16;   ///< MERMAP_CPU_REGION_SIZE in pages: our choice
  unsigned slots = 4;                ///< tracking slots per CPU (mermap_cpu.allocs)
  bool reserve_slot_fix = true;      ///< R1: a normal request never takes the last free slot
  bool error_path_fix = true;        ///< R2: a failed PTE write restores the sentinels and re-enables migration
  bool teardown_fix = true;          ///< R3: teardown inspects every CPU (per_cpu_ptr), not this one N times
  bool bound_fix = true;             ///< R5: the "fits after a flush" test cannot wrap below zero
  bool keep_last_page = true;        ///< normal requests stay below the reserved last page
  bool flush_on_reset = true;        ///< a local TLB flush before flush-pending space is reused
  bool reset_after_live = true;      ///< reuse starts above the highest live allocation
};

/// The Zephyr profile's configuration and rules (profiles.md §3). Sizes in pages. The
/// number of page frames comes from the trace header (phys_mem / page_size). The
/// *_fix / keep / flush flags are the correct rules; broken variants clear one (§6).
struct ZephyrRules {
  bool enabled = false;
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
  /// Our fix (profiles.md §3.5): the first touch of an ANON token page frees no slot, so
  /// its eviction must leave the kept slot for pages coming back from the store.
  bool token_fault_keeps_slot = true;
  bool flush_on_evict = true;         ///< arch_mem_page_out invalidates the TLB entry
  bool lazy_map = true;               ///< an on-demand map allocates no frame
  bool unmap_frees_frames = true;     ///< k_mem_unmap returns each frame to the free list
};

/// The almos-mkh profile's layout and rules (profiles.md §2). Zone bases and sizes in
/// pages (kernel_config.h values as remembered in seed-systems.md §1.1.16: parameters).
/// The bool flags are the correct rules; broken variants clear one (§6).
struct AlmosRules {
  bool enabled = false;
  Vpn elf_base = 0x400, elf_pages = 0x3fc00;        ///< CONFIG_USER_ELF_BASE / SIZE
  Vpn mmap_base = 0x40000, mmap_pages = 0x80000;    ///< CONFIG_USER_MMAP_BASE / SIZE
  Vpn stack_base = 0xc0000;                         ///< CONFIG_VMM_STACK_BASE
  std::uint64_t stack_slot_pages = 0x1000;          ///< CONFIG_VMM_STACK_SIZE in pages
  std::uint64_t stack_slots = 32;                   ///< CONFIG_THREADS_MAX_PER_CLUSTER
  bool stack_guard = true;          ///< the first page of each slot is never mapped
  bool zombie_exact_order = true;   ///< only a zombie of the request's order is reused
  bool propagate_updates = true;    ///< vmm_global_update_pte / set_cow reach every copy
  bool false_fault_copies = true;   ///< a PTE present in the reference is copied, not allocated
  bool cow_checks_forks = true;     ///< a COW write copies while forks > 0
  bool copy_decrements_forks = true;///< the copy path decrements the old page's forks
  bool reset_clears_zombies = true; ///< vmm_user_reset empties the zombie lists
};

/// Policy parameters of one kernel. The model's operations are generic; every place
/// where Linux, ALMOS-MKH, Zephyr, mermap or nova-core differ reads a field here.
/// Addresses are bytes; sizes in pages unless named *_bytes.
struct Profile {
  std::string name;
  bool zero_page_on_read = true;     ///< profiles.md §1.3: read fault on untouched anon maps the zero page
  bool cow_reuse_exclusive = true;   ///< profiles.md §1.4: COW write fault reuses a frame with refcount 1
  bool merge_vsegs = true;           ///< profiles.md §1.2: adjacent compatible vsegs merge
  bool fork_copies_untouched = false;///< profiles.md §1.5: copy PTEs of vsegs with no anon pages
  Va mmap_min_addr = 0x10000;        ///< lowest address mmap may return (vm.mmap_min_addr)
  Va task_size = 0x7ffffffff000;     ///< top of user space (x86-64, 4-level)
  Va mmap_base = 0x7f0000000000;     ///< top-down placement starts below this
  std::uint64_t stack_guard_gap = 256;   ///< pages kept free below a growsdown vseg
  std::uint64_t stack_max = 2048;        ///< largest stack, pages (RLIMIT_STACK 8 MiB)
  std::uint64_t fault_around_pages = 16; ///< profiles.md §1.9: read faults map cached neighbours (0 = off)
  bool map_stack_nohugepage = true;      ///< profiles.md §1.11: MAP_STACK sets VM_NOHUGEPAGE (Linux >= 6.7)
  bool implied_read = true;
  bool exec_fault_maps_first = true;     ///< profiles.md §1.10: a fetch from a missing page faults it in as a read              ///< profiles.md §1.10: W or X imply R (x86-64 without pkeys)
  MermapRules mermap;                    ///< profiles.md §4 (enabled only in the mermap profile)
  ZephyrRules zephyr;                    ///< profiles.md §3 (enabled only in the zephyr profile)
  AlmosRules almos;                      ///< profiles.md §2 (enabled only in the almos-mkh profile)
  std::string variant;                   ///< deliberately broken variant in use, or empty

  /// Rights the hardware grants for a vseg's prot (INV-GPT-2 compares PTEs with this).
  Prot grantable(Prot p) const {
    if (implied_read && (p.w || p.x)) p.r = true;
    return p;
  }
};

/// The named profile: "linux", or "linux:VARIANT" for a deliberately broken variant
/// that tests use to show the harness catches it (profiles.md §6): no-zero-page,
/// no-merge, no-cow-reuse, no-fault-around. The seed-system profiles ("almos-mkh",
/// "zephyr", "mermap", "nova") have their places in spec/profiles.md §2-§5 and are
/// refused with a message naming that section until they are specified.
/// Throws std::invalid_argument naming the profile when it is unknown or not yet built.
Profile profile_by_name(const std::string& name);
/// Broken variants of "linux" accepted after a colon.
std::vector<std::string> linux_variants();
/// Variants of "mermap": fixed (default), rfc, and broken no-reserve-page, no-flush, overlap.
std::vector<std::string> mermap_variants();
/// Variants of "zephyr": fixed (default), eager (no DEMAND_MAPPING), upstream (a first
/// touch may take the slot kept for faults), seed (as in the seed text: that, and no
/// rollback of a failed eager map), and broken no-guard, evict-pinned, dirty-bit-only, no-fault-slot,
/// no-evict-flush, unmap-keeps-guards, map-allocates, unmap-leaks-frame.
std::vector<std::string> zephyr_variants();
/// Variants of "almos-mkh": fixed (default) and broken no-guard, zombie-any-order,
/// stale-copy, false-fault-allocates, cow-ignores-forks, no-forks-dec, reset-keeps-zombies.
std::vector<std::string> almos_variants();
/// Names accepted by profile_by_name (variants not included).
std::vector<std::string> profile_names();

}  // namespace vmref::model
