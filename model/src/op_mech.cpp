// Mechanism events (spec/vmm.md §2.14): steps a kernel under test reports. The model
// applies them verbatim, with no policy of its own, and the invariants judge the state.
#include <algorithm>

#include "vmref/model/model.hpp"

namespace vmref::model {

FrameId Model::frame_label(const Event& e, bool must_exist) {
  if (e.label == "zero") return kZeroFrame;
  auto it = labels_.find(e.label);
  if (it == labels_.end()) {
    if (must_exist) throw ModelError("frame", "unknown frame label '" + e.label + "' (frame_alloc it first)");
    return kNoFrame;
  }
  return it->second;
}

Outcome Model::vseg_insert(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  Vseg v;
  v.start = e.addr;
  v.end = e.addr + e.len;
  v.prot = e.prot;
  v.kind = e.vkind;
  v.shared = e.shared;
  v.name = e.name;
  v.flags.bits = e.vm_flags.bits;
  if (e.file) {
    v.object = object_for(*e.file);
    v.pgoff = e.offset >> page_shift_;
    v.flags.maywrite = !e.shared || e.file->fd_writable;
  } else {
    v.object = e.shared ? new_shmem(e.len >> page_shift_) : kNoObject;
    v.pgoff = e.shared ? 0 : e.addr >> page_shift_;
  }
  // A snapshot shows that an owner exists, never which other vsegs share it.
  if (e.anon_vma.value_or(false)) v.anon_id = fresh_anon_id();
  v.anon_known = e.anon_vma.has_value() && !*e.anon_vma;
  s.vsl.insert(v);
  delta_.spaces.push_back(s.asid);
  delta_.ranges.push_back({s.asid, v.start >> page_shift_, (v.end - v.start) >> page_shift_});
  return {};
}

Outcome Model::vseg_remove(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  const Vseg* v = s.vsl.starting_at(e.addr);
  if (!v) throw ModelError("addr", "no vseg starts at this address");
  Vseg gone = *v;
  s.vsl.erase(e.addr);
  drop_vseg_object(gone);
  delta_.spaces.push_back(s.asid);
  delta_.ranges.push_back({s.asid, gone.start >> page_shift_, (gone.end - gone.start) >> page_shift_});
  return {};
}

Outcome Model::pte_set(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  Pte p;
  p.frame = frame_label(e, true);
  p.prot = e.prot;
  p.cow = e.cow;
  p.global = e.global;
  install_pte(s, e.addr >> page_shift_, p);
  return {};
}

Outcome Model::pte_clear(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  if (remove_pte(s, e.addr >> page_shift_) == kNoFrame)
    throw ModelError("addr", "no PTE is set at this address");
  return {};
}

Outcome Model::frame_event(const Event& e) {
  if (e.label.empty() || e.label == "zero") throw ModelError("frame", "a frame label (not \"zero\") is required");
  if (e.op == Op::frame_alloc) {
    FrameId old = frame_label(e, false);
    if (old != kNoFrame && frames_[old].allocated)
      throw ModelError("frame", "frame label '" + e.label + "' names a live frame");
    auto f = frames_.alloc(Content::zero);
    if (!f) return {Err::enomem};
    labels_[e.label] = *f;
    delta_.frames.push_back(*f);
    Outcome o;
    o.frame = *f;
    return o;
  }
  FrameId f = frame_label(e, true);
  switch (e.op) {
    case Op::frame_get: get_frame(f); break;
    case Op::frame_put: put_frame(f); break;
    default: frames_.release(f); delta_.frames.push_back(f); break;  // frame_free
  }
  return {};
}

Outcome Model::va_list_event(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  VaRange r{e.addr, e.addr + e.len};
  auto& list = s.va_lists[e.size_class];
  if (e.op == Op::va_release) {
    list.push_back(r);
  } else {
    auto it = std::find(list.begin(), list.end(), r);
    if (it == list.end()) throw ModelError("addr", "range is not on allocator list " + std::to_string(e.size_class));
    list.erase(it);
    delta_.reuses.push_back({e.size_class, e.request_class});
  }
  delta_.spaces.push_back(s.asid);
  return {};
}

}  // namespace vmref::model
