// The event vocabulary shared by traces, generators, the model and implementations
// (spec/trace-format.md §3). One Event is one operation; fields unused by an op stay default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vmref/model/types.hpp"
#include "vmref/model/vseg.hpp"

namespace vmref::model {

enum class Op : std::uint8_t {
  // Semantic operations (spec §2): the model computes their effect.
  as_create, as_destroy, switch_as, mmap, munmap, mprotect, brk, fork, exec_reset,
  access, tlb_flush, pin, unpin, observe, stack_expand, mremap, madvise, mlock, munlock,
  // The mermap allocator (profiles.md §4): per-CPU short-lived kernel mappings.
  mermap_prepare, mermap_get, mermap_put, mermap_teardown,
  // Zephyr (profiles.md §3): the kernel's k_mem_* API and the NRU timer.
  k_mem_map, k_mem_unmap, k_mem_page_out, k_mem_page_in, k_mem_pin, k_mem_unpin, k_mem_stat, nru_tick,
  // ALMOS-MKH (profiles.md §2): processes, vsegs, faults per cluster, fork, exec, exit.
  almos_process, almos_vseg, almos_munmap, almos_access, almos_fork, almos_exec, almos_exit,
  // Mechanism events (spec §2.14): a kernel under test reports a step it took; the
  // model applies it verbatim and the invariants judge the result.
  vseg_insert, vseg_remove, pte_set, pte_clear, frame_alloc, frame_get, frame_put,
  frame_free, va_release, va_reuse,
};
const char* to_string(Op op);
std::optional<Op> parse_op(const std::string& s);

/// How an operation that removes or downgrades translations maintains the TLBs (spec §3.3).
enum class TlbMode : std::uint8_t {
  sync,      ///< shootdown on every CPU before frames are released (default)
  deferred,  ///< PTEs cleared now; frames held until a later covering tlb_flush
  none,      ///< no flush at all: frames released at once
};
/// Scope of a tlb_flush event (spec §3.2).
enum class FlushScope : std::uint8_t { all, asid, range };

/// madvise advice (spec §2.15), named as the MADV_* constants in lower case.
enum class Advice : std::uint8_t {
  normal, random, sequential, willneed, dontneed, free, dontfork, dofork, hugepage,
  nohugepage, dontdump, dodump, wipeonfork, keeponfork
};
const char* to_string(Advice a);
std::optional<Advice> parse_advice(const std::string& s);

/// mmap placement mode (spec §2.4).
enum class Placement : std::uint8_t { hint, fixed, fixed_noreplace };

/// File backing named by a trace: identity (e.g. "08:01:1234" dev:inode) and path.
struct FileRef {
  std::string id;
  std::string path;
  bool fd_writable = true;  ///< whether the fd was opened for writing (shared W maps need it)
  std::optional<std::uint64_t> size;  ///< file size in bytes, when known (faults beyond: SIGBUS)
};

struct Event {
  Op op = Op::observe;
  Asid as = 0;
  Asid child = 0;               ///< fork: the new address space
  int cpu = -1;
  Va addr = 0;                  ///< mmap/munmap/mprotect/brk start; access/pte va
  std::uint64_t len = 0;        ///< bytes
  Prot prot;
  bool shared = false;          ///< mmap: MAP_SHARED
  bool anonymous = true;        ///< mmap: MAP_ANONYMOUS
  bool populate = false;        ///< mmap: MAP_POPULATE
  bool map_stack = false;       ///< mmap: MAP_STACK (profiles.md §1.11)
  VsegFlags vm_flags;           ///< mmap: locked/growsdown/noreserve; vseg_insert: all flags
  Placement placement = Placement::hint;
  /// mmap with hint placement: the address the recording kernel chose (its expect.ret).
  /// The model takes it when it is a legal placement, else applies its own policy.
  std::optional<Va> chosen;
  std::uint64_t offset = 0;     ///< file offset in bytes
  std::uint64_t new_len = 0;    ///< mremap: new length in bytes
  Va new_addr = 0;              ///< mremap with fixed: destination
  bool maymove = false, dontunmap = false;  ///< mremap flags (placement fixed = MREMAP_FIXED)
  Advice advice = Advice::normal;
  std::optional<FileRef> file;
  AccessKind kind = AccessKind::read;
  TlbMode tlb = TlbMode::sync;
  FlushScope scope = FlushScope::all;
  bool broadcast = true;        ///< tlb_flush: all CPUs (true) or only `cpu`
  bool with_global = false;     ///< tlb_flush asid/range: also drop global entries
  std::string label;            ///< frame label (mechanism events) or pin handle
  bool cow = false, global = false;
  Kind vkind = Kind::anon;      ///< vseg_insert
  std::string name;             ///< vseg_insert: "[heap]"...
  /// vseg_insert: whether the vseg already has an owner of anonymous pages (Linux
  /// anon_vma); nullopt = unknown to the recorder (merges that depend on it are undetermined).
  std::optional<bool> anon_vma;
  std::uint64_t size_class = 0; ///< va_release / va_reuse: allocator list index
  std::uint64_t request_class = 0;  ///< va_reuse: size class of the request served
  bool reserve = false;         ///< mermap_get: use_reserve (mermap_get_reserved)
  /// mermap_get: fault injection, the PTE writes fail after this many pages
  /// (apply_to_existing_page_range returning an error).
  std::optional<std::uint64_t> fail_after;
  bool uninit = false;          ///< k_mem_map: K_MEM_MAP_UNINIT
  bool lock = false;            ///< k_mem_map: K_MEM_MAP_LOCK (eager and pinned)
  bool user = false;            ///< k_mem_map: K_MEM_PERM_USER
  /// This event and the next form one kernel operation: invariants are checked only
  /// after the last event of such a group (spec/trace-format.md §3.4).
  bool cont = false;
  nlohmann::json expect;        ///< outcome the recording kernel observed; null if none
  std::uint64_t line = 0;       ///< source line in the trace (1-based), 0 if generated
};

/// What an operation returned (spec §2.0). Compared against Event::expect.
struct Outcome {
  Err err = Err::ok;
  std::uint64_t ret = 0;        ///< mmap/brk: address
  AccessResult access = AccessResult::ok;
  FrameId frame = kNoFrame;     ///< access/pin: the frame used
  std::string note;             ///< short explanation for reports
};

}  // namespace vmref::model
