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
  zero.refcount = 1;  // the kernel's own permanent reference
  frames_.push_back(zero);
}

std::optional<FrameId> FrameTable::alloc(Content c) {
  if (in_use_ >= capacity_) return std::nullopt;
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
  ++in_use_;
  return id;
}

void FrameTable::release(FrameId id) {
  Frame& f = frames_[id];
  if (!f.allocated || id == kZeroFrame) return;
  f.allocated = false;  // mappers stay: PTEs still naming a freed frame are INV-GPT-3
  free_.push_back(id);
  --in_use_;
}

}  // namespace vmref::model
