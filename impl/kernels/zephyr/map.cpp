// Zephyr's kernel address space (spec/kernels/zephyr.md §1-§3): boot with the page-frame
// array and the RAM store, the virtual-region bitmap, k_mem_map with guard pages (on
// demand or eager), and k_mem_unmap. Paging is in paging.cpp.
#include "zephyr_vmm.hpp"

namespace vmref::zephyr {

using namespace vmref::impl;

ZephyrVmm::ZephyrVmm(VmmCore& core, const ZephyrParams& params) : KernelLayer(core), p_(params) { boot(); }

// One kernel address space current on every CPU; the core's frames after the zero page,
// handed out in number order; the store's slots as pages of simulated memory.
void ZephyrVmm::boot() {
  if (core_.capacity() > kMaxFrames)
    throw std::invalid_argument("phys_mem: zephyr keeps a record per page frame: at most " +
                                std::to_string(kMaxFrames) + " frames");
  VmmCore::Space& s = core_.create_space(kKernelAs);
  for (unsigned cpu = 0; cpu < core_.mmu().cpus(); ++cpu) core_.load_space(cpu, s);
  bitmap_.assign((p_.vm_pages + 63) / 64, 0);
  for (std::uint64_t b = 0; b < p_.vm_reserved && b < p_.vm_pages; ++b) set(b, true);
  for (std::uint64_t i = 0; i < p_.image_pages && i < p_.vm_pages; ++i) set(p_.vm_pages - 1 - i, true);
  frames_.push_back({core_.zero_pfn()});
  for (std::uint64_t i = 1; i <= core_.capacity(); ++i) {
    std::uint64_t pfn = core_.pool().alloc();
    frames_.push_back({pfn});
    free_frames_.push_back(static_cast<std::uint32_t>(i));
    if (pfn >= index_of_.size()) index_of_.resize(pfn + 1, 0);
    index_of_[pfn] = static_cast<std::uint32_t>(i);
  }
  for (std::uint64_t i = 0; i < p_.backing_pages; ++i) slot_pfn_.push_back(core_.pool().alloc());
  slot_used_.assign(p_.backing_pages, false);
}

void ZephyrVmm::before_destroy(Asid as) {
  if (as == kKernelAs) throw std::invalid_argument("as: the zephyr kernel address space cannot be destroyed");
}

const ZephyrVmm::Region* ZephyrVmm::region_of(Va va) const {
  auto it = regions_.upper_bound(va);
  if (it == regions_.begin()) return nullptr;
  --it;
  return va - it->first < it->second.pages * kPage ? &it->second : nullptr;
}

// sys_bitarray_alloc: first fit from bit 0 (the top of the VM); whole taken words are
// skipped 64 bits at a time.
std::optional<Va> ZephyrVmm::va_alloc(std::uint64_t pages) {
  std::uint64_t run = 0;
  for (std::uint64_t b = 0; b < p_.vm_pages; ++b) {
    if ((b & 63) == 0 && bitmap_[b >> 6] == ~0ull && b + 64 <= p_.vm_pages) {
      run = 0;
      b += 63;
      continue;
    }
    run = taken(b) ? 0 : run + 1;
    if (run < pages) continue;
    std::uint64_t first = b + 1 - pages;
    for (std::uint64_t i = first; i <= b; ++i) set(i, true);
    return p_.vm_start + (p_.vm_pages - first - pages) * kPage;
  }
  return std::nullopt;
}

void ZephyrVmm::va_free(Va start, std::uint64_t pages) {
  std::uint64_t first = p_.vm_pages - ((start - p_.vm_start) >> kPageShift) - pages;
  for (std::uint64_t i = first; i < first + pages && i < p_.vm_pages; ++i) set(i, false);
}

std::optional<std::uint32_t> ZephyrVmm::frame_alloc() {
  if (free_frames_.empty()) return std::nullopt;
  bool lifo = core_.mutant() == &kLifoFrames;
  std::uint32_t i = lifo ? free_frames_.back() : free_frames_.front();
  if (lifo) free_frames_.pop_back();
  else free_frames_.pop_front();
  std::uint64_t pfn = frames_[i].pfn;
  core_.claim_data(pfn);
  core_.stamp(pfn) = 0;  // frames leave the free list scrubbed
  return i;
}

void ZephyrVmm::frame_free(std::uint32_t i) {
  core_.unclaim_data(frames_[i].pfn);
  frames_[i] = {frames_[i].pfn};
  free_frames_.push_back(i);
}

namespace {
LeafAttrs kernel_leaf(const ZephyrVmm::Region& r) {
  LeafAttrs a;
  a.rights = {r.prot.w, r.user, r.prot.x};  // U/S = 1 only for K_MEM_PERM_USER
  return a;
}
}  // namespace

bool ZephyrVmm::map_page(Va region, Va va) {
  const Region& r = regions_.at(region);
  auto i = frame_alloc();
  if (!i) i = evict_any(false);
  if (!i) return false;
  core_.set_pte(kernel_space(), va, frames_[*i].pfn, kernel_leaf(r));
  PageFrame& f = frames_[*i];
  f.va = va;
  f.mapped = true;
  f.pinned = r.lock;
  return true;
}

void ZephyrVmm::drop(Va va) {
  VmmCore::Space& s = kernel_space();
  if (std::uint64_t pfn = core_.clear_pte(s, va)) {
    core_.shootdown(s, va, va + kPage);
    std::uint32_t i = index_of_[pfn];
    frames_[i] = {pfn};
    if (p_.unmap_frees_frames) frame_free(i);
  } else if (auto it = locations_.find(va >> kPageShift); it != locations_.end()) {
    if (it->second.kind == Location::in_slot) slot_used_[it->second.slot] = false;
  }
  locations_.erase(va >> kPageShift);
}

// §2 k_mem_map_phys_guard(NULL, size, flags, is_anon = true): ret = the region's first byte.
Outcome ZephyrVmm::k_mem_map(const Event& e) {
  const auto& a = e.get<MapArgs>();
  if (a.user && a.uninit) return {Err::einval};
  if (a.len == 0 || a.len % kPage) return {Err::einval};
  std::uint64_t guard = p_.guards ? kPage : 0, pages = a.len >> kPageShift, span = pages + (p_.guards ? 2 : 0);
  if (a.len + 2 * guard < a.len) return {Err::einval};
  auto base = va_alloc(span);
  if (!base) return {Err::enomem};
  Va start = *base + guard, end = start + a.len;
  regions_[start] = {pages, a.prot, a.user, a.uninit, a.lock, false};
  if (p_.demand_mapping && !a.lock) {  // K_MEM_MAP_UNPAGED: a token per page, no frame
    auto kind = a.uninit ? Location::anon_uninit : Location::anon_zero;
    for (Va va = start; va < end; va += kPage) locations_[va >> kPageShift] = {kind, 0};
    if (!p_.lazy_map) fault(start, false);
    return {Err::ok, start};
  }
  for (Va va = start; va < end; va += kPage) {
    if (map_page(start, va)) continue;
    if (p_.rollback_fix) {
      for (Va q = start; q < va; q += kPage) drop(q);
      regions_.erase(start);
      va_free(*base, span);
    } else {
      regions_[start].orphan = true;
    }
    return {Err::enomem};
  }
  if (!a.uninit)  // the memset: a store to every page (a page evicted meanwhile comes back)
    for (Va va = start; va < end; va += kPage) {
      VmmCore::Space& s = kernel_space();
      if (!s.table.lookup(va) && !fault(va, false)) continue;
      std::uint64_t pfn = 0;
      s.table.protect(va, kPage, [&](std::uint64_t, std::uint64_t pa, LeafAttrs& l) {
        l.accessed = l.dirty = true;
        pfn = pa >> kPageShift;
      });
      ++core_.stamp(pfn);
    }
  return {Err::ok, start};
}

// §3 k_mem_unmap_phys_guard(addr, size, is_anon = true) of exactly one live region.
Outcome ZephyrVmm::k_mem_unmap(const Event& e) {
  const auto& a = e.get<RangeArgs>();
  VmmCore::Space& s = kernel_space();
  auto it = regions_.find(a.addr);
  if (it == regions_.end() || it->second.orphan || it->second.pages * kPage != a.len) return {Err::einval};
  std::uint64_t pages = it->second.pages;
  for (Va g : {a.addr - kPage, a.addr + a.len})
    if (s.table.lookup(g) || locations_.count(g >> kPageShift)) return {Err::einval};
  for (Va va = a.addr; va < a.addr + a.len; va += kPage) drop(va);
  regions_.erase(it);
  if (p_.guards && p_.unmap_frees_guards) va_free(a.addr - kPage, pages + 2);
  else va_free(a.addr, pages);
  return {};
}

}  // namespace vmref::zephyr
