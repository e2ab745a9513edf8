// The mermap kernel's vocabulary (spec/kernels/mermap.md): the per-CPU allocator of
// short-lived kernel mappings from the Linux __GFP_UNMAPPED RFC, its parameters and
// its four calls. It builds on the linux kernel's address spaces.
#pragma once

#include <optional>
#include <string>

#include "vmref/vocab/core_ops.hpp"

namespace vmref::mermap {

using vocab::Asid;
using vocab::Prot;
using vocab::Va;

/// The allocator's layout and rules (spec/kernels/mermap.md §1, §5). `fixed` sets every
/// *_fix flag; `rfc` (the allocator as posted) clears them; the broken variants clear
/// one safety rule.
struct MermapParams : vocab::KernelParams {
  Va base = 0xffffeb0000000000ull;   ///< MERMAP_BASE_ADDR: our choice inside the mm-local region
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

/// mermap_prepare (§1): mermap_mm_prepare for the mm `as`.
using PrepareArgs = vocab::SpaceArgs;

/// mermap_get (§2) on the event's CPU: map `len` bytes, remembered as `handle`.
struct GetArgs : vocab::SpaceArgs {
  std::uint64_t len = 0;
  std::string handle;
  Prot prot{true, true, false};
  bool reserve = false;                  ///< mermap_get_reserved (use_reserve)
  /// Fault injection: the PTE writes fail after this many pages
  /// (apply_to_existing_page_range returning an error).
  std::optional<std::uint64_t> fail_after;
  /// The recorded kernel's return (expect.ret), when the trace has it: a get the kernel
  /// says succeeded and the model failed leaves a handle its later put may name.
  std::optional<Va> recorded;
};

/// mermap_put (§3) on the event's CPU of the allocation named `handle`.
struct PutArgs : vocab::SpaceArgs {
  std::string handle;
};

/// mermap_teardown (§4): mermap_mm_teardown, run on the event's CPU.
using TeardownArgs = vocab::SpaceArgs;

// The allocator's own steps (spec/kernels/mermap.md §9), so that an implementation's code
// path replays step by step; its PTE writes are core `pte_set` (with `local`) and `pte_clear`.

/// mermap_alloc: on the event's CPU, tracking slot `handle` takes [base, base + len)
/// (bytes) and the bump pointer moves past it; `reserve` for the reserved page.
struct AllocStepArgs : vocab::SpaceArgs {
  std::string handle;
  Va base = 0;
  std::uint64_t len = 0;
  bool reserve = false;
};

/// mermap_free: the tracking slot `handle` is freed (no flush). Its arguments are
/// mermap_put's (PutArgs).

/// mermap_reset: the event's CPU's bump pointer goes back to `next` (bytes), the reuse the
/// allocator does after its local flush.
struct ResetStepArgs : vocab::SpaceArgs {
  Va next = 0;
};

/// mermap_migrate: the task calls migrate_disable (`disable`) or migrate_enable.
struct MigrateStepArgs : vocab::SpaceArgs {
  bool disable = true;
};

namespace ops {
extern vocab::OpInfo prepare, get, put, teardown;
extern vocab::OpInfo alloc_step, free_step, reset_step, migrate_step;
}  // namespace ops

inline constexpr const char* kKernel = "mermap";

/// Registers the kernel (on top of linux), its variants and its operations.
void register_vocab();

}  // namespace vmref::mermap
