// Zephyr's kernel address space (spec/kernels/zephyr.md §1-§3): the virtual-region bitmap,
// k_mem_map with its guard pages and flag checks, on-demand and eager anonymous maps,
// and k_mem_unmap. Paging itself is in op_paging.cpp.
#include "zephyr_arith.hpp"
#include "zephyr_model.hpp"

namespace vmref::zephyr {

using namespace vmref::model;

// Boot: one kernel address space, current on every CPU; the top K_MEM_VM_RESERVED pages
// and the kernel image at the bottom marked allocated in the bitmap (bit 0 = top page).
void ZephyrModel::boot() {
  const ZephyrParams& r = p_;
  if (frames_.capacity() > kMaxFrames)
    throw ModelError("phys_mem", "zephyr keeps a record per page frame: at most " + std::to_string(kMaxFrames) +
                                     " frames, the trace gives " + std::to_string(frames_.capacity()));
  AddressSpace& s = spaces_[kKernelAs];
  s.asid = kKernelAs;
  for (CpuTlb& c : cpus_) {
    c.current = kKernelAs;
    c.loaded.insert(kKernelAs);
    c.global_loaded.insert(kKernelAs);
  }
  ZephyrState& z = zephyr_;
  z.bitmap.assign(r.vm_pages, false);
  for (std::uint64_t b = 0; b < r.vm_reserved && b < r.vm_pages; ++b) z.bitmap[b] = true;
  for (std::uint64_t i = 0; i < r.image_pages && i < r.vm_pages; ++i) z.bitmap[r.vm_pages - 1 - i] = true;
  z.frames.assign(frames_.capacity() + 1, PageFrame{});  // ids 1..capacity; 0 is the zero page
  z.slots.assign(r.backing_pages, Slot{});
}

// sys_bitarray_alloc: the first run of free bits from bit 0, i.e. the highest free
// addresses; the region is the run's pages, lowest address first.
std::optional<Va> ZephyrModel::virt_region_alloc(std::uint64_t pages) {
  std::vector<bool>& bm = zephyr_.bitmap;
  std::uint64_t run = 0;
  for (std::uint64_t b = 0; b < bm.size(); ++b) {
    run = bm[b] ? 0 : run + 1;
    if (run < pages) continue;
    std::uint64_t first = b + 1 - pages;
    for (std::uint64_t i = first; i <= b; ++i) bm[i] = true;
    return arith::region_addr<std::uint64_t>(p_.vm_start + bm.size() * page_size_, first, pages, page_shift_);
  }
  return std::nullopt;
}

void ZephyrModel::virt_region_free(Va start, std::uint64_t pages) {
  std::vector<bool>& bm = zephyr_.bitmap;
  std::uint64_t first = arith::region_first<std::uint64_t>(p_.vm_start + bm.size() * page_size_, start, pages, page_shift_);
  for (std::uint64_t i = first; i < first + pages && i < bm.size(); ++i) bm[i] = false;
}

// k_mem_map_phys_guard(NULL, size, flags, is_anon = true). ret = the address or 0 (NULL).
Outcome ZephyrModel::k_mem_map(const Event& ev) {
  const auto& e = ev.get<MapArgs>();
  const ZephyrParams& zr = p_;
  CallNote note;
  note.map = note.failed = true;
  note.bitmap_before = zephyr_.bitmap;
  note.frames_before = frames_.in_use();
  auto refuse = [&](Err err, const char* why) {
    note.frames_after = frames_.in_use();
    notes_.push_back(note);
    delta_.spaces.push_back(kKernelAs);  // the seed's failure path keeps VA: check the bitmap
    Outcome o{err};
    o.note = why;
    return o;
  };
  if (e.user && e.uninit) return refuse(Err::einval, "user access to anonymous uninitialized pages is forbidden");
  if (e.len == 0 || e.len % page_size_) return refuse(Err::einval, "size is 0 or not a page multiple");
  std::uint64_t guard = zr.guards ? page_size_ : 0;
  if (arith::guard_overflows(e.len, guard)) return refuse(Err::einval, "size overflows with the guard pages");
  std::uint64_t pages = e.len >> page_shift_;
  auto base = virt_region_alloc(pages + (zr.guards ? 2 : 0));
  if (!base) return refuse(Err::enomem, "no virtual space");
  Region reg{.start = *base + guard, .pages = pages, .uninit = e.uninit, .lock = e.lock, .user = e.user,
              .demand = zr.demand_mapping && !e.lock, .prot = e.prot};
  note.start = reg.start;
  note.end = reg.start + e.len;
  note.demand = reg.demand;
  AddressSpace& s = spaces_.at(kKernelAs);
  Vseg v;
  v.start = reg.start;
  v.end = reg.start + e.len;
  v.prot = e.prot;
  v.kind = Kind::kernel;
  v.name = "[k_mem_map]";
  v.pgoff = v.start >> page_shift_;
  s.vsl.insert(v);
  zephyr_.regions[reg.start] = reg;
  delta_.spaces.push_back(kKernelAs);
  Vpn first = reg.start >> page_shift_;
  if (reg.demand) {  // K_MEM_MAP_UNPAGED with the ANON_ZERO / ANON_UNINIT token
    for (Vpn p = first; p < first + pages; ++p) {
      zephyr_.paged_out[p] = {e.uninit ? Location::anon_uninit : Location::anon_zero, 0};
      zephyr_.ghost[p] = {e.uninit ? Content::uninit : Content::zero, 0};
    }
    if (!zr.lazy_map) fault(first, false);  // broken variant: prefaults the first page
  } else {
    for (Vpn p = first; p < first + pages; ++p) {
      if (map_anon_page(reg, p)) continue;
      if (zr.rollback_fix) {  // #115581: release what this call took, VA and guards too
        for (Vpn q = first; q < p; ++q) drop_page(q);
        s.vsl.erase(reg.start);
        zephyr_.regions.erase(reg.start);
        virt_region_free(*base, pages + (zr.guards ? 2 : 0));
      } else {  // the seed: "TODO: call k_mem_unmap(dst, pos - dst)", return NULL
        zephyr_.regions[reg.start].orphan = true;
      }
      return refuse(Err::enomem, "out of page frames and backing store during an eager map");
    }
    if (!e.uninit)  // the memset after the lock is dropped: each page is written with zeros
      for (Vpn p = first; p < first + pages; ++p) {
        if (!s.gpt.count(p) && !fault(p, false)) continue;
        Pte& pte = s.gpt.at(p);
        pte.accessed = pte.dirty = true;
        Frame& f = frames_[pte.frame];
        f.content = Content::zero;
        ++f.version;
        zephyr_.ghost[p] = stamp_of(pte.frame);
      }
  }
  note.failed = false;
  note.frames_after = frames_.in_use();
  notes_.push_back(note);
  delta_.ranges.push_back({kKernelAs, first, pages});
  Outcome o;
  o.ret = reg.start;
  return o;
}

bool ZephyrModel::map_anon_page(const Region& r, Vpn vpn) {
  auto f = frames_.alloc(Content::uninit);
  if (!f) f = evict_any(false);
  if (!f) return false;
  frames_[*f].content = Content::uninit;
  Pte pte;
  pte.frame = *f;
  pte.prot = r.prot;
  pte.user = r.user;
  install_pte(spaces_.at(kKernelAs), vpn, pte);
  zephyr_.frames[*f] = {true, r.lock, false, false, vpn << page_shift_};
  if (r.lock) zephyr_.pinned.insert(vpn);
  zephyr_.touched.insert(vpn);
  zephyr_.ghost[vpn] = stamp_of(*f);
  return true;
}

void ZephyrModel::drop_page(Vpn vpn) {
  AddressSpace& s = spaces_.at(kKernelAs);
  if (auto it = s.gpt.find(vpn); it != s.gpt.end()) {
    FrameId f = it->second.frame;
    remove_pte(s, vpn);
    shootdown(kKernelAs, vpn, 1);
    zephyr_.frames[f] = PageFrame{};
    if (p_.unmap_frees_frames) put_frame(f);
  } else if (auto po = zephyr_.paged_out.find(vpn); po != zephyr_.paged_out.end()) {
    // A special token names no slot: there is nothing in the store to free.
    if (po->second.kind == Location::slot) zephyr_.slots[po->second.slot_index].used = false;
  }
  zephyr_.paged_out.erase(vpn);
  zephyr_.ghost.erase(vpn);
  zephyr_.touched.erase(vpn);
  zephyr_.pinned.erase(vpn);
  delta_.ranges.push_back({kKernelAs, vpn, 1});
}

// k_mem_unmap_phys_guard(addr, size, is_anon = true). The model accepts exactly one live
// region; Zephyr trusts its caller and asserts only that both guard pages are unmapped.
Outcome ZephyrModel::k_mem_unmap(const Event& ev) {
  const auto& e = ev.get<RangeArgs>();
  const ZephyrParams& zr = p_;
  auto it = zephyr_.regions.find(e.addr);
  if (it == zephyr_.regions.end() || it->second.orphan || it->second.pages * page_size_ != e.len)
    return {Err::einval, 0, AccessResult::ok, kNoFrame, "not a region k_mem_map returned"};
  AddressSpace& s = spaces_.at(kKernelAs);
  Vpn first = e.addr >> page_shift_;
  std::uint64_t pages = it->second.pages;
  for (Vpn g : {first - 1, first + pages})
    if (s.gpt.count(g) || zephyr_.paged_out.count(g))
      return {Err::einval, 0, AccessResult::ok, kNoFrame, "a guard page is mapped"};
  for (Vpn p = first; p < first + pages; ++p) drop_page(p);
  s.vsl.erase(e.addr);
  zephyr_.regions.erase(it);
  if (!zr.guards) virt_region_free(e.addr, pages);
  else if (zr.unmap_frees_guards) virt_region_free(e.addr - page_size_, pages + 2);
  else virt_region_free(e.addr, pages);  // broken: the guards' bits stay set for ever
  delta_.spaces.push_back(kKernelAs);
  return {};
}

}  // namespace vmref::zephyr
