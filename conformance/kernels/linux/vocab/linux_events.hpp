// The linux kernel's vocabulary (spec/kernels/linux.md): its parameters, the system
// calls it adds to the shared operations, and their argument types.
#pragma once

#include <optional>
#include <string>

#include "vmref/vocab/core_ops.hpp"

namespace vmref::linux_mm {

using vocab::AccessKind;
using vocab::Asid;
using vocab::Prot;
using vocab::Va;

/// Policy parameters (spec/kernels/linux.md §1). Addresses in bytes; sizes in pages.
struct LinuxParams : vocab::KernelParams {
  bool zero_page_on_read = true;      ///< §1.3: a read fault on untouched anon memory maps the zero page
  bool cow_reuse_exclusive = true;    ///< §1.4: a COW write fault reuses a frame with refcount 1
  bool merge_vsegs = true;            ///< §1.2: adjacent compatible vsegs merge
  bool fork_copies_untouched = false; ///< §1.5: copy PTEs of vsegs with no anonymous pages
  Va mmap_min_addr = 0x10000;         ///< lowest address mmap may return (vm.mmap_min_addr)
  Va task_size = 0x7ffffffff000;      ///< top of user space (x86-64, 4-level paging)
  Va mmap_base = 0x7f0000000000;      ///< top-down placement starts below this
  std::uint64_t stack_guard_gap = 256;   ///< §1.6: pages kept free below a growsdown vseg
  std::uint64_t stack_max = 2048;        ///< §1.6: largest stack in pages (RLIMIT_STACK 8 MiB)
  std::uint64_t fault_around_pages = 16; ///< §1.9: read faults map cached neighbours (0 = off)
  bool map_stack_nohugepage = true;      ///< §1.11: MAP_STACK sets VM_NOHUGEPAGE (Linux >= 6.7)
  bool implied_read = true;              ///< §1.10: W or X imply R (x86-64 without pkeys)
  bool exec_fault_maps_first = true;     ///< §1.10: a fetch from a missing page faults it in as a read
  /// §1.13: faults in private anonymous vsegs map 2 MiB leaves (transparent_hugepage=always);
  /// off by default, as most recordings come from machines with THP set to madvise or never.
  bool thp = false;
  // Broken variants (spec/kernels/linux.md §3): each breaks a shared invariant.
  bool frees_before_flush = false;  ///< an unmap frees its frames at once and leaves the flush to later (INV-TLB-1)
  bool forgets_cow_count = false;   ///< fork shares a private page COW without the child's reference (INV-FRAME-1)
  bool mprotect_skips_flush = false;  ///< mprotect withdraws a right without shooting the range down (INV-TLB-3)
  bool mprotect_keeps_write = false;  ///< mprotect r-- leaves present PTEs writable (INV-GPT-2)
};

/// madvise advice (spec/kernels/linux.md §2.11), named as the MADV_* constants in lower case.
enum class Advice : std::uint8_t {
  normal, random, sequential, willneed, dontneed, free, dontfork, dofork, hugepage,
  nohugepage, dontdump, dodump, wipeonfork, keeponfork
};
const char* to_string(Advice a);
std::optional<Advice> parse_advice(const std::string& s);

/// mmap placement mode (spec/kernels/linux.md §2.2).
enum class Placement : std::uint8_t { hint, fixed, fixed_noreplace };

/// A byte range of one address space: [addr, addr + len).
struct RangeArgs : vocab::SpaceArgs {
  Va addr = 0;
  std::uint64_t len = 0;
};

/// mmap (spec/kernels/linux.md §2.2).
struct MmapArgs : RangeArgs {
  Prot prot;
  bool shared = false;        ///< MAP_SHARED
  bool anonymous = true;      ///< MAP_ANONYMOUS
  bool populate = false;      ///< MAP_POPULATE
  bool map_stack = false;     ///< MAP_STACK (§1.11)
  vocab::VsegFlags flags;     ///< locked / growsdown / noreserve / global
  Placement placement = Placement::hint;
  /// With hint placement: the address the recording kernel chose (its expect.ret). The
  /// model takes it when it is a legal placement, else applies its own policy.
  std::optional<Va> chosen;
  std::optional<vocab::FileRef> file;
  std::uint64_t offset = 0;   ///< file offset in bytes
};

/// munmap (§2.3): how the kernel under test maintained the TLB.
struct MunmapArgs : RangeArgs {
  vocab::TlbMode tlb = vocab::TlbMode::sync;
};

/// mprotect (§2.4).
struct MprotectArgs : RangeArgs {
  Prot prot;
};

/// brk (§2.5): the requested break.
struct BrkArgs : vocab::SpaceArgs {
  Va addr = 0;
};

/// fork (§2.6): `as` forks into the new address space `child`.
struct ForkArgs : vocab::SpaceArgs {
  Asid child = 0;
};

/// exec_reset (§2.1): `brk` is the new heap start (0: unknown).
struct ExecArgs : vocab::SpaceArgs {
  Va brk = 0;
};

/// pin (§2.8): take a pin on the page at `va`, named `handle`.
struct PinArgs : vocab::SpaceArgs {
  Va va = 0;
  std::string handle;
  AccessKind kind = AccessKind::read;
};

/// unpin (§2.9).
struct UnpinArgs : vocab::OpArgs {
  std::string handle;
};

/// stack_expand (§2.10): the recording kernel grew a stack down to `va`.
struct StackExpandArgs : vocab::SpaceArgs {
  Va va = 0;
};

/// mremap (§2.13).
struct MremapArgs : RangeArgs {
  std::uint64_t new_len = 0;   ///< bytes
  bool maymove = false, fixed = false, dontunmap = false;
  Va new_addr = 0;             ///< with `fixed`: the destination
  std::optional<Va> chosen;    ///< a moving mremap: where the recording kernel put it
};

/// madvise (§2.11).
struct MadviseArgs : RangeArgs {
  Advice advice = Advice::normal;
};

namespace ops {
extern vocab::OpInfo exec_reset, mmap, munmap, mprotect, brk, fork, pin, unpin, stack_expand, madvise, mlock,
    munlock, mremap;
}  // namespace ops

/// The kernel's name in traces and on the command line.
inline constexpr const char* kKernel = "linux";

/// Registers the kernel, its variants and its operations.
void register_vocab();

}  // namespace vmref::linux_mm
