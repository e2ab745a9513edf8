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

std::uint64_t FramePool::alloc_block(unsigned order) {
  std::uint64_t n = std::uint64_t{1} << order;
  in_use_ += n;
  if (free_blocks_.size() > order && !free_blocks_[order].empty()) {
    std::uint64_t pfn = free_blocks_[order].back();
    free_blocks_[order].pop_back();
    mem_.zero(pfn);
    return pfn;
  }
  std::uint64_t pfn = (next_ + n - 1) & ~(n - 1);
  for (; next_ < pfn; ++next_) {  // the gap below the aligned block serves single frames
    mem_.page(next_);
    free_.push_back(next_);
  }
  mem_.page(pfn);
  next_ = pfn + n;
  return pfn;
}

void FramePool::free_block(std::uint64_t pfn, unsigned order) {
  in_use_ -= std::uint64_t{1} << order;
  if (free_blocks_.size() <= order) free_blocks_.resize(order + 1);
  free_blocks_[order].push_back(pfn);
}

void FramePool::free(std::uint64_t pfn) {
  --in_use_;
  free_.push_back(pfn);
}

}  // namespace vmref::impl
