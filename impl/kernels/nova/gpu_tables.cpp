#include "gpu_tables.hpp"

#include <stdexcept>

namespace vmref::nova {

namespace {
constexpr unsigned kChunkPtes = 16;  // small PTEs per 64 KiB chunk
}  // namespace

Pfn GpuTables::alloc() {
  Pfn p;
  do {  // pages alloc_at took are skipped (a freed one stays queued until popped)
    if (!free_.empty()) {
      p = free_.top();
      free_.pop();
    } else {
      p = next_++;
    }
  } while (live(p));
  vram_.page(p);
  vram_.zero(p);
  live_.insert(p);
  return p;
}

void GpuTables::alloc_at(Pfn p) {
  if (!in_range(p)) throw std::invalid_argument("pfn: table pages lie in VRAM pages [0x10000, 0x1000000)");
  if (live(p)) throw std::invalid_argument("pfn: a live table page already");
  vram_.page(p);
  live_.insert(p);
}

void GpuTables::free(Pfn p) {
  if (!live(p)) throw std::logic_error("impl: nova frees table page " + std::to_string(p) + " twice");
  live_.erase(p);
  free_.push(p);
}

std::vector<Pfn> GpuTables::live_pages() const { return {live_.begin(), live_.end()}; }

const std::uint64_t* GpuTables::slot(Pfn table, unsigned level, unsigned idx) const {
  // A page never written reads as zeros, without creating it: a recorded PDE may point
  // anywhere in the 2^52-byte VRAM address space (spec/kernels/nova.md §15).
  static const std::uint64_t kZeros[512] = {};
  const std::uint64_t* page = vram_.find(table);
  return (page ? page : kZeros) + idx * codec_.entry_words(level);
}

std::optional<Pfn> GpuTables::child(Pfn table, unsigned level, unsigned idx) const {
  const std::uint64_t view = codec_.load(slot(table, level, idx), level);
  if (!codec_.is_present(view) || codec_.is_leaf(view, level)) return std::nullopt;
  return codec_.address(view, level) >> 12;
}

bool GpuTables::set_child(Pfn table, unsigned level, unsigned idx, Pfn child, bool keep_big) {
  std::uint64_t* w = slot(table, level, idx);
  std::uint64_t view = codec_.encode_table(child << 12);
  const bool had_big = level == dual() && w[0] != 0;
  if (had_big && keep_big) view |= words_.big_in_use_marker;
  codec_.store(w, level, view);
  return had_big && !keep_big;
}

std::optional<Pfn> GpuTables::big_table(Pfn dual_table, unsigned idx) const {
  std::uint64_t pa = words_.big_pt(slot(dual_table, dual(), idx)[0]);
  if (!pa) return std::nullopt;
  return pa >> 12;
}

void GpuTables::set_big_table(Pfn dual_table, unsigned idx, Pfn big) {
  slot(dual_table, dual(), idx)[0] = words_.big_half(big << 12, mutant_);
}

void GpuTables::set_chunk(Pfn big, unsigned chunk, Chunk state) {
  vram_.page(big)[chunk] = words_.chunk_word(state, mutant_);
}

bool GpuTables::chunk_hides(Pfn big, unsigned chunk) const {
  const std::uint64_t* page = vram_.find(big);  // never written: all U
  return page && words_.hides(page[chunk]);
}

std::optional<GpuPte> GpuTables::pte(Pfn pt_page, unsigned idx) const {
  const std::uint64_t raw = *slot(pt_page, pt(), idx);
  if (!codec_.is_present(raw)) return std::nullopt;
  return GpuPte{codec_.address(raw, pt()) >> 12, codec_.combine(impl::Rights{}, raw).w};
}

void GpuTables::set_pte(Pfn pt_page, unsigned idx, std::optional<GpuPte> p) {
  std::uint64_t* w = slot(pt_page, pt(), idx);
  if (!p) {
    codec_.store(w, pt(), 0);
    return;
  }
  impl::LeafAttrs a;
  a.rights = impl::Rights{p->writable, true, false};
  codec_.store(w, pt(), codec_.encode_leaf(p->pfn << 12, pt(), a));
}

std::optional<Pfn> GpuTables::table_at(Pfn pdb, Vfn vfn, unsigned level) const {
  Pfn t = pdb;
  for (unsigned l = 0; l < level; ++l) {
    std::optional<Pfn> c = child(t, l, index(l, vfn));
    if (!c) return std::nullopt;
    t = *c;
  }
  return t;
}

bool GpuTables::hidden(Pfn pdb, Vfn vfn) const {
  std::optional<Pfn> d = table_at(pdb, vfn, dual());
  if (!d) return false;
  std::optional<Pfn> big = big_table(*d, index(dual(), vfn));
  return big && chunk_hides(*big, index(pt(), vfn) / kChunkPtes);
}

}  // namespace vmref::nova
