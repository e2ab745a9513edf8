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
