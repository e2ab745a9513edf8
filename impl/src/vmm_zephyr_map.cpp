// VMM core: Zephyr's kernel address space over real x86-64 tables (profiles.md §3.1-§3.3):
// boot with the page-frame array and the RAM store, the virtual-region bitmap, k_mem_map
// with guard pages (on demand or eager), and k_mem_unmap. Paging is in vmm_zephyr_paging.cpp.
#include "vmm_internal.hpp"
#include "zephyr_state.hpp"

namespace vmref::impl {

using namespace vmref::model;

Vmm::Space& Vmm::zephyr_space() {
  if (!zephyr_) throw Unsupported("op", "k_mem_* and nru_tick events need the zephyr profile");
  return *spaces_.at(kZephyrAs);
}

// One kernel address space current on every CPU; `capacity_` page frames after the zero
// page's, handed out in number order; the store's slots as pages of simulated memory.
void Vmm::zephyr_boot() {
  const ZephyrRules& r = profile_.zephyr;
  Event create;
  create.as = kZephyrAs;
  as_create(create);
  Space& s = *spaces_.at(kZephyrAs);
  for (unsigned cpu = 0; cpu < mmu_.cpus(); ++cpu) mmu_.load(cpu, s.ctx, s.table.root());
  zephyr_ = std::make_unique<ZephyrCore>();
  ZephyrCore& z = *zephyr_;
  z.vm_pages = r.vm_pages;
  z.bitmap.assign((r.vm_pages + 63) / 64, 0);
  for (std::uint64_t b = 0; b < r.vm_reserved && b < r.vm_pages; ++b) z.set(b, true);
  for (std::uint64_t i = 0; i < r.image_pages && i < r.vm_pages; ++i) z.set(r.vm_pages - 1 - i, true);
  z.frames.push_back({zero_pfn_});
  for (std::uint64_t i = 1; i <= capacity_; ++i) {
    std::uint64_t pfn = pool_.alloc();
    z.frames.push_back({pfn});
    z.free_frames.push_back(static_cast<std::uint32_t>(i));
    if (pfn >= z.index_of.size()) z.index_of.resize(pfn + 1, 0);
    z.index_of[pfn] = static_cast<std::uint32_t>(i);
  }
  if (z.index_of.size() > pages_.size()) pages_.resize(z.index_of.size());
  for (std::uint64_t i = 0; i < r.backing_pages; ++i) z.slot_pfn.push_back(pool_.alloc());
  z.slot_used.assign(r.backing_pages, false);
}

// sys_bitarray_alloc: first fit from bit 0 (the top of the VM); whole taken words are
// skipped 64 bits at a time.
std::optional<Va> Vmm::zephyr_va_alloc(std::uint64_t pages) {
  ZephyrCore& z = *zephyr_;
  std::uint64_t run = 0;
  for (std::uint64_t b = 0; b < z.vm_pages; ++b) {
    if ((b & 63) == 0 && z.bitmap[b >> 6] == ~0ull && b + 64 <= z.vm_pages) {
      run = 0;
      b += 63;
      continue;
    }
    run = z.taken(b) ? 0 : run + 1;
    if (run < pages) continue;
    std::uint64_t first = b + 1 - pages;
    for (std::uint64_t i = first; i <= b; ++i) z.set(i, true);
    return profile_.zephyr.vm_start + (z.vm_pages - first - pages) * kPage;
  }
  return std::nullopt;
}

void Vmm::zephyr_va_free(Va start, std::uint64_t pages) {
  ZephyrCore& z = *zephyr_;
  std::uint64_t first = z.vm_pages - ((start - profile_.zephyr.vm_start) >> kPageShift) - pages;
  for (std::uint64_t i = first; i < first + pages && i < z.vm_pages; ++i) z.set(i, false);
}

std::optional<std::uint32_t> Vmm::zephyr_frame_alloc() {
  ZephyrCore& z = *zephyr_;
  if (z.free_frames.empty()) return std::nullopt;
  bool lifo = mutant_ == Mutant::zephyr_lifo_frames;
  std::uint32_t i = lifo ? z.free_frames.back() : z.free_frames.front();
  if (lifo) z.free_frames.pop_back();
  else z.free_frames.pop_front();
  std::uint64_t pfn = z.frames[i].pfn;
  pages_[pfn] = PageInfo{true, 1, 0, 0, 0, false, ++generations_};
  ++data_in_use_;
  stamp(pfn) = 0;  // frames leave the free list scrubbed, as the model's do
  return i;
}

void Vmm::zephyr_frame_free(std::uint32_t i) {
  ZephyrCore& z = *zephyr_;
  PageInfo& p = pages_[z.frames[i].pfn];
  p.data = false;
  p.refcount = 0;
  --data_in_use_;
  z.frames[i] = {z.frames[i].pfn};
  z.free_frames.push_back(i);
}

namespace {
LeafAttrs zephyr_leaf(const ZephyrCore::Region& r) {
  LeafAttrs a;
  a.rights = {r.prot.w, r.user, r.prot.x};  // U/S = 1 only for K_MEM_PERM_USER
  return a;
}
}  // namespace

bool Vmm::zephyr_map_page(Va region, Va va) {
  ZephyrCore& z = *zephyr_;
  const ZephyrCore::Region& r = z.regions.at(region);
  auto i = zephyr_frame_alloc();
  if (!i) i = zephyr_evict_any(false);
  if (!i) return false;
  set_pte(zephyr_space(), va, z.frames[*i].pfn, zephyr_leaf(r));
  ZephyrCore::PageFrame& f = z.frames[*i];
  f.va = va;
  f.mapped = true;
  f.pinned = r.lock;
  return true;
}

void Vmm::zephyr_drop(Va va) {
  ZephyrCore& z = *zephyr_;
  Space& s = zephyr_space();
  if (std::uint64_t pfn = clear_pte(s, va)) {
    shootdown(s, va, va + kPage);
    std::uint32_t i = z.index_of[pfn];
    z.frames[i] = {pfn};
    if (profile_.zephyr.unmap_frees_frames) zephyr_frame_free(i);
  } else if (auto it = z.locations.find(va >> kPageShift); it != z.locations.end()) {
    if (it->second.kind == ZephyrCore::Location::in_slot) z.slot_used[it->second.slot] = false;
  }
  z.locations.erase(va >> kPageShift);
}

// k_mem_map_phys_guard(NULL, size, flags, is_anon = true): the same checks in the same
// order as the model; ret = the region's first byte.
Outcome Vmm::k_mem_map(const Event& e) {
  Space& s = zephyr_space();
  const ZephyrRules& zr = profile_.zephyr;
  ZephyrCore& z = *zephyr_;
  if (e.user && e.uninit) return {Err::einval};
  if (e.len == 0 || e.len % kPage) return {Err::einval};
  std::uint64_t guard = zr.guards ? kPage : 0, pages = e.len >> kPageShift, span = pages + (zr.guards ? 2 : 0);
  if (e.len + 2 * guard < e.len) return {Err::einval};
  auto base = zephyr_va_alloc(span);
  if (!base) return {Err::enomem};
  Va start = *base + guard, end = start + e.len;
  z.regions[start] = {pages, e.prot, e.user, e.uninit, e.lock, false};
  Vseg v;
  v.start = start;
  v.end = end;
  v.prot = e.prot;
  v.kind = Kind::kernel;
  v.name = "[k_mem_map]";
  v.pgoff = start >> kPageShift;
  vsl_insert(s, v);
  if (zr.demand_mapping && !e.lock) {  // K_MEM_MAP_UNPAGED: a token per page, no frame
    auto kind = e.uninit ? ZephyrCore::Location::anon_uninit : ZephyrCore::Location::anon_zero;
    for (Va va = start; va < end; va += kPage) z.locations[va >> kPageShift] = {kind, 0};
    if (!zr.lazy_map) zephyr_fault(start, false);
    return {Err::ok, start};
  }
  for (Va va = start; va < end; va += kPage) {
    if (zephyr_map_page(start, va)) continue;
    if (zr.rollback_fix) {
      for (Va q = start; q < va; q += kPage) zephyr_drop(q);
      vsl_erase(s, start);
      z.regions.erase(start);
      zephyr_va_free(*base, span);
    } else {
      z.regions[start].orphan = true;
    }
    return {Err::enomem};
  }
  if (!e.uninit)  // the memset: a store to every page (a page evicted meanwhile comes back)
    for (Va va = start; va < end; va += kPage) {
      if (!s.table.lookup(va) && !zephyr_fault(va, false)) continue;
      std::uint64_t pfn = 0;
      s.table.protect(va, kPage, [&](std::uint64_t, std::uint64_t pa, LeafAttrs& a) {
        a.accessed = a.dirty = true;
        pfn = pa >> kPageShift;
      });
      ++stamp(pfn);
    }
  return {Err::ok, start};
}

// k_mem_unmap_phys_guard(addr, size, is_anon = true) of exactly one live region.
Outcome Vmm::k_mem_unmap(const Event& e) {
  Space& s = zephyr_space();
  ZephyrCore& z = *zephyr_;
  auto it = z.regions.find(e.addr);
  if (it == z.regions.end() || it->second.orphan || it->second.pages * kPage != e.len) return {Err::einval};
  std::uint64_t pages = it->second.pages;
  for (Va g : {e.addr - kPage, e.addr + e.len})
    if (s.table.lookup(g) || z.locations.count(g >> kPageShift)) return {Err::einval};
  for (Va va = e.addr; va < e.addr + e.len; va += kPage) zephyr_drop(va);
  vsl_erase(s, e.addr);
  z.regions.erase(it);
  const ZephyrRules& zr = profile_.zephyr;
  if (zr.guards && zr.unmap_frees_guards) zephyr_va_free(e.addr - kPage, pages + 2);
  else zephyr_va_free(e.addr, pages);
  return {};
}

}  // namespace vmref::impl
