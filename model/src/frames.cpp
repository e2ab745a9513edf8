#include "vmref/model/frames.hpp"

namespace vmref::model {

const char* to_string(Content c) {
  switch (c) {
    case Content::zero: return "zero";
    case Content::uninit: return "uninit";
    case Content::file: return "file";
    case Content::data: return "data";
  }
  return "?";
}

FrameTable::FrameTable(std::uint64_t capacity, bool fifo) : fifo_(fifo), capacity_(capacity) {
  Frame zero;
  zero.allocated = true;
  zero.zero_page = true;
  zero.refcount = 1;  // the kernel's own permanent reference
  frames_.push_back(zero);
}

std::optional<FrameId> FrameTable::alloc(Content c, unsigned order) {
  std::uint64_t pages = std::uint64_t{1} << order;
  if (order >= 32 || in_use_ + pages > capacity_) return std::nullopt;
  FrameId id;
  bool fresh_left = frames_.size() <= capacity_;
  if (!free_.empty() && !(fifo_ && fresh_left)) {
    id = fifo_ ? free_.front() : free_.back();
    if (fifo_) free_.pop_front();
    else free_.pop_back();
  } else {
    id = static_cast<FrameId>(frames_.size());
    frames_.emplace_back();
  }
  Frame& f = frames_[id];
  Frame next;
  next.mappers = std::move(f.mappers);  // dangling PTEs still reach the frame
  next.links = std::move(f.links);      // so do dangling table links
  next.inherited = !next.mappers.empty();
  next.held_at_alloc = held_index_ && id < held_index_->size() && (*held_index_)[id] > 0;
  next.fault_around_maps = f.fault_around_maps;
  f = std::move(next);
  f.allocated = true;
  f.fresh = true;
  f.refcount = 1;
  f.content = c;
  f.generation = ++generations_;
  f.order = static_cast<std::uint8_t>(order);
  in_use_ += pages;
  return id;
}

std::vector<FrameId> FrameTable::free_order() const {
  std::vector<FrameId> fresh, reused(free_.rbegin(), free_.rend());  // LIFO: the last freed first
  for (FrameId id = static_cast<FrameId>(frames_.size()); id <= capacity_; ++id) fresh.push_back(id);
  if (fifo_) reused.assign(free_.begin(), free_.end());
  std::vector<FrameId>& first = fifo_ ? fresh : reused;  // alloc() prefers fresh frames only in FIFO mode
  std::vector<FrameId>& then = fifo_ ? reused : fresh;
  first.insert(first.end(), then.begin(), then.end());
  return first;
}

void FrameTable::release(FrameId id) {
  Frame& f = frames_[id];
  if (!f.allocated || f.zero_page) return;
  f.allocated = false;  // mappers stay: PTEs still naming a freed frame are INV-GPT-3
  free_.push_back(id);
  in_use_ -= std::uint64_t{1} << f.order;
}

}  // namespace vmref::model
