// One virtual segment (vseg / VMA) of an address space (spec/vmm.md §1.2).
#pragma once

#include <cstdint>
#include <string>

#include "vmref/model/types.hpp"

namespace vmref::model {

/// Backing-object identity: 0 = anonymous private memory; otherwise an entry of the
/// model's object table (a file by device:inode, or a shared-anonymous/shmem object).
using ObjectId = std::uint32_t;
inline constexpr ObjectId kNoObject = 0;

/// Flags that change behaviour or merging (spec §1.2). `account` mirrors Linux VM_ACCOUNT
/// (set when a private mapping is or once was writable), `maywrite` mirrors VM_MAYWRITE.
struct VsegFlags {
  bool locked = false;     ///< pages stay resident (mlock / K_MEM_MAP_LOCK)
  bool growsdown = false;  ///< stack that the kernel may extend downwards on a fault
  bool account = false;    ///< committed memory charged (Linux VM_ACCOUNT)
  bool maywrite = true;    ///< mprotect may add W (false for shared maps of read-only fds)
  bool guard = false;      ///< a never-mapped guard region
  bool noreserve = false;  ///< no commit charge (Linux VM_NORESERVE)
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
  std::uint64_t anon_id = 0;      ///< identity of private anonymous pages' owner (anon_vma); 0 = none yet
  std::string name;               ///< "[heap]", "[stack]", "[vdso]"... or empty

  std::uint64_t bytes() const { return end - start; }
  bool contains(Va va) const { return va >= start && va < end; }
};

}  // namespace vmref::model
