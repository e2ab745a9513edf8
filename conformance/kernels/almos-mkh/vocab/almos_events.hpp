// The almos-mkh kernel's vocabulary (spec/kernels/almos-mkh.md): ALMOS-MKH's
// per-process VMM on a multi-cluster machine, its zone layout, and the calls a trace
// makes (process creation, vsegs, munmap, accesses per cluster, fork, exec, exit).
// Clusters are numbered like CPUs (the header's `cpus` is the number of clusters).
#pragma once

#include <optional>
#include <string>

#include "vmref/vocab/core_ops.hpp"

namespace vmref::almos {

using vocab::Va;
using vocab::Vpn;

/// The zone layout and the rules (spec/kernels/almos-mkh.md §1, §8). Zone bases and
/// sizes in pages (kernel_config.h values; parameters). The bool flags are the correct
/// rules; broken variants clear one.
struct AlmosParams : vocab::KernelParams {
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

/// vseg types of ALMOS-MKH (vseg.h).
enum class VsegType : std::uint8_t { code, data, stack, anon, file, remote };
const char* to_string(VsegType t);
std::optional<VsegType> parse_vseg_type(const std::string& s);

/// What every almos-mkh call names: the process it acts on.
struct ProcArgs : vocab::OpArgs {
  std::uint64_t pid = 0;
};

/// almos_process (§1): process `pid` created with its owner (reference) cluster.
struct ProcessArgs : ProcArgs {
  unsigned cluster = 0;
};

/// almos_vseg (§2, §3): vmm_create_vseg of `type`; ret = the vseg's base address.
struct VsegArgs : ProcArgs {
  VsegType type = VsegType::anon;
  std::uint64_t len = 0;   ///< bytes (0 for a STACK: one slot)
  Va addr = 0;             ///< CODE/DATA: where the loader places it
  std::uint64_t ltid = 0;  ///< STACK: the thread's slot
};

/// almos_munmap (§4): vmm_resize_vseg / vmm_remove_vseg over [addr, addr + len).
struct MunmapArgs : ProcArgs {
  Va addr = 0;
  std::uint64_t len = 0;
};

/// almos_access (§5): a thread of `pid` running in `cluster` touches `va`.
struct AccessArgs : ProcArgs {
  unsigned cluster = 0;
  Va va = 0;
  vocab::AccessKind kind = vocab::AccessKind::read;
};

/// almos_fork (§6): `pid` forks `child`, which is created in `cluster`.
struct ForkArgs : ProcArgs {
  std::uint64_t child = 0;
  unsigned cluster = 0;
};

/// almos_exec / almos_exit (§7).
using PidArgs = ProcArgs;

namespace ops {
extern vocab::OpInfo process, vseg, munmap, access, fork, exec, exit;
}  // namespace ops

inline constexpr const char* kKernel = "almos-mkh";

/// Registers the kernel, its variants and its operations.
void register_vocab();

}  // namespace vmref::almos
