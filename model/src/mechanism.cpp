// Mechanism events (spec/vmm.md §2.6): steps a kernel under test reports. The model
// applies them verbatim, with no policy of its own, and the invariants judge the state.
#include <algorithm>
#include <bit>

#include "core_layer.hpp"
#include "vmref/vocab/core_ops.hpp"

namespace vmref::model {

using namespace vmref::vocab;

Outcome CoreLayer::vseg_insert(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<VsegInsertArgs>();
  AddressSpace& s = space_of(a.as);
  Vseg v;
  v.start = a.start;
  v.end = a.end;
  v.prot = a.prot;
  v.kind = a.kind;
  v.shared = a.shared;
  v.name = a.name;
  v.flags.bits = a.flags.bits;
  if (a.file) {
    v.object = core_.object_for(*a.file);
    v.pgoff = a.offset >> page_shift_;
    v.flags.maywrite = !a.shared || a.file->fd_writable;
  } else {
    v.object = a.shared ? core_.new_shmem((a.end - a.start) >> page_shift_) : kNoObject;
    v.pgoff = a.shared ? 0 : a.start >> page_shift_;
  }
  // A snapshot shows that an owner exists, never which other vsegs share it.
  if (a.anon_vma.value_or(false)) v.anon_id = core_.fresh_anon_id();
  v.anon_known = a.anon_vma.has_value() && !*a.anon_vma;
  s.vsl.insert(v);
  delta_.spaces.push_back(s.asid);
  delta_.ranges.push_back({s.asid, v.start >> page_shift_, (v.end - v.start) >> page_shift_});
  return {};
}

Outcome CoreLayer::vseg_remove(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<VsegRemoveArgs>();
  AddressSpace& s = space_of(a.as);
  const Vseg* v = s.vsl.starting_at(a.start);
  if (!v) throw ModelError("addr", "no vseg starts at this address");
  Vseg gone = *v;
  s.vsl.erase(a.start);
  core_.drop_vseg_object(gone);
  delta_.spaces.push_back(s.asid);
  delta_.ranges.push_back({s.asid, gone.start >> page_shift_, (gone.end - gone.start) >> page_shift_});
  return {};
}

// A leaf of `size` bytes spans page_size * E^k (spec/vmm.md §1.8): 2^order pages.
std::uint8_t CoreLayer::leaf_order(std::uint64_t size) const {
  if (size == 0 || size == page_size_) return 0;
  const TableGeometry& g = core_.geometry;
  for (unsigned k = 1; g.table_shift(k) < 64; ++k)
    if (size == std::uint64_t{1} << g.table_shift(k)) return static_cast<std::uint8_t>(k * g.entry_bits);
  throw ModelError("size", "a leaf spans one page or one table entry of a higher level (page_size * " +
                               std::to_string(std::uint64_t{1} << g.entry_bits) + "^k bytes)");
}

Outcome CoreLayer::pte_set(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<PteSetArgs>();
  AddressSpace& s = space_of(a.as);
  Pte p;
  p.frame = a.frame == "huge_zero" ? core_.huge_zero_frame() : core_.frame_label(a.frame, true);
  p.prot = a.prot;
  p.cow = a.cow;
  p.global = a.global;
  p.order = leaf_order(a.size);
  p.page = a.page;  // whether the leaf fits its frame is INV-GPT-4's to judge
  if (a.local) p.local_cpu = e.cpu;
  if (a.va & ((page_size_ << p.order) - 1)) throw ModelError("va", "is not aligned to the leaf's size");
  install_pte(s, a.va >> page_shift_, p);
  for (KernelLayer* l : core_.layers) l->pte_installed(a.as, a.va >> page_shift_);
  return {};
}

Outcome CoreLayer::pte_clear(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<PteClearArgs>();
  AddressSpace& s = space_of(a.as);
  if (remove_pte(s, a.va >> page_shift_) == kNoFrame) throw ModelError("addr", "no PTE is set at this address");
  return {};
}

Outcome CoreLayer::frame_event(const Event& e) {
  check_step_cpu(e);
  const std::string& label = e.get<FrameArgs>().frame;
  if (label.empty() || label == "zero" || label == "huge_zero")
    throw ModelError("frame", "a frame label (not \"zero\" or \"huge_zero\") is required");
  if (e.op == &ops::frame_alloc) {
    FrameId old = core_.frame_label(label, false);
    if (old != kNoFrame && frames_[old].allocated)
      throw ModelError("frame", "frame label '" + label + "' names a live frame");
    std::uint64_t bytes = e.get<FrameArgs>().size;
    if (bytes && (bytes < page_size_ || (bytes & (bytes - 1)) || bytes / page_size_ > (1u << 18)))
      throw ModelError("size", "a compound frame is page_size × 2^k bytes, k <= 18");
    auto f = frames_.alloc(Content::zero, bytes ? static_cast<unsigned>(std::countr_zero(bytes / page_size_)) : 0);
    if (!f) return {Err::enomem};
    core_.set_frame_label(label, *f);
    delta_.frames.push_back(*f);
    Outcome o;
    o.frame = *f;
    return o;
  }
  FrameId f = core_.frame_label(label, true);
  if (e.op == &ops::frame_get) get_frame(f);
  else if (e.op == &ops::frame_put) put_frame(f);
  else {  // frame_free
    frames_.release(f);
    delta_.frames.push_back(f);
  }
  return {};
}

Outcome CoreLayer::frame_ref(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<FrameRefArgs>();
  FrameId f = core_.frame_label(a.frame, true);
  if (frames_[f].zero_page) throw ModelError("frame", "a zero page is not reference counted");
  if (e.op == &ops::frame_ref) core_.add_holder(f, a.holder);
  else core_.drop_holder(f, a.holder);
  return {};
}

Outcome CoreLayer::frame_pin(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<FramePinArgs>();
  AddressSpace& s = space_of(a.as);
  FrameId f = core_.frame_label(a.frame, true);
  if (frames_[f].zero_page) throw ModelError("frame", "a zero page cannot be pinned (a pin breaks COW first)");
  core_.add_pin(a.handle, f, {s.asid, a.va, a.write}, "handle");
  return {};
}

Outcome CoreLayer::frame_unpin(const Event& e) {
  check_step_cpu(e);
  core_.remove_pin(e.get<FrameUnpinArgs>().handle, "handle");
  return {};
}

Outcome CoreLayer::va_list_event(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<VaListArgs>();
  AddressSpace& s = space_of(a.as);
  VaRange r{a.addr, a.addr + a.len};
  auto& list = s.va_lists[a.list];
  if (e.op == &ops::va_release) {
    list.push_back(r);
  } else {
    auto it = std::find(list.begin(), list.end(), r);
    if (it == list.end()) throw ModelError("addr", "range is not on allocator list " + std::to_string(a.list));
    list.erase(it);
    delta_.reuses.push_back({a.list, a.request_class});
  }
  delta_.spaces.push_back(s.asid);
  return {};
}

}  // namespace vmref::model
