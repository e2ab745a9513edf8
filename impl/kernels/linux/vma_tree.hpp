// Linux's VMA tree, written the way the kernel keeps it (mm/mmap.c, the maple tree): an
// interval structure searched by address, whose lookup returns the first VMA ending
// above an address (find_vma). Flags are the kernel's VM_* bits (include/linux/mm.h),
// so the implementation shares no vseg type with the model.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "vmref/vocab/vseg_attrs.hpp"

namespace vmref::linux_mm {

// VM_* flags (include/linux/mm.h, Linux 6.x). vmref's own two sit above bit 40.
inline constexpr std::uint64_t VM_READ = 0x1, VM_WRITE = 0x2, VM_EXEC = 0x4, VM_SHARED = 0x8, VM_MAYWRITE = 0x20,
                               VM_GROWSDOWN = 0x100, VM_LOCKED = 0x2000, VM_SEQ_READ = 0x8000,
                               VM_RAND_READ = 0x10000, VM_DONTCOPY = 0x20000, VM_ACCOUNT = 0x100000,
                               VM_NORESERVE = 0x200000, VM_WIPEONFORK = 0x2000000, VM_DONTDUMP = 0x4000000,
                               VM_HUGEPAGE = 0x20000000, VM_NOHUGEPAGE = 0x40000000, VM_MERGEABLE = 0x80000000;
/// vmref: the PTEs carry the global bit (a mapping every address space shares).
inline constexpr std::uint64_t VM_GLOBAL = 1ull << 40;
/// vmref: a guard region (no mapping may be made in it).
inline constexpr std::uint64_t VM_GUARD = 1ull << 41;
/// The access bits: what mprotect changes.
inline constexpr std::uint64_t VM_ACCESS = VM_READ | VM_WRITE | VM_EXEC;

/// struct vm_area_struct, the fields vmref uses. [vm_start, vm_end) in bytes.
struct Vma {
  std::uint64_t vm_start = 0, vm_end = 0;
  std::uint64_t vm_flags = VM_MAYWRITE;
  std::uint64_t vm_pgoff = 0;   ///< page offset of vm_start in the file (anon: its creation VPN)
  std::uint32_t vm_file = 0;    ///< the backing object (file or shmem), 0 for private anonymous
  std::uint64_t anon_vma = 0;   ///< owner of its anonymous pages, 0 before the first fault
  vocab::Kind kind = vocab::Kind::anon;  ///< as /proc/PID/maps names it ([heap], [stack], a file...)
  std::string name;
  bool has(std::uint64_t f) const { return (vm_flags & f) != 0; }
  std::uint64_t pages() const { return (vm_end - vm_start) >> 12; }
};

/// The tree, keyed by vm_end. Pointers to VMAs stay valid while the tree changes around
/// them (nodes move whole when a VMA's end changes).
class VmaTree {
 public:
  /// find_vma: the VMA containing `addr`, or nullptr.
  Vma* find(std::uint64_t addr) {
    auto it = map_.upper_bound(addr);
    return it != map_.end() && it->second.vm_start <= addr ? &it->second : nullptr;
  }
  const Vma* find(std::uint64_t addr) const { return const_cast<VmaTree*>(this)->find(addr); }
  Vma* starting_at(std::uint64_t addr) {
    Vma* v = find(addr);
    return v && v->vm_start == addr ? v : nullptr;
  }
  Vma* ending_at(std::uint64_t addr) {
    auto it = map_.find(addr);
    return it == map_.end() ? nullptr : &it->second;
  }
  /// The first VMA starting at or above `addr`: an iterator (end() when none).
  std::map<std::uint64_t, Vma>::iterator first_from(std::uint64_t addr) {
    auto it = map_.upper_bound(addr);
    if (it != map_.end() && it->second.vm_start < addr) ++it;
    return it;
  }
  std::map<std::uint64_t, Vma>::const_iterator first_from(std::uint64_t addr) const {
    return const_cast<VmaTree*>(this)->first_from(addr);
  }
  bool any_overlap(std::uint64_t start, std::uint64_t end) const {
    auto it = map_.upper_bound(start);
    return it != map_.end() && it->second.vm_start < end;
  }
  Vma& insert(const Vma& v) { return map_.emplace(v.vm_end, v).first->second; }
  void erase(const Vma& v) { map_.erase(v.vm_end); }
  /// Moves a VMA's end (the tree's key) to `end`.
  void set_end(Vma& v, std::uint64_t end) {
    auto node = map_.extract(v.vm_end);
    node.key() = end;
    node.mapped().vm_end = end;
    map_.insert(std::move(node));
  }
  const std::map<std::uint64_t, Vma>& map() const { return map_; }
  std::map<std::uint64_t, Vma>::iterator begin() { return map_.begin(); }
  std::map<std::uint64_t, Vma>::iterator end() { return map_.end(); }
  bool empty() const { return map_.empty(); }

 private:
  std::map<std::uint64_t, Vma> map_;
};

}  // namespace vmref::linux_mm
