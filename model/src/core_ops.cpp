// Address-space lifetime, context switches and TLB flushes (spec/vmm.md §2.1-§2.3, §3.2).
#include "core_layer.hpp"
#include "vmref/vocab/core_ops.hpp"

namespace vmref::model {

using vocab::AsCreateArgs;
using vocab::SpaceArgs;
using vocab::SwitchArgs;
using vocab::TlbFlushArgs;

// §2.1
Outcome CoreLayer::as_create(const Event& e) {
  const auto& a = e.get<AsCreateArgs>();
  if (a.as == 0) throw ModelError("as", "address space id 0 is reserved");
  if (spaces_.count(a.as)) throw ModelError("as", "address space " + std::to_string(a.as) + " already exists");
  AddressSpace& s = spaces_[a.as];
  s.asid = a.as;
  if (a.brk) {  // heap start known (Linux mm->start_brk)
    s.has_brk = true;
    s.brk_start = s.brk = a.brk;
  }
  delta_.spaces.push_back(a.as);
  return {};
}

// §2.5: an observation changes nothing, but must name a live address space.
Outcome CoreLayer::observe(const Event& e) {
  Asid as = e.get<SpaceArgs>().as;
  if (!spaces_.count(as)) throw ModelError("as", "no address space " + std::to_string(as) + " to observe");
  return {};
}

// §2.2
Outcome CoreLayer::as_destroy(const Event& e) {
  core_.destroy_space(e.get<SpaceArgs>().as);
  return {};
}

// §2.3: the CPU now runs `as` (through `root`, under `tag`); it may prefetch any valid
// translation of it.
Outcome CoreLayer::switch_as(const Event& e) {
  core_.need_cpu(e.cpu);
  const auto& a = e.get<SwitchArgs>();
  AddressSpace& s = space_of(a.as);
  CpuTlb& c = cpus_[e.cpu];
  TagUse use{s.asid};
  if (!a.root.empty()) {
    FrameId r = core_.frame_label(a.root, false);
    const TableSlot* slot = r == kNoFrame ? nullptr : s.tables.root_of(r);
    if (!slot) throw ModelError("root", "'" + a.root + "' is no root table of address space " + std::to_string(a.as));
    use.root = r;
    use.root_generation = slot->generation;
  }
  if (a.tag) {
    if (auto was = c.load_tag(*a.tag, use, a.flush, held_index_))
      delta_.retagged.push_back({static_cast<unsigned>(e.cpu), *a.tag, *was, use});
  } else {
    c.load_space(s.asid, a.flush, held_index_);
  }
  if (a.flush) release_flushed();
  return {};
}

// §3.3: frames still in a TLB stay pending; the rest go.
void CoreLayer::release_flushed() {
  for (FrameId f : core_.pending) delta_.frames.push_back(f);
  release_pending();
}

// §3.2
Outcome CoreLayer::tlb_flush(const Event& e) {
  const auto& a = e.get<TlbFlushArgs>();
  if (!a.broadcast && (e.cpu < 0 || static_cast<std::size_t>(e.cpu) >= cpus_.size()))
    throw ModelError("cpu", "a local flush needs a cpu in range");
  if (a.scope != FlushScope::all) space_of(a.as);
  for (std::size_t i = 0; i < cpus_.size(); ++i) {
    if (!a.broadcast && static_cast<int>(i) != e.cpu) continue;
    CpuTlb& c = cpus_[i];
    switch (a.scope) {
      case FlushScope::all: c.flush_all(held_index_); break;
      case FlushScope::asid: c.flush_asid(a.as, a.with_global, held_index_, a.tag); break;
      case FlushScope::range:
        c.flush_range(a.as, a.va >> page_shift_,
                      ((a.va + a.len + page_size_ - 1) >> page_shift_) - (a.va >> page_shift_),
                      a.with_global, held_index_, a.tag);
        break;
    }
  }
  release_flushed();
  return {};
}

}  // namespace vmref::model
