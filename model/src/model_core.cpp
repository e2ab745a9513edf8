// Model construction, dispatch and the mechanisms every operation shares
// (PTE install/remove with the reverse map, frame get/put, TLB shootdown).
#include <algorithm>
#include <bit>

#include "vmref/model/model.hpp"

namespace vmref::model {

Model::Model(Profile profile, unsigned cpus, std::uint64_t frame_capacity, std::uint64_t page_size)
    : profile_(std::move(profile)), page_size_(page_size), frames_(frame_capacity, profile_.zephyr.enabled) {
  if (cpus == 0 || cpus > 4096) throw std::invalid_argument("cpus must be in 1..4096");
  if (page_size < 4096 || !std::has_single_bit(page_size))
    throw std::invalid_argument("page_size must be a power of two >= 4096");
  page_shift_ = static_cast<unsigned>(std::countr_zero(page_size));
  cpus_.resize(cpus);
  objects_.emplace_back();  // ObjectId 0 = anonymous private, no object
  if (profile_.zephyr.enabled) zephyr_boot();
}

const AddressSpace* Model::space(Asid as) const {
  auto it = spaces_.find(as);
  return it == spaces_.end() ? nullptr : &it->second;
}

AddressSpace& Model::space_of(const Event&, Asid as, const char* field) {
  auto it = spaces_.find(as);
  if (it == spaces_.end())
    throw ModelError(field, "address space " + std::to_string(as) + " does not exist");
  return it->second;
}

Outcome Model::apply(const Event& e) {
  if (!continuing_) delta_.clear();
  continuing_ = e.cont;
  switch (e.op) {
    case Op::as_create: return as_create(e);
    case Op::as_destroy: return as_destroy(e);
    case Op::switch_as: return switch_as(e);
    case Op::mmap: return mmap(e);
    case Op::munmap: return munmap(e);
    case Op::mprotect: return mprotect(e);
    case Op::brk: return brk(e);
    case Op::fork: return fork(e);
    case Op::exec_reset: return exec_reset(e);
    case Op::access: return profile_.zephyr.enabled ? zephyr_access(e) : access(e);
    case Op::tlb_flush: return tlb_flush(e);
    case Op::pin: return pin(e);
    case Op::unpin: return unpin(e);
    case Op::observe: return {};
    case Op::stack_expand: return stack_expand(e);
    case Op::mremap: return mremap(e);
    case Op::madvise: return madvise(e);
    case Op::mlock:
    case Op::munlock: return mlock(e);
    case Op::mermap_prepare: return mermap_prepare(e);
    case Op::mermap_get: return mermap_get(e);
    case Op::mermap_put: return mermap_put(e);
    case Op::mermap_teardown: return mermap_teardown(e);
    case Op::k_mem_map: return k_mem_map(e);
    case Op::k_mem_unmap: return k_mem_unmap(e);
    case Op::k_mem_page_out: return k_mem_page_out(e);
    case Op::k_mem_page_in:
    case Op::k_mem_pin:
    case Op::k_mem_unpin: return k_mem_paging(e);
    case Op::k_mem_stat: return k_mem_stat(e);
    case Op::nru_tick: return nru_tick(e);
    case Op::almos_process: return almos_process(e);
    case Op::almos_vseg: return almos_vseg(e);
    case Op::almos_munmap: return almos_munmap(e);
    case Op::almos_access: return almos_access(e);
    case Op::almos_fork: return almos_fork(e);
    case Op::almos_exec: return almos_exec(e);
    case Op::almos_exit: return almos_exit(e);
    case Op::vseg_insert: return vseg_insert(e);
    case Op::vseg_remove: return vseg_remove(e);
    case Op::pte_set: return pte_set(e);
    case Op::pte_clear: return pte_clear(e);
    case Op::frame_alloc:
    case Op::frame_get:
    case Op::frame_put:
    case Op::frame_free: return frame_event(e);
    case Op::va_release:
    case Op::va_reuse: return va_list_event(e);
  }
  throw ModelError("op", "unhandled operation");
}

void Model::note_superseded(Asid as, Vpn vpn, const Pte& old) {
  Held h{old.frame, old.prot, old.global};
  for (std::size_t i = 0; i < cpus_.size(); ++i)
    if ((old.local_cpu < 0 || static_cast<std::size_t>(old.local_cpu) == i) && cpus_[i].may_have_cached(as, h))
      cpus_[i].add_stale(as, vpn, h, held_index_);
}

void Model::install_pte(AddressSpace& s, Vpn vpn, const Pte& pte) {
  remove_pte(s, vpn);
  s.gpt[vpn] = pte;
  Frame& f = frames_[pte.frame];
  if (pte.around) ++f.around_maps;
  if (pte.frame == kZeroFrame) ++f.zero_mapcount;
  else f.mappers.emplace_back(s.asid, vpn);
  delta_.ranges.push_back({s.asid, vpn, 1});
  delta_.frames.push_back(pte.frame);
}

FrameId Model::remove_pte(AddressSpace& s, Vpn vpn) {
  auto it = s.gpt.find(vpn);
  if (it == s.gpt.end()) return kNoFrame;
  FrameId fid = it->second.frame;
  if (it->second.around && frames_[fid].around_maps) --frames_[fid].around_maps;
  note_superseded(s.asid, vpn, it->second);
  s.gpt.erase(it);
  Frame& f = frames_[fid];
  if (fid == kZeroFrame) {
    if (f.zero_mapcount) --f.zero_mapcount;
  } else {
    auto m = std::find(f.mappers.begin(), f.mappers.end(), std::pair{s.asid, vpn});
    if (m != f.mappers.end()) {
      *m = f.mappers.back();
      f.mappers.pop_back();
    }
  }
  delta_.ranges.push_back({s.asid, vpn, 1});
  delta_.frames.push_back(fid);
  return fid;
}

// The zero page is never reference counted: it is reserved and never freed (spec §1.5).
void Model::get_frame(FrameId f) {
  if (f == kZeroFrame) return;
  ++frames_[f].refcount;
  delta_.frames.push_back(f);
}

void Model::put_frame(FrameId f) {
  if (f == kZeroFrame) return;
  Frame& fr = frames_[f];
  if (fr.refcount > 0) --fr.refcount;
  if (fr.refcount == 0) frames_.release(f);
  delta_.frames.push_back(f);
}

void Model::shootdown(Asid as, Vpn first, std::uint64_t count) {
  for (CpuTlb& c : cpus_) c.flush_range(as, first, count, true, held_index_);
  release_pending();
}

void Model::release_pending() {
  // A deferred frame goes once no CPU may still hold a translation to it (spec §3.3).
  std::vector<FrameId> still;
  for (FrameId f : pending_) {
    if (f < held_index_.size() && held_index_[f] > 0) {
      still.push_back(f);
      continue;
    }
    Frame& fr = frames_[f];
    while (fr.gather > 0) {
      --fr.gather;
      put_frame(f);
    }
  }
  pending_ = std::move(still);
}

void Model::unmap_ptes(AddressSpace& s, Va start, Va end, TlbMode mode) {
  Vpn first = start >> page_shift_, last = end >> page_shift_;
  std::vector<FrameId> dropped;
  for (auto it = s.gpt.lower_bound(first); it != s.gpt.end() && it->first < last;) {
    Vpn vpn = (it++)->first;
    dropped.push_back(remove_pte(s, vpn));
  }
  delta_.ranges.push_back({s.asid, first, last - first});
  if (dropped.empty()) return;
  switch (mode) {
    case TlbMode::sync:  // shootdown first, then the frames may go (Linux tlb_finish_mmu)
      shootdown(s.asid, first, last - first);
      for (FrameId f : dropped) put_frame(f);
      break;
    case TlbMode::deferred:  // frames stay referenced until a covering flush
      for (FrameId f : dropped) {
        if (f == kZeroFrame) continue;
        ++frames_[f].gather;  // the PTE's reference moves to the gather
        if (std::find(pending_.begin(), pending_.end(), f) == pending_.end()) pending_.push_back(f);
      }
      break;
    case TlbMode::none:  // the kernel under test skipped the flush: frames go at once
      for (FrameId f : dropped) put_frame(f);
      break;
  }
}

void Model::drop_vseg_object(const Vseg& v) {
  if (v.object == kNoObject) return;
  Object& o = objects_[v.object];
  // Counted by a scan rather than a counter: splits and merges copy vsegs freely.
  if (o.shmem && o.live && !object_mapped(v.object)) {
    for (auto& [idx, f] : o.cache) {
      frames_[f].cached = false;
      put_frame(f);
    }
    o.cache.clear();
    o.live = false;
    free_shmem_.push_back(v.object);  // its slot serves the next shared mapping
  }
}

bool Model::object_mapped(ObjectId obj) const {
  for (const auto& [as, s] : spaces_)
    for (const auto& [start, v] : s.vsl.map())
      if (v.object == obj) return true;
  return false;
}

void Model::unmap_range(AddressSpace& s, Va start, Va end, TlbMode mode) {
  for (const Vseg& v : s.vsl.remove_range(start, end, page_size_)) {
    unmap_ptes(s, v.start, v.end, mode);
    drop_vseg_object(v);
  }
  delta_.spaces.push_back(s.asid);
}

ObjectId Model::object_for(const FileRef& f) {
  auto it = file_objects_.find(f.id);
  if (it != file_objects_.end()) return it->second;
  Object o;
  o.id = f.id;
  o.path = f.path;
  if (f.size) o.pages = (*f.size + page_size_ - 1) >> page_shift_;
  objects_.push_back(o);
  auto id = static_cast<ObjectId>(objects_.size() - 1);
  file_objects_[f.id] = id;
  return id;
}

ObjectId Model::new_shmem(std::uint64_t pages) {
  Object o;
  o.shmem = true;
  o.pages = pages;  // shared anonymous memory is a shmem file of the mapping's size
  if (!free_shmem_.empty()) {  // reuse a dead one's slot: memory stays bounded
    ObjectId id = free_shmem_.back();
    free_shmem_.pop_back();
    objects_[id] = o;
    return id;
  }
  objects_.push_back(o);
  return static_cast<ObjectId>(objects_.size() - 1);
}

Prot Model::effective_rights(const Vseg& v, FrameId f, bool cow) const {
  Prot p = profile_.grantable(v.prot);
  if (!v.shared && (cow || f == kZeroFrame || frames_[f].cached)) p.w = false;
  return p;
}

}  // namespace vmref::model
