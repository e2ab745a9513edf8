// One virtual segment (vseg / VMA) of an address space (spec/vmm.md §1.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vmref/model/types.hpp"

namespace vmref::model {

/// Backing-object identity: 0 = anonymous private memory; otherwise an entry of the
/// model's object table (a file by device:inode, or a shared-anonymous/shmem object).
using ObjectId = std::uint32_t;
inline constexpr ObjectId kNoObject = 0;

/// vseg flags that change behaviour or merging (spec §1.2), named as in traces and as
/// Linux VM_* flags: `account` = VM_ACCOUNT (set while a private mapping is or once was
/// writable), `dontcopy` = VM_DONTCOPY (MADV_DONTFORK), `seq_read`/`rand_read` =
/// MADV_SEQUENTIAL/RANDOM, and so on. `global`: the vseg's PTEs carry the global bit
/// (kernel mappings shared by every address space, x86 G / Arm nG clear; spec §3.2).
enum class VmFlag : std::uint8_t {
  locked, growsdown, account, noreserve, dontcopy, wipeonfork, seq_read, rand_read,
  dontdump, hugepage, nohugepage, mergeable, guard, global, count
};
const char* to_string(VmFlag f);
std::optional<VmFlag> parse_vm_flag(const std::string& s);

struct VsegFlags {
  std::uint32_t bits = 0;
  bool maywrite = true;  ///< mprotect may add W (false for shared maps of read-only fds)
  bool has(VmFlag f) const { return bits >> static_cast<unsigned>(f) & 1u; }
  void set(VmFlag f, bool on = true) {
    auto b = 1u << static_cast<unsigned>(f);
    bits = on ? bits | b : bits & ~b;
  }
  friend bool operator==(const VsegFlags&, const VsegFlags&) = default;
};

/// [start, end) in bytes, both page aligned, start < end (INV-VSL-2).
struct Vseg {
  Va start = 0;
  Va end = 0;
  Prot prot;
  Kind kind = Kind::anon;
  bool shared = false;            ///< MAP_SHARED: writes reach the backing object
  ObjectId object = kNoObject;    ///< backing file or shmem object, kNoObject for private anon
  std::uint64_t pgoff = 0;        ///< page offset of `start` in the object (anon: start VPN)
  VsegFlags flags;
  std::uint64_t anon_id = 0;      ///< identity of private anonymous pages' owner (anon_vma); 0 = none
  /// False when anon_id came from a snapshot (the owner exists but its identity relative
  /// to other snapshot vsegs is hidden) or when it is unknown whether an owner exists.
  bool anon_known = true;
  std::string name;               ///< "[heap]", "[stack]", "[vdso]"... or empty

  std::uint64_t bytes() const { return end - start; }
  bool contains(Va va) const { return va >= start && va < end; }
};

}  // namespace vmref::model
