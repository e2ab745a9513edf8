// INV-ZEPHYR-*: demand paging and on-demand mapping in Zephyr's kernel address space
// (spec/kernels/zephyr.md §9). Frames and slots are few, so 1 and 7 read all of
// them; 3, 5 and 8 read the pages the event touched unless the VSL changed (or --full-checks);
// call invariants (2b, 6, 7b) judge the delta's notes.
#include "zephyr_arith.hpp"
#include "zephyr_model.hpp"
#include "vmref/model/invariants.hpp"

namespace vmref::zephyr {

namespace {
const ZephyrModel& layer(const CheckScope& sc) { return *sc.m.layer<ZephyrModel>(); }
const Gpt& kgpt(const CheckScope& sc) { return sc.m.space(kKernelAs)->gpt; }
std::string va_of(const CheckScope& sc, Vpn v) { return "va " + hex(v << sc.m.page_shift()); }
std::string stamp(const PageContents& s) {
  if (s == kStaleSlot) return "stale slot data (never written)";
  return std::string(to_string(s.content)) + " version " + std::to_string(s.version);
}
/// Whether the event changed the region list (or everything is to be checked).
bool vsl_changed(const CheckScope& sc) {
  if (sc.full || sc.d.all) return true;
  for (Asid a : sc.d.spaces)
    if (a == kKernelAs) return true;
  return false;
}
/// Calls fn(vpn) for each page of the kernel space the event touched.
template <class Fn> void each_touched(const CheckScope& sc, Fn fn) {
  for (const Delta::Range& r : sc.ranges)
    if (r.as == kKernelAs)
      for (Vpn v = r.first; v < r.first + r.count; ++v) fn(v);
}
/// Bitmap index of the page at va (bit 0 = the highest page of the kernel VM).
std::uint64_t bit_of(const ZephyrParams& r, unsigned page_shift, Va va) {
  return arith::bit_of<std::uint64_t>(r.vm_start, r.vm_pages, va, page_shift);
}
}  // namespace

// Z1/Z2: a frame is in use iff it is MAPPED at exactly one page whose PTE points back.
void check_zephyr_1(const CheckScope& sc, std::vector<Violation>& out) {
  const ZephyrState& z = layer(sc).state();
  const Gpt& g = kgpt(sc);
  for (FrameId f = 1; f < z.frames.size(); ++f) {
    const PageFrame& zf = z.frames[f];
    bool used = f < sc.m.frames().size() && sc.m.frames()[f].allocated;
    std::string id = "frame " + std::to_string(f);
    if (zf.busy) out.push_back({"INV-ZEPHYR-1", id + " is still BUSY after the operation"});
    if (used != zf.mapped) {
      out.push_back({"INV-ZEPHYR-1", id + (used ? " is in use but not MAPPED (owned by no page)" : " is MAPPED but free")});
      continue;
    }
    if (!zf.mapped) continue;
    auto it = g.find(zf.va >> sc.m.page_shift());
    if (it == g.end() || it->second.frame != f)
      out.push_back({"INV-ZEPHYR-1", id + " records " + hex(zf.va) + " but that PTE does not map it"});
  }
  for (const auto& [vpn, p] : g)
    if (p.frame < z.frames.size() && (!z.frames[p.frame].mapped || z.frames[p.frame].va != vpn << sc.m.page_shift()))
      out.push_back({"INV-ZEPHYR-1", va_of(sc, vpn) + " maps frame " + std::to_string(p.frame) + " whose VA record differs"});
}

// No frame for a page nobody touched: an on-demand page is PAGED_IN only once accessed,
// paged in or pinned; a demand map itself takes no frame.
void check_zephyr_2(const CheckScope& sc, std::vector<Violation>& out) {
  const ZephyrState& z = layer(sc).state();
  const Gpt& g = kgpt(sc);
  for (const auto& [start, r] : z.regions) {
    if (!r.demand) continue;
    Vpn first = start >> sc.m.page_shift();
    for (auto it = g.lower_bound(first); it != g.end() && it->first < first + r.pages; ++it)
      if (!z.touched.count(it->first))
        out.push_back({"INV-ZEPHYR-2", va_of(sc, it->first) + " holds frame " + std::to_string(it->second.frame) +
                                           " though nothing touched it"});
  }
  for (const CallNote& n : layer(sc).notes())
    if (n.map && !n.failed && n.demand && n.frames_after > n.frames_before)
      out.push_back({"INV-ZEPHYR-2", "the on-demand map at " + hex(n.start) + " took " +
                                         std::to_string(n.frames_after - n.frames_before) + " frame(s)"});
}

// Z8 (pages): the page below and the page above every region are never mapped.
void check_zephyr_3(const CheckScope& sc, std::vector<Violation>& out) {
  const ZephyrState& z = layer(sc).state();
  const Gpt& g = kgpt(sc);
  auto check = [&](Va start, const Region& r) {
    Vpn first = start >> sc.m.page_shift();
    for (Vpn guard : {first - 1, first + r.pages})
      if (g.count(guard) || z.paged_out.count(guard))
        out.push_back({"INV-ZEPHYR-3", "guard page " + va_of(sc, guard) + " of the region at " + hex(start) + " is mapped"});
  };
  if (vsl_changed(sc)) {
    for (const auto& [start, r] : z.regions) check(start, r);
    return;
  }
  each_touched(sc, [&](Vpn v) {  // a touched page may be the guard of the region above or below it
    if (auto above = z.regions.find((v + 1) << sc.m.page_shift()); above != z.regions.end()) check(above->first, above->second);
    auto below = z.regions.lower_bound(v << sc.m.page_shift());  // the last region starting below v
    if (below != z.regions.begin() && (--below, (below->first >> sc.m.page_shift()) + below->second.pages == v))
      check(below->first, below->second);
  });
}

// Z5: a pinned page stays loaded, in a frame flagged PINNED (so it is never evicted).
void check_zephyr_4(const CheckScope& sc, std::vector<Violation>& out) {
  const ZephyrState& z = layer(sc).state();
  const Gpt& g = kgpt(sc);
  for (Vpn v : z.pinned) {
    auto it = g.find(v);
    if (it == g.end()) out.push_back({"INV-ZEPHYR-4", "pinned page " + va_of(sc, v) + " was paged out"});
    else if (!z.frames[it->second.frame].pinned)
      out.push_back({"INV-ZEPHYR-4", "pinned page " + va_of(sc, v) + " sits in frame " + std::to_string(it->second.frame) +
                                         " not flagged PINNED"});
  }
}

// Contents survive page out / page in: each page holds what was last written to it.
void check_zephyr_5(const CheckScope& sc, std::vector<Violation>& out) {
  const ZephyrState& z = layer(sc).state();
  const Gpt& g = kgpt(sc);
  auto check = [&](Vpn vpn, const PageContents& want) {
    PageContents have;
    if (auto it = g.find(vpn); it != g.end()) {
      have = {sc.m.frames()[it->second.frame].content, sc.m.frames()[it->second.frame].version};
    } else if (auto po = z.paged_out.find(vpn); po != z.paged_out.end()) {
      have = z.data_at(po->second);
    } else {
      out.push_back({"INV-ZEPHYR-5", va_of(sc, vpn) + " of a live region is neither loaded nor paged out"});
      return;
    }
    if (!(have == want))
      out.push_back({"INV-ZEPHYR-5", va_of(sc, vpn) + " holds " + stamp(have) + ", last written " + stamp(want)});
  };
  if (vsl_changed(sc)) {
    for (const auto& [vpn, want] : z.ghost) check(vpn, want);
    return;
  }
  each_touched(sc, [&](Vpn v) {
    if (auto it = z.ghost.find(v); it != z.ghost.end()) check(v, it->second);
  });
}

// Z11: a failed k_mem_map leaves the VA bitmap as it was, keeps no page of the range,
// and returns every frame it took.
void check_zephyr_6(const CheckScope& sc, std::vector<Violation>& out) {
  const ZephyrState& z = layer(sc).state();
  for (const CallNote& n : layer(sc).notes()) {
    if (!n.map || !n.failed) continue;
    if (n.bitmap_before != z.bitmap)
      out.push_back({"INV-ZEPHYR-6", "the failed map at " + hex(n.start) + " changed the virtual-region bitmap"});
    if (n.frames_after > n.frames_before)
      out.push_back({"INV-ZEPHYR-6", "the failed map at " + hex(n.start) + " kept " +
                                         std::to_string(n.frames_after - n.frames_before) + " frame(s)"});
    for (Va va = n.start; va < n.end; va += sc.m.page_size())
      if (kgpt(sc).count(va >> sc.m.page_shift()) || z.paged_out.count(va >> sc.m.page_shift())) {
        out.push_back({"INV-ZEPHYR-6", "the failed map left " + va_of(sc, va >> sc.m.page_shift()) + " mapped"});
        break;
      }
  }
}

// Z4: each used slot belongs to exactly one paged-out page; a fault bringing a page back
// from the store always finds the slot kept for faults.
void check_zephyr_7(const CheckScope& sc, std::vector<Violation>& out) {
  const ZephyrState& z = layer(sc).state();
  std::vector<int> owners(z.slots.size(), 0);
  for (const auto& [vpn, l] : z.paged_out)
    if (l.kind == Location::slot) {
      if (l.slot_index >= z.slots.size() || !z.slots[l.slot_index].used)
        out.push_back({"INV-ZEPHYR-7", va_of(sc, vpn) + " is paged out to free slot " + std::to_string(l.slot_index)});
      else ++owners[l.slot_index];
    }
  for (std::size_t i = 0; i < z.slots.size(); ++i)
    if (z.slots[i].used && owners[i] != 1)
      out.push_back({"INV-ZEPHYR-7", "slot " + std::to_string(i) + " is used by " + std::to_string(owners[i]) + " page(s)"});
  for (const CallNote& n : layer(sc).notes())
    if (n.fault_no_slot)
      out.push_back({"INV-ZEPHYR-7", "the fault at " + hex(n.fault_va) + " found no backing-store slot to evict into"});
}

// Z8 (bitmap): a bit is set exactly for the reserved top, the kernel image, and each
// region with its two guards.
void check_zephyr_8(const CheckScope& sc, std::vector<Violation>& out) {
  if (!vsl_changed(sc)) return;  // only k_mem_map / k_mem_unmap change the bitmap
  const ZephyrParams& r = layer(sc).params();
  const ZephyrState& z = layer(sc).state();
  std::vector<bool> want(r.vm_pages, false);
  for (std::uint64_t b = 0; b < r.vm_reserved && b < r.vm_pages; ++b) want[b] = true;
  for (std::uint64_t i = 0; i < r.image_pages && i < r.vm_pages; ++i) want[r.vm_pages - 1 - i] = true;
  for (const auto& [start, reg] : z.regions)
    for (Va va = start - sc.m.page_size(); va < start + (reg.pages + 1) * sc.m.page_size(); va += sc.m.page_size())
      if (std::uint64_t b = bit_of(r, sc.m.page_shift(), va); va >= r.vm_start && b < r.vm_pages) want[b] = true;
  for (std::uint64_t b = 0; b < r.vm_pages; ++b)
    if (want[b] != z.bitmap[b]) {
      Va va = r.vm_start + (r.vm_pages - 1 - b) * sc.m.page_size();
      out.push_back({"INV-ZEPHYR-8", "bitmap bit for " + hex(va) + (z.bitmap[b] ? " is set but no region or guard holds it"
                                                                                : " is clear under a live region or guard")});
      return;  // one line per event is enough to locate it
    }
}

}  // namespace vmref::zephyr
