// The nova kernel's vocabulary (spec/kernels/nova.md): nova-core's GPU VMM with its
// two-phase map (prepare, then execute), unmap and drop over NVIDIA MMU v2/v3 page
// tables, its parameters, variants and calls. The model and any implementation share
// only these plain structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vmref/vocab/core_ops.hpp"

namespace vmref::nova {

using vocab::Asid;
using vocab::Va;

inline constexpr const char* kKernel = "nova";

/// The VMM's geometry and rules (spec/kernels/nova.md §2, §9). Each `*_fix` flag is one
/// defect of the posted seed (P2, P4..P9) corrected; the default variant clears them all.
struct NovaParams : vocab::KernelParams {
  unsigned mmu = 2;                       ///< MMU version: 2 (PD3..PD0, 49-bit VA) or 3 (PD4..PD0, 57-bit VA)
  std::uint64_t va_pages = 1ull << 24;    ///< VA pages the allocator manages: VFNs [0, va_pages)
  bool reserve_fix = false;               ///< P2: prepare reserves room for every pending page, not the seed's bound
  bool execute_rollback_fix = false;      ///< P4: a failed execute invalidates and flushes what it wrote, never frees a table it installed
  bool unmap_keep_fix = false;            ///< P5, P9: a failed unmap keeps the range (no VA freed, no guard warning)
  bool ack_global_fix = false;            ///< P6: flushes use ACK GLOBALLY (the seed: ACK NONE_REQUIRED)
  bool keep_big_fix = false;              ///< P7: installing a dual PDE's small half keeps its big half; no small PTE under a hiding big entry
  bool map_range_fix = false;             ///< P8: map hands prepare the first `pages` pages of a larger va range
  bool drop_fix = false;                  ///< drop unmaps live ranges and flushes before freeing table pages
  // Deliberately broken variants (each breaks one invariant the seed keeps):
  bool lazy_pt = false;                   ///< `lazy-pt`: prepare stages no leaf page table; execute allocates it (and grows page_table_allocs)
  bool keep_pending = false;              ///< `keep-pending`: execute installs pending pages but leaves them in the pending set
  bool skip_flush = false;                ///< `no-flush`: execute and unmap skip their PDB flush
};

/// Where a step of execute or unmap fails (spec/kernels/nova.md §5, §7): acquiring the
/// PRAMIN window, writing the index-th PDE (execute), walking/writing the index-th PTE,
/// or the TLB flush (its 2 s poll timing out).
enum class Step : std::uint8_t { none, window, pde, pte, flush };
const char* to_string(Step s);

/// Allocation failures injected into prepare (spec/kernels/nova.md §4).
struct PrepareFail {
  bool reserve = false;              ///< page_table_allocs.reserve fails (only when it must grow)
  bool va = false;                   ///< the VA allocation fails
  std::optional<std::uint64_t> pt;   ///< the pt-th (0-based) table-page allocation of the call fails
};
/// An error injected at one step of execute or unmap.
struct StepFail {
  Step at = Step::none;
  std::uint64_t index = 0;           ///< pde/pte: the 0-based position of the failing write (default 0)
  bool indexed = false;              ///< the trace gave fail_index (kept by the encoder)
};

/// nova_new (§3): the VMM of address space `as`, with its PDB allocated and zeroed;
/// at VRAM page `pdb` when given (a recorded driver's own PDB), else the allocator's next.
struct NewArgs : vocab::SpaceArgs {
  std::optional<std::uint64_t> pdb;
};
/// nova_drop (§3): the VMM of `as` is dropped, freeing its table pages.
using DropArgs = vocab::SpaceArgs;

/// nova_prepare (§4): prepare_map(pages, va_range) remembered as `handle`. `range` is
/// the caller's va_range in bytes [range_start, range_end), absent: allocate anywhere.
struct PrepareArgs : vocab::SpaceArgs {
  std::uint64_t pages = 0;
  std::string handle;
  std::optional<std::pair<Va, Va>> range;
  PrepareFail fail;
};

/// nova_execute (§5): execute_map of the prepared mapping `handle` with `count` PFNs
/// pfn, pfn+1, ... (count absent: the prepared page count), writable or read-only.
struct ExecuteArgs : vocab::SpaceArgs {
  std::string handle;
  std::uint64_t pfn = 0;
  std::optional<std::uint64_t> count;
  bool writable = true;
  StepFail fail;
};

/// nova_map (§6): map_pages of `pages` PFNs pfn, pfn+1, ... at a va range or anywhere.
struct MapArgs : vocab::SpaceArgs {
  std::uint64_t pages = 0;
  std::string handle;
  std::uint64_t pfn = 0;
  bool writable = true;
  std::optional<std::pair<Va, Va>> range;
  PrepareFail prepare_fail;
  StepFail fail;
};

/// nova_unmap (§7): unmap_pages of the mapped range `handle`.
struct UnmapArgs : vocab::SpaceArgs {
  std::string handle;
  StepFail fail;
};

/// A GPU engine's access kind (§8).
enum class Kind : std::uint8_t { read, write, atomic };
const char* to_string(Kind k);

/// nova_access (§8): an engine of the GPU accesses `va` (bytes) in the VMM of `as`.
struct AccessArgs : vocab::SpaceArgs {
  Va va = 0;
  Kind kind = Kind::read;
};

/// Big-page PTE states (spec/formats/nv_mmu_v2.md "Big-page PTE states"): U lets the
/// MMU read the small PTEs beneath, I and S hide them.
enum class BigState : std::uint8_t { U, I, S };
const char* to_string(BigState s);

/// nova_set_big (§8, a mechanism step): another user of the dual PDE covering `va`
/// installs a big page table there (if it has none: one zeroed page) and sets the big
/// PTE of the 64 KiB chunk holding `va` to `state`.
struct SetBigArgs : vocab::SpaceArgs {
  Va va = 0;
  BigState state = BigState::U;
};

/// INVALIDATE.ACK of a GPU TLB invalidate (spec/formats/nv_mmu_v2.md V2-T2): NONE_REQUIRED
/// guarantees nothing; GLOBALLY and INTRANODE guarantee that every TLB of the GPU dropped
/// what it names once the invalidate completed.
enum class Ack : std::uint8_t { none, globally, intranode };
const char* to_string(Ack a);

/// nova_flush (§8.1): the driver invalidates the GPU TLB for the VMM's PDB, all VA or the
/// bytes [va, va + size), with ACK mode `ack`, and waits for completion.
struct FlushArgs : vocab::SpaceArgs {
  std::optional<std::pair<Va, std::uint64_t>> range;  ///< (va, size) in bytes; absent: ALL_VA
  Ack ack = Ack::globally;
};

// Mechanism-level events (spec/kernels/nova.md §15): what a driver's code path did, step
// by step, as a recorder inside the driver sees it. The model applies each step to its
// state and checks the same invariants as after the API-level calls.

/// nova_pt_alloc: the driver took VRAM page `pfn` (a page number, in [0x10000, 2^24):
/// N-C9) as a table page of `level` (0 the PDB level .. the leaf level, 4 on v2 and 5 on
/// v3; `big`: a 256-byte big page table at the leaf level) for the VMM of `as`. Not
/// zeroed until nova_pt_zero. Another PFN, a live page, a level the version lacks: bad
/// input naming the field.
struct PtAllocArgs : vocab::SpaceArgs {
  std::uint64_t pfn = 0;
  unsigned level = 0;
  bool big = false;
};
/// nova_pt_zero, nova_pt_free: the table page `pfn` (a page number) of the VMM of `as`
/// was zeroed (through PRAMIN) or given back to the VRAM allocator. A page that is no
/// live table page of that VMM, or (free) its PDB: bad input naming `pfn`.
struct PtArgs : vocab::SpaceArgs {
  std::uint64_t pfn = 0;
};
/// nova_pde_write, nova_pte_write: the 64-bit word `value` stored at VRAM byte address
/// `addr` (8-byte aligned, inside a table page of the VMM of `as`). A dual PDE is two
/// words: the big half at offset 0 of its 16 bytes, the small half at offset 8.
struct WriteArgs : vocab::SpaceArgs {
  std::uint64_t addr = 0;
  std::uint64_t value = 0;
};
/// nova_va_alloc, nova_va_free: the driver's VA allocator gave out, or took back, the
/// bytes [va, va + size) (page aligned; free names the range by its start, size 0).
struct VaArgs : vocab::SpaceArgs {
  Va va = 0;
  std::uint64_t size = 0;
};
/// nova_call: the events of this group up to its end are the steps of one call of the
/// VMM, which returned `ok` (INV-NOVA-1 and 7 judge it as they judge the API calls).
struct CallArgs : vocab::SpaceArgs {
  std::string call;  ///< prepare, execute, map, unmap or drop
  bool ok = true;
};
/// nova_flush_start takes FlushArgs: the invalidate is triggered; nova_flush_done {as}:
/// the oldest triggered one of the VMM completed (its TRIGGER bit read 0).

namespace ops {
extern vocab::OpInfo nova_new, drop, prepare, execute, map, unmap, access, set_big, flush;
extern vocab::OpInfo pt_alloc, pt_zero, pt_free, pde_write, pte_write, va_alloc, va_free, call, flush_start,
    flush_done;
}  // namespace ops

/// The mechanism-level operations (nova_steps.cpp), for register_vocab.
void register_mechanism_ops();

/// Registers the kernel, its variants and its operations.
void register_vocab();

}  // namespace vmref::nova
