// Page-frame allocator over simulated physical memory: table pages and data frames.
#pragma once

#include <cstdint>
#include <vector>

#include "vmref/impl/phys_mem.hpp"

namespace vmref::impl {

/// Hands out 4 KiB frames by PFN, zero-filled, reusing freed ones last-in first-out (so a
/// use-after-free shows up quickly). PFN 0 is never handed out: PA 0 stays invalid.
class FramePool {
 public:
  explicit FramePool(SimMemory& mem) : mem_(mem) {}
  /// A zeroed frame's PFN. Never fails: limits are the caller's policy.
  std::uint64_t alloc();
  void free(std::uint64_t pfn);
  /// The first PFN of 2^order contiguous frames aligned to 2^order (a folio a large
  /// leaf can map: Intel SDM Vol 3A §4.5 takes a leaf's PA aligned to its size). Only
  /// the first frame is zeroed (the VMM keeps a folio's contents stamp there).
  /// Freed blocks serve later blocks of the same order; the frames skipped to align
  /// one serve single allocations.
  std::uint64_t alloc_block(unsigned order);
  void free_block(std::uint64_t pfn, unsigned order);
  std::uint64_t in_use() const { return in_use_; }
  SimMemory& mem() { return mem_; }
  const SimMemory& mem() const { return mem_; }

 private:
  SimMemory& mem_;
  std::vector<std::uint64_t> free_;
  std::vector<std::vector<std::uint64_t>> free_blocks_;  ///< by order
  std::uint64_t next_ = 1, in_use_ = 0;
};

}  // namespace vmref::impl
