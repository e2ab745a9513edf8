// Attributes a trace gives a vseg (VMA) or a mapping request (spec/vmm.md §1.2,
// spec/trace-format.md §3.1): its kind, its flags and its backing file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vmref::vocab {

/// vseg kind (spec/vmm.md §1.2). `special` covers [vdso]/[vvar]-like regions the kernel
/// provides; `kernel` covers kernel mappings (a per-CPU mapping region, a kernel heap).
enum class Kind : std::uint8_t { anon, file, stack, heap, code, data, kernel, special };
const char* to_string(Kind k);
std::optional<Kind> parse_kind(const std::string& s);

/// vseg flags that change behaviour or merging (spec/vmm.md §1.2), named as in traces
/// and as Linux VM_* flags: `account` = VM_ACCOUNT (set while a private mapping is or
/// once was writable), `dontcopy` = VM_DONTCOPY (MADV_DONTFORK), `seq_read`/`rand_read`
/// = MADV_SEQUENTIAL/RANDOM, and so on. `global`: the vseg's PTEs carry the global bit
/// (mappings shared by every address space, x86 G / Arm nG clear; spec/vmm.md §3.2).
enum class VmFlag : std::uint8_t {
  locked, growsdown, account, noreserve, dontcopy, wipeonfork, seq_read, rand_read,
  dontdump, hugepage, nohugepage, mergeable, guard, global, count
};
const char* to_string(VmFlag f);
std::optional<VmFlag> parse_vm_flag(const std::string& s);

/// A set of VmFlag bits, plus whether mprotect may add W.
struct VsegFlags {
  std::uint32_t bits = 0;
  bool maywrite = true;  ///< false for shared maps of read-only fds
  bool has(VmFlag f) const { return bits >> static_cast<unsigned>(f) & 1u; }
  void set(VmFlag f, bool on = true) {
    auto b = 1u << static_cast<unsigned>(f);
    bits = on ? bits | b : bits & ~b;
  }
  friend bool operator==(const VsegFlags&, const VsegFlags&) = default;
};

/// File backing named by a trace: identity (e.g. "08:01:1234" dev:inode) and path.
struct FileRef {
  std::string id;
  std::string path;
  bool fd_writable = true;            ///< whether the fd was opened for writing (shared W maps need it)
  std::optional<std::uint64_t> size;  ///< file size in bytes, when known (faults beyond: SIGBUS)
};

}  // namespace vmref::vocab
