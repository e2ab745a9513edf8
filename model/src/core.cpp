// The shared core: construction and the mechanisms every operation shares (PTE
// install/remove with the reverse map, frame get/put, TLB shootdown, deferred release).
#include <algorithm>
#include <bit>

#include "vmref/model/core.hpp"
#include "vmref/model/layer.hpp"

namespace vmref::model {

Core::Core(const CoreConfig& cfg)
    : config(cfg), page_size(cfg.page_size),
      page_shift(static_cast<unsigned>(std::countr_zero(cfg.page_size))),
      geometry{page_shift, page_shift - 3},
      frames(cfg.frames, cfg.fifo_frames) {
  if (cfg.cpus == 0 || cfg.cpus > 4096) throw std::invalid_argument("cpus must be in 1..4096");
  if (cfg.page_size < 4096 || !std::has_single_bit(cfg.page_size))
    throw std::invalid_argument("page_size must be a power of two >= 4096");
  cpus.resize(cfg.cpus);
  frames.watch_held(&held_index);
  objects.emplace_back();  // ObjectId 0 = anonymous private, no object
}

const AddressSpace* Core::space(Asid as) const {
  auto it = spaces.find(as);
  return it == spaces.end() ? nullptr : &it->second;
}

AddressSpace& Core::space_of(Asid as, const char* field) {
  auto it = spaces.find(as);
  if (it == spaces.end())
    throw ModelError(field, "address space " + std::to_string(as) + " does not exist");
  return it->second;
}

void Core::need_cpu(int cpu, const char* field) const {
  if (cpu < 0 || static_cast<std::size_t>(cpu) >= cpus.size())
    throw ModelError(field, "cpu " + std::to_string(cpu) + " out of range");
}

std::uint64_t Core::page_round(std::uint64_t len) const {
  if (len > UINT64_MAX - (page_size - 1)) return 0;
  return (len + page_size - 1) & ~(page_size - 1);
}

FrameId Core::frame_label(const std::string& label, bool must_exist) const {
  if (label == "zero") return kZeroFrame;
  if (label == "huge_zero") {
    if (huge_zero == kNoFrame && must_exist)
      throw ModelError("frame", "the huge zero page has not been mapped yet (a pte_set maps it first)");
    return huge_zero;
  }
  auto it = labels.find(label);
  if (it == labels.end() || frames[it->second.first].generation != it->second.second) {
    if (must_exist)
      throw ModelError("frame", "unknown frame label '" + label +
                                    "' (frame_alloc it first; a label ends when its frame is freed and reused)");
    return kNoFrame;
  }
  return it->second.first;
}

FrameId Core::huge_zero_frame() {
  if (huge_zero != kNoFrame) return huge_zero;
  auto f = frames.alloc(Content::zero, geometry.entry_bits);
  if (!f) throw ModelError("frame", "no room for the huge zero page (" + std::to_string(std::uint64_t{1} << geometry.entry_bits) +
                                        " free pages needed)");
  frames[*f].zero_page = true;
  frames[*f].fresh = false;  // its one reference is the kernel's own, as the zero page's
  delta.frames.push_back(*f);
  return huge_zero = *f;
}

void Core::set_frame_label(const std::string& label, FrameId f) {
  if (labels.size() >= label_sweep_at) {
    std::erase_if(labels, [&](const auto& kv) { return frames[kv.second.first].generation != kv.second.second; });
    label_sweep_at = std::max<std::size_t>(4096, 2 * labels.size());
  }
  labels[label] = {f, frames[f].generation};
}

void Core::note_superseded(Asid as, Vpn vpn, const Pte& old) {
  Held h{old.frame, old.prot, old.global, old.generation, old.order, old.page};
  for (std::size_t i = 0; i < cpus.size(); ++i) {
    if (old.local_cpu >= 0 && static_cast<std::size_t>(old.local_cpu) != i) continue;
    CpuTlb& c = cpus[i];
    bool cached = false;
    c.each_tag_of(as, [&](Tag t) {  // once per tag it may be cached under
      h.tag = t;
      c.add_stale(as, vpn, h, held_index);
      cached = true;
    });
    if (!cached && old.global && c.global_loaded.count(as)) {  // only as a global entry
      h.tag = kSpaceTag;
      c.add_stale(as, vpn, h, held_index);
    }
  }
}

void Core::install_pte(AddressSpace& s, Vpn vpn, const Pte& pte) {
  note_locked_change(s.asid, vpn);
  remove_pte(s, vpn);
  Frame& f = frames[pte.frame];
  Pte& p = s.gpt[vpn] = pte;
  p.generation = f.generation;  // the allocation this PTE maps (INV-GPT-3)
  f.fresh = false;
  if (pte.fault_around) ++f.fault_around_maps;
  if (pte.frame == kZeroFrame) ++f.zero_mapcount;
  else f.mappers.emplace_back(s.asid, vpn);
  delta.ranges.push_back({s.asid, vpn, 1});
  delta.frames.push_back(pte.frame);
}

FrameId Core::remove_pte(AddressSpace& s, Vpn vpn) {
  auto it = s.gpt.find(vpn);
  if (it == s.gpt.end()) return kNoFrame;
  note_locked_change(s.asid, vpn);
  FrameId fid = it->second.frame;
  if (it->second.fault_around && frames[fid].fault_around_maps) --frames[fid].fault_around_maps;
  note_superseded(s.asid, vpn, it->second);
  s.gpt.erase(it);
  Frame& f = frames[fid];
  if (fid == kZeroFrame) {
    if (f.zero_mapcount) --f.zero_mapcount;
  } else {
    auto m = std::find(f.mappers.begin(), f.mappers.end(), std::pair{s.asid, vpn});
    if (m != f.mappers.end()) {
      *m = f.mappers.back();
      f.mappers.pop_back();
    }
  }
  delta.ranges.push_back({s.asid, vpn, 1});
  delta.frames.push_back(fid);
  return fid;
}

void Core::need_new_pin(const std::string& handle, const char* field) const {
  if (handle.empty()) throw ModelError(field, "a pin needs a handle name");
  if (pins.count(handle)) throw ModelError(field, "pin handle '" + handle + "' is already in use");
}

void Core::add_pin(const std::string& handle, FrameId f, const PinRef& r, const char* field) {
  need_new_pin(handle, field);
  pins[handle] = {f, frames[f].generation, r};
  frames[f].pins.push_back(r);
  frames[f].fresh = false;
  delta.frames.push_back(f);
}

FrameId Core::remove_pin(const std::string& handle, const char* field) {
  auto it = pins.find(handle);
  if (it == pins.end()) throw ModelError(field, "unknown pin handle '" + handle + "'");
  auto [f, gen, ref] = it->second;
  pins.erase(it);
  Frame& fr = frames[f];
  // A pin whose frame was freed and reallocated since left nothing on the new allocation.
  if (fr.generation == gen) {
    auto p = std::find(fr.pins.begin(), fr.pins.end(), ref);
    if (p != fr.pins.end()) fr.pins.erase(p);
  }
  delta.frames.push_back(f);
  return f;
}

void Core::add_holder(FrameId f, const std::string& holder) {
  Frame& fr = frames[f];
  auto it = std::find_if(fr.holders.begin(), fr.holders.end(), [&](const auto& h) { return h.first == holder; });
  if (it == fr.holders.end()) fr.holders.emplace_back(holder, 1);
  else ++it->second;
  ++fr.held_refs;
  fr.fresh = false;
  delta.frames.push_back(f);
}

void Core::drop_holder(FrameId f, const std::string& holder) {
  Frame& fr = frames[f];
  auto it = std::find_if(fr.holders.begin(), fr.holders.end(), [&](const auto& h) { return h.first == holder; });
  if (it == fr.holders.end())
    throw ModelError("holder", "'" + holder + "' holds no reference on this frame (frame_ref it first)");
  if (--it->second == 0) fr.holders.erase(it);
  --fr.held_refs;
  delta.frames.push_back(f);
}

// The zero page is never reference counted: it is reserved and never freed (spec/vmm.md §1.5).
void Core::get_frame(FrameId f) {
  if (frames[f].zero_page) return;
  ++frames[f].refcount;
  delta.frames.push_back(f);
}

void Core::put_frame(FrameId f) {
  if (frames[f].zero_page) return;
  Frame& fr = frames[f];
  if (fr.refcount > 0) --fr.refcount;
  if (fr.refcount == 0) frames.release(f);
  delta.frames.push_back(f);
}

void Core::shootdown(Asid as, Vpn first, std::uint64_t count) {
  for (CpuTlb& c : cpus) c.flush_range(as, first, count, true, held_index);
  release_pending();
}

void Core::release_pending() {
  // A deferred frame goes once no CPU may still hold a translation to it (spec/vmm.md §3.3).
  std::vector<FrameId> still;
  for (FrameId f : pending) {
    if (f < held_index.size() && held_index[f] > 0) {
      still.push_back(f);
      continue;
    }
    Frame& fr = frames[f];
    while (fr.mmu_gather > 0) {
      --fr.mmu_gather;
      put_frame(f);
    }
  }
  pending = std::move(still);
}

void Core::unmap_ptes(AddressSpace& s, Va start, Va end, TlbMode mode) {
  Vpn first = start >> page_shift, last = end >> page_shift;
  std::vector<FrameId> dropped;
  for (auto it = s.gpt.lower_bound(first); it != s.gpt.end() && it->first < last;) {
    Vpn vpn = (it++)->first;
    dropped.push_back(remove_pte(s, vpn));
  }
  delta.ranges.push_back({s.asid, first, last - first});
  if (dropped.empty()) return;
  switch (mode) {
    case TlbMode::sync:  // shootdown first, then the frames may go (Linux tlb_finish_mmu)
      shootdown(s.asid, first, last - first);
      for (FrameId f : dropped) put_frame(f);
      break;
    case TlbMode::deferred:  // frames stay referenced until a covering flush
      for (FrameId f : dropped) {
        if (f == kZeroFrame) continue;
        ++frames[f].mmu_gather;  // the PTE's reference moves to the gather
        if (std::find(pending.begin(), pending.end(), f) == pending.end()) pending.push_back(f);
      }
      break;
    case TlbMode::none:  // the kernel under test skipped the flush: frames go at once
      for (FrameId f : dropped) put_frame(f);
      break;
  }
}

void Core::note_locked_change(Asid as, Vpn vpn) {
  for (auto& [name, l] : locks)
    if (l.cpu == acting_cpu) l.changed.emplace_back(as, vpn);
}

std::vector<unsigned> Core::cpus_holding_stale(Asid as, Vpn vpn) const {
  const AddressSpace* s = space(as);
  const Pte* p = nullptr;
  if (s)
    if (auto it = s->gpt.find(vpn); it != s->gpt.end()) p = &it->second;
  std::vector<unsigned> out;
  for (unsigned c = 0; c < cpus.size(); ++c) {
    auto it = cpus[c].stale().find({as, vpn});
    if (it == cpus[c].stale().end()) continue;
    for (const Held& h : it->second)
      if (!p || p->frame != h.frame || p->generation != h.generation || !h.prot.subset_of(p->prot)) {
        out.push_back(c);
        break;
      }
  }
  return out;
}

void Core::set_root(AddressSpace& s, FrameId t, unsigned level) {
  s.tables.root_level = level;
  s.tables.roots.push_back({t, frames[t].generation, false});
  frames[t].links.push_back({s.asid, level, 0, true, false, ++link_seq});
  frames[t].fresh = false;  // the link takes the allocation's reference
  delta.frames.push_back(t);
  delta.tables = true;
}

void Core::drop_link(FrameId t, const TableLink& l) {
  auto& ls = frames[t].links;
  auto it = std::find_if(ls.begin(), ls.end(), [&](const TableLink& x) { return x.same_place(l); });
  if (it != ls.end()) ls.erase(it);
  delta.frames.push_back(t);
}

void Core::link_table(AddressSpace& s, unsigned level, Va va, FrameId t, bool shared) {
  auto [first, count] = geometry.range_of(level, va);
  unlink_table(s, level, va);
  s.tables.linked[{level, first}] = {t, frames[t].generation, shared};
  frames[t].links.push_back({s.asid, level, first, false, shared, ++link_seq});
  frames[t].fresh = false;
  delta.frames.push_back(t);
  delta.ranges.push_back({s.asid, first, count});
  delta.tables = true;
}

bool Core::unlink_table(AddressSpace& s, unsigned level, Va va) {
  auto [first, count] = geometry.range_of(level, va);
  auto& linked = s.tables.linked;
  if (!linked.count({level, first})) return false;
  Vpn last = first + count;  // the tables below lie in [first, last) at lower levels
  std::uint64_t now = ++link_seq;
  for (auto it = linked.begin(); it != linked.end();) {
    auto [lv, lo] = it->first;
    bool below = lv < level && lo >= first && (last == 0 || lo < last);
    if (!(lv == level && lo == first) && !below) {
      ++it;
      continue;
    }
    const TableSlot old = it->second;
    Vpn end = lo + geometry.range_of(lv, lo << page_shift).second;
    const CpuTlb::WalkKey key{s.asid, lo, lv};
    for (CpuTlb& c : cpus)  // a CPU that ran `s` may have cached the walk (Intel SDM Vol 3A §4.10.3)
      c.each_tag_of(s.asid, [&](Tag t) { c.add_stale_walk(key, {old.table, old.generation, end, now, t}); });
    drop_link(old.table, {s.asid, lv, lo, false, old.shared});
    it = linked.erase(it);
  }
  delta.ranges.push_back({s.asid, first, count});
  delta.tables = true;
  return true;
}

void Core::destroy_space(Asid as) {
  for (KernelLayer* l : layers) l->before_destroy(as);
  AddressSpace& s = space_of(as);
  // Its tables stop being linked; freeing them is the kernel's (left allocated, INV-FRAME-1).
  for (const auto& [key, slot] : s.tables.linked) drop_link(slot.table, {as, key.first, key.second, false, slot.shared});
  for (const TableSlot& r : s.tables.roots) drop_link(r.table, {as, s.tables.root_level, 0, true, false});
  unmap_range(s, 0, UINT64_MAX & ~(page_size - 1), TlbMode::sync);
  for (CpuTlb& c : cpus) {
    if (c.current == as) {
      c.current = 0;
      c.current_tag = kSpaceTag;
    }
    c.flush_asid(as, true, held_index);
  }
  release_pending();
  spaces.erase(as);
  delta.all = true;
}

void Core::drop_vseg_object(const Vseg& v) {
  if (v.object == kNoObject) return;
  Object& o = objects[v.object];
  // Counted by a scan rather than a counter: splits and merges copy vsegs freely.
  if (o.shmem && o.live && !object_mapped(v.object)) {
    for (auto& [idx, f] : o.cache) {
      frames[f].cached = false;
      put_frame(f);
    }
    o.cache.clear();
    o.live = false;
    free_shmem_.push_back(v.object);  // its slot serves the next shared mapping
  }
}

bool Core::object_mapped(ObjectId obj) const {
  for (const auto& [as, s] : spaces)
    for (const auto& [start, v] : s.vsl.map())
      if (v.object == obj) return true;
  return false;
}

void Core::unmap_range(AddressSpace& s, Va start, Va end, TlbMode mode) {
  for (const Vseg& v : s.vsl.remove_range(start, end, page_size)) {
    unmap_ptes(s, v.start, v.end, mode);
    drop_vseg_object(v);
  }
  delta.spaces.push_back(s.asid);
}

ObjectId Core::object_for(const FileRef& f) {
  auto it = file_objects_.find(f.id);
  if (it != file_objects_.end()) return it->second;
  Object o;
  o.id = f.id;
  o.path = f.path;
  if (f.size) o.pages = (*f.size + page_size - 1) >> page_shift;
  objects.push_back(o);
  auto id = static_cast<ObjectId>(objects.size() - 1);
  file_objects_[f.id] = id;
  return id;
}

ObjectId Core::new_shmem(std::uint64_t pages) {
  Object o;
  o.shmem = true;
  o.pages = pages;  // shared anonymous memory is a shmem file of the mapping's size
  if (!free_shmem_.empty()) {  // reuse a dead one's slot: memory stays bounded
    ObjectId id = free_shmem_.back();
    free_shmem_.pop_back();
    objects[id] = o;
    return id;
  }
  objects.push_back(o);
  return static_cast<ObjectId>(objects.size() - 1);
}

}  // namespace vmref::model
