// The core's own operations (spec/vmm.md §2, §3.2): address-space lifetime, context
// switches, TLB flushes, observations, and the mechanism steps a kernel under test
// reports (§2.6), which the model applies verbatim.
#pragma once

#include "vmref/model/layer.hpp"

namespace vmref::model {

class CoreLayer : public KernelLayer {
 public:
  using KernelLayer::KernelLayer;
  // core_ops.cpp
  Outcome as_create(const Event& e);
  Outcome as_destroy(const Event& e);
  Outcome switch_as(const Event& e);
  Outcome tlb_flush(const Event& e);
  Outcome observe(const Event& e);
  // mechanism.cpp
  Outcome vseg_insert(const Event& e);
  Outcome vseg_remove(const Event& e);
  Outcome pte_set(const Event& e);
  Outcome pte_clear(const Event& e);
  Outcome frame_event(const Event& e);
  Outcome frame_ref(const Event& e);
  Outcome frame_pin(const Event& e);
  Outcome frame_unpin(const Event& e);
  Outcome va_list_event(const Event& e);
  // mechanism_tables.cpp
  Outcome pt_root(const Event& e);
  Outcome pt_link(const Event& e);
  Outcome pt_unlink(const Event& e);
  // mechanism_sync.cpp
  Outcome lock_event(const Event& e);
  Outcome call_return(const Event& e);
  Outcome tlb_pending(const Event& e);

 private:
  FrameId table_frame(const std::string& label) const;
  std::uint8_t leaf_order(std::uint64_t size) const;
  /// After a flush: frames it was the last holder of go (§3.3), and the checks see them.
  void release_flushed();
};

}  // namespace vmref::model
