// The C++ model's linux state read as the SMT form's plain numbers (spec/kernels/linux.md
// §8): the initial state of every obligation and the faithfulness test's pre-states.
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "linux_smt.hpp"
#include "vmref/model/model.hpp"
#include "vmref/trace/fields.hpp"

namespace vmref::linux_mm::smt {

std::vector<std::string> setup_lines(const Bounds& b) {
  using nlohmann::json;
  return {json{{"op", "as_create"}, {"as", 1}}.dump(), json{{"op", "switch"}, {"cpu", 0}, {"as", 1}}.dump(),
          json{{"op", "mmap"}, {"as", 1}, {"addr", trace::hex(kBase)}, {"len", trace::hex(std::uint64_t{b.pages} << 12)},
               {"prot", "rw-"}, {"flags", {"private", "anonymous", "fixed"}}}
              .dump()};
}

std::vector<std::string> op_lines(Op op, unsigned space, unsigned page, bool write, unsigned pages) {
  using nlohmann::json;
  const std::string va = trace::hex(kBase + std::uint64_t{page} * 4096);
  switch (op) {
    case Op::access: return {json{{"op", "access"}, {"cpu", space}, {"va", va}, {"kind", write ? "write" : "read"}}.dump()};
    case Op::munmap: return {json{{"op", "munmap"}, {"as", space + 1}, {"addr", va}, {"len", "0x1000"}}.dump()};
    case Op::fork:
      return {json{{"op", "fork"}, {"as", 1}, {"child", 2}}.dump(), json{{"op", "switch"}, {"cpu", 1}, {"as", 2}}.dump()};
    case Op::mprotect:
      return {json{{"op", "mprotect"}, {"as", space + 1}, {"addr", trace::hex(kBase)},
                   {"len", trace::hex(std::uint64_t{pages} << 12)}, {"prot", write ? "rw-" : "r--"}}
                  .dump()};
  }
  throw std::logic_error("unknown op");
}

namespace {
[[noreturn]] void beyond(const std::string& what) {
  throw std::invalid_argument("linux state beyond the SMT bounds: " + what);
}
}  // namespace

Plain plain_of(const model::Model& m, const Bounds& b) {
  if (m.page_size() != 4096 || m.frames().capacity() != b.frames) beyond("another page size or frame count");
  const model::Vpn first = kBase >> 12;
  Plain out;
  out.alive.assign(kSpaces, false);
  out.pages.assign(kSpaces, std::vector<Plain::Pg>(b.pages));
  out.frames.resize(b.frames);
  out.tlb.assign(kSpaces, std::vector<std::vector<Plain::Hd>>(b.pages, std::vector<Plain::Hd>(b.frames)));
  for (const auto& [as, s] : m.spaces()) {
    if (as < 1 || as > kSpaces) beyond("address space " + std::to_string(as));
    const unsigned k = static_cast<unsigned>(as - 1);
    out.alive[k] = true;
    for (const auto& [start, v] : s.vsl.map())
      if (start < kBase || v.end > kBase + (std::uint64_t{b.pages} << 12)) beyond("a vseg outside the bounded one");
    for (const auto& [vpn, pte] : s.gpt)
      if (vpn < first || vpn - first >= b.pages || pte.order != 0) beyond("a PTE outside the vseg or a huge leaf");
    for (unsigned p = 0; p < b.pages; ++p) {
      Plain::Pg& pg = out.pages[k][p];
      if (const model::Vseg* v = s.vsl.find(kBase + p * 4096)) {
        pg.inseg = true;
        pg.anon = v->anon_id != 0;
        pg.vw = v->prot.w;
      }
      if (auto it = s.gpt.find(first + p); it != s.gpt.end()) {
        pg.valid = true;
        pg.frame = it->second.frame;
        pg.w = it->second.prot.w;
        pg.cow = it->second.cow;
      }
    }
  }
  for (unsigned i = 0; i < b.frames; ++i)
    if (m.frames().valid(i + 1)) {
      out.frames[i].alloc = m.frames()[i + 1].allocated;
      out.frames[i].refs = m.frames()[i + 1].refcount;
    }
  const std::vector<model::FrameId> order = m.frames().free_order();  // the next one handed out first
  for (std::size_t k = 0; k < order.size(); ++k) out.frames[order[k] - 1].stamp = order.size() - 1 - k;
  out.clock = order.size();
  for (const model::CpuTlb& cpu : m.cpus())
    for (const auto& [key, hs] : cpu.stale())
      for (const model::Held& h : hs) {
        if (h.frame == model::kZeroFrame) continue;  // the zero page is never freed: no INV-TLB-1 to judge
        const auto [as, vpn] = key;
        if (as < 1 || as > kSpaces || vpn < first || vpn - first >= b.pages || h.frame > b.frames)
          beyond("a held translation outside the vseg");
        Plain::Hd& d = out.tlb[as - 1][vpn - first][h.frame - 1];
        const model::Frame& fr = m.frames()[h.frame];
        d.held = true;
        d.w = d.w || h.prot.w;
        d.dead = d.dead || !fr.allocated || fr.generation != h.generation;
      }
  return out;
}

}  // namespace vmref::linux_mm::smt
