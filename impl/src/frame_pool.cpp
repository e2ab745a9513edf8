#include "vmref/impl/frame_pool.hpp"

namespace vmref::impl {

std::uint64_t FramePool::alloc() {
  ++in_use_;
  if (free_.empty()) {
    mem_.page(next_);
    return next_++;
  }
  std::uint64_t pfn = free_.back();
  free_.pop_back();
  mem_.zero(pfn);
  return pfn;
}

void FramePool::free(std::uint64_t pfn) {
  --in_use_;
  free_.push_back(pfn);
}

}  // namespace vmref::impl
