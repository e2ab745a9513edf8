// Zephyr's own steps as mechanism events (spec/kernels/zephyr.md §10): the page-frame
// flags, backing-store slots, the store's page-in and page-out, and PTEs that hold a
// location. Applied verbatim, so that a kernel's fault and eviction paths replay step by
// step; INV-ZEPHYR-* and the core invariants judge the state each group leaves.
#include "zephyr_model.hpp"

namespace vmref::zephyr {

using namespace vmref::model;

FrameId ZephyrModel::step_frame(const std::string& label) const {
  FrameId f = core_.frame_label(label, true);
  if (f == kZeroFrame || f >= zephyr_.frames.size()) throw ModelError("frame", "'" + label + "' is no page frame of the kernel");
  return f;
}

std::uint64_t ZephyrModel::step_slot(std::uint64_t slot) const {
  if (slot >= zephyr_.slots.size())
    throw ModelError("slot", "the backing store has " + std::to_string(zephyr_.slots.size()) + " slots, not slot " +
                                 std::to_string(slot));
  return slot;
}

Vpn ZephyrModel::step_page(Va va) const {
  if (va & (page_size_ - 1)) throw ModelError("va", "is not page aligned");
  if (!spaces_.at(kKernelAs).vsl.find(va)) throw ModelError("va", "is in no k_mem_map region");
  return va >> page_shift_;
}

// k_mem_page_frame's va_and_flags, written whole.
Outcome ZephyrModel::zephyr_frame(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<FrameFlagsArgs>();
  FrameId f = step_frame(a.frame);
  if (a.va & (page_size_ - 1)) throw ModelError("va", "is not page aligned");
  zephyr_.frames[f] = {a.mapped, a.pinned, a.busy, a.backed, a.va};
  delta_.frames.push_back(f);
  return {};
}

// location_get / location_free of the RAM store. A slot taken holds nothing written yet.
Outcome ZephyrModel::zephyr_slot(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<SlotArgs>();
  Slot& s = zephyr_.slots[step_slot(a.slot)];
  s.used = a.used;
  if (a.used) s.data = kStaleSlot;
  return {};
}

// backing_store_page_out: the slot now holds what the frame holds.
Outcome ZephyrModel::zephyr_page_out(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<PageOutArgs>();
  zephyr_.slots[step_slot(a.slot)].data = stamp_of(step_frame(a.frame));
  return {};
}

// backing_store_page_in: the frame now holds what the page's location holds. A page
// brought in counts as touched (INV-ZEPHYR-2).
Outcome ZephyrModel::zephyr_page_in(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<PageInArgs>();
  FrameId f = step_frame(a.frame);
  Vpn vpn = step_page(a.va);
  auto loc = zephyr_.paged_out.find(vpn);
  if (loc == zephyr_.paged_out.end()) throw ModelError("va", "the page holds no location (it is not paged out)");
  PageContents data = zephyr_.data_at(loc->second);
  frames_[f].content = data.content;
  frames_[f].version = data.version;
  zephyr_.touched.insert(vpn);
  delta_.ranges.push_back({kKernelAs, vpn, 1});
  delta_.frames.push_back(f);
  return {};
}

// arch_mem_page_out (or an on-demand page's first token): the PTE drops its frame, if it
// had one (CPUs may keep it cached until a flush), and holds the location.
Outcome ZephyrModel::zephyr_location(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<LocationArgs>();
  Vpn vpn = step_page(a.va);
  Location l;  // checked before anything changes
  if (a.slot) l = {Location::slot, step_slot(*a.slot)};
  else l.kind = a.uninit ? Location::anon_uninit : Location::anon_zero;
  remove_pte(spaces_.at(kKernelAs), vpn);
  zephyr_.paged_out[vpn] = l;
  delta_.ranges.push_back({kKernelAs, vpn, 1});
  return {};
}

}  // namespace vmref::zephyr
