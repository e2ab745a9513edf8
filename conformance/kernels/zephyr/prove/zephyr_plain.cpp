// The C++ model's zephyr state read as the SMT form's plain numbers (spec/kernels/zephyr.md
// §12): the initial state of every obligation and the faithfulness test's pre-states.
#include <stdexcept>

#include "zephyr_arith.hpp"
#include "zephyr_model.hpp"
#include "zephyr_smt.hpp"
#include "vmref/model/model.hpp"

namespace vmref::zephyr::smt {

std::uint64_t region_start(const ZephyrParams& p, unsigned pages) {
  const std::uint64_t run = pages + (p.guards ? 2 : 0), vm_end = p.vm_start + (p.vm_pages << 12);
  return arith::region_addr<std::uint64_t>(vm_end, p.vm_reserved, run, 12) + (p.guards ? 4096 : 0);
}

namespace {
/// The page index of `vpn` in the region, or a throw naming what lies outside it.
std::uint64_t page_index(std::uint64_t first, const Bounds& b, vocab::Vpn vpn, const char* what) {
  if (vpn < first || vpn - first >= b.pages)
    throw std::invalid_argument(std::string("zephyr state beyond the SMT bounds: ") + what + " at va " +
                                std::to_string(vpn << 12));
  return vpn - first;
}

/// A PageContents as the encoding's 18-bit stamp (kind in bits 17:16, version below).
std::uint64_t stamp_of(const PageContents& c) {
  if (c == kStaleSlot) return kStale;
  if (c.version > 0xffff || c.content == model::Content::file)
    throw std::invalid_argument("zephyr state beyond the SMT bounds: contents version " + std::to_string(c.version));
  const std::uint64_t kind = c.content == model::Content::zero ? 0 : c.content == model::Content::uninit ? kUninit : kData;
  return kind | c.version;
}
}  // namespace

Plain plain_of(const model::Model& m, const Bounds& b) {
  const ZephyrModel& layer = *m.layer<ZephyrModel>();
  const ZephyrState& z = layer.state();
  const ZephyrParams& p = layer.params();
  const std::uint64_t start = region_start(p, b.pages), first = start >> 12;
  if (m.page_size() != 4096 || m.frames().capacity() != b.frames || z.regions.size() > 1 ||
      (z.regions.size() == 1 && (z.regions.begin()->first != start || z.regions.begin()->second.pages != b.pages)))
    throw std::invalid_argument("zephyr state beyond the SMT bounds: not one region of the bounded pages and frames");
  Plain out;
  out.mapped = z.regions.size() == 1;
  out.orphan = out.mapped && z.regions.begin()->second.orphan;
  for (unsigned k = 0; k < b.pages + 2; ++k)  // the lower guard, the pages, the upper guard
    out.bits.push_back(z.bitmap.at(arith::bit_of<std::uint64_t>(p.vm_start, p.vm_pages, start + (k - 1ull) * 4096, 12)));
  out.pages.resize(b.pages);
  out.frames.resize(b.frames);
  out.tlb.assign(b.pages, std::vector<Plain::Hd>(b.frames));
  for (const auto& [vpn, pte] : m.space(kKernelAs)->gpt) {
    Plain::Pg& pg = out.pages[page_index(first, b, vpn, "a PTE")];
    pg.loaded = true;
    pg.frame = pte.frame;
    pg.a = pte.accessed;
    pg.d = pte.dirty;
  }
  for (const auto& [vpn, loc] : z.paged_out)
    if (loc.kind == Location::slot) {
      Plain::Pg& pg = out.pages[page_index(first, b, vpn, "a paged-out page")];
      pg.in_slot = true;
      pg.slot = loc.slot_index;
    }
  for (vocab::Vpn vpn : z.pinned) out.pages[page_index(first, b, vpn, "a pinned page")].pinned = true;
  for (vocab::Vpn vpn : z.touched) out.pages[page_index(first, b, vpn, "a touched page")].touched = true;
  for (const auto& [vpn, c] : z.ghost) out.pages[page_index(first, b, vpn, "a written page")].ghost = stamp_of(c);
  for (unsigned i = 0; i < b.frames; ++i) {
    const FrameId f = i + 1;
    const PageFrame& zf = z.frames[f];
    out.frames[i].alloc = m.frames().valid(f) && m.frames()[f].allocated;
    out.frames[i].mapped = zf.mapped;
    out.frames[i].pinned = zf.pinned;
    if (out.frames[i].alloc) out.frames[i].data = stamp_of({m.frames()[f].content, m.frames()[f].version});
    if (zf.mapped) out.frames[i].va = page_index(first, b, zf.va >> 12, "a frame record");
  }
  const std::vector<FrameId> order = m.frames().free_order();
  for (std::size_t k = 0; k < order.size(); ++k) out.frames[order[k] - 1].stamp = k;
  out.clock = order.size();
  for (std::size_t i = 0; i < z.slots.size(); ++i) {
    const Slot& s = z.slots[i];
    if (i >= encoded_slots(p, b)) {
      if (s.used) throw std::invalid_argument("zephyr state beyond the SMT bounds: slot " + std::to_string(i) + " used");
      continue;
    }
    out.slot_used.push_back(s.used);
    out.slot_data.push_back(s.used ? stamp_of(s.data) : 0);
  }
  for (const model::CpuTlb& cpu : m.cpus())
    for (const auto& [key, hs] : cpu.stale())
      for (const model::Held& h : hs) {
        if (h.frame < 1 || h.frame > b.frames) throw std::invalid_argument("zephyr state beyond the SMT bounds: a held frame");
        Plain::Hd& d = out.tlb[page_index(first, b, key.second, "a held translation")][h.frame - 1];
        const model::Frame& fr = m.frames()[h.frame];
        d.held = true;
        d.dead = d.dead || !fr.allocated || fr.generation != h.generation;
      }
  out.nru_last = z.nru_last;
  return out;
}

}  // namespace vmref::zephyr::smt
