// The nova kernel's differential (spec/differential.md §4.3): per VMM the model's PDB, VA
// allocations, prepared and mapped ranges, pt_pages, page_table_allocs and capacity
// against the implementation's; the GPU tables decoded by the format's architectural
// walk (both halves of each dual PDE, big-page states) against the model's tables; the
// live table pages; and the GPU TLB against the model's may-hold set. Table pages are
// compared by PFN: both sides number them by the spec's rule (§11 N-C7).
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "nova_model.hpp"
#include "nova_vmm.hpp"
#include "vmref/conformance/registry.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/model/model.hpp"
#include "vmref/trace/hex.hpp"

namespace vmref::nova {

using trace::hex;

namespace {
constexpr unsigned kChunkPtes = 16;
constexpr unsigned kChunksPerBigTable = 32;  // 64 KiB chunks under one 2 MiB dual PDE

/// What an event makes the checker walk besides the VMM's bookkeeping.
struct Walks {
  bool leaves = true;  ///< the small-pointer translations (DIFF-PTE)
  bool big = false;    ///< the dual PDEs' big halves and chunk states (DIFF-PTE)
};

/// A translation as both sides state it: VFN, PFN, writable.
struct Translation {
  Vfn vfn = 0;
  Pfn pfn = 0;
  bool writable = false;
  friend bool operator==(const Translation&, const Translation&) = default;
};
/// Both sides list them in VA order (ordered maps; the walk goes in VA order).
using Leaves = std::vector<Translation>;

template <class Range>
std::string ranges(const std::map<std::string, Range>& m) {
  std::ostringstream o;
  for (const auto& [h, r] : m) o << h << "=" << hex(r.start * 4096) << "+" << r.pages << " ";
  return o.str();
}

class NovaChecker : public conformance::KernelChecker {
 public:
  explicit NovaChecker(conformance::CheckerContext& ctx)
      : ctx_(ctx), m_(*ctx.model.layer<NovaModel>()), i_(*ctx.vmm.layer<NovaVmm>()),
        format_(*impl::find_gpu_format(m_.params().mmu)) {}  // the implementation refused to build without one

  void compare(const vocab::Event& e, bool whole) override {
    // new, prepare, access and flush write no PDE or PTE (spec/kernels/nova.md §3, §4,
    // §8): their VMM's tables are walked at the next event that writes them or at the
    // next whole comparison, whichever comes first. Big halves and chunk states change
    // only by nova_set_big and the raw writes of §15.
    Walks walks;
    walks.leaves = whole || !(e.op == &ops::nova_new || e.op == &ops::prepare || e.op == &ops::access || e.op == &ops::flush);
    walks.big = whole || e.op == &ops::set_big || e.op == &ops::pde_write || e.op == &ops::pte_write;
    if (whole) {
      std::set<Asid> spaces;
      for (const auto& [as, v] : m_.vmms()) spaces.insert(as);
      for (const auto& [as, v] : i_.vmms()) spaces.insert(as);
      for (Asid as : spaces) compare_vmm(as, walks);
    } else if (std::optional<Asid> own = e.space()) {
      compare_vmm(*own, walks);  // a space with no VMM on either side compares nothing
    }
    compare_table_pages(whole);
    compare_tlb();
  }

 private:
  void compare_vmm(Asid as, Walks walks) {
    auto mi = m_.vmms().find(as);
    auto ii = i_.vmms().find(as);
    const std::string at = "as " + std::to_string(as) + ": ";
    if ((mi == m_.vmms().end()) != (ii == i_.vmms().end())) {
      ctx_.add("DIFF-VSL", at + "a nova VMM on the " + (ii == i_.vmms().end() ? "model" : "implementation") + " side only");
      return;
    }
    if (mi == m_.vmms().end()) return;
    const Vmm& m = mi->second;
    const GpuVmm& i = ii->second;
    if (m.pdb != i.pdb) ctx_.add("DIFF-VSL", at + "PDB: model " + hex(m.pdb) + ", implementation " + hex(i.pdb));
    if (m.va != i.va.allocations())
      ctx_.add("DIFF-VSL", at + "VA allocations differ (" + std::to_string(m.va.size()) + " against " +
                               std::to_string(i.va.allocations().size()) + ")");
    compare_handles(at + "prepared", m.prepared, i.prepared);
    compare_handles(at + "mapped", m.mapped, i.mapped);
    compare_pending(at, m, i);
    if (m.allocs != i.page_table_allocs || m.cap != i.capacity)
      ctx_.add("DIFF-VSL", at + "page_table_allocs: model " + std::to_string(m.allocs.size()) + " of " +
                               std::to_string(m.cap) + ", implementation " + std::to_string(i.page_table_allocs.size()) +
                               " of " + std::to_string(i.capacity));
    if (walks.leaves) compare_leaves(at, m, i);
    if (walks.big) compare_big(at, as);
  }

  void compare_handles(const std::string& what, const std::map<std::string, Range>& m,
                       const std::unordered_map<std::string, VaRange>& i) {
    std::map<std::string, Range> im;
    for (const auto& [h, r] : i) im[h] = Range{r.start, r.pages};
    auto same_range = [](const auto& a, const auto& b) {
      return a.first == b.first && a.second.start == b.second.start && a.second.pages == b.second.pages;
    };
    const bool same = std::equal(m.begin(), m.end(), im.begin(), im.end(), same_range);
    if (!same) ctx_.add("DIFF-VSL", what + " ranges: model " + ranges(m) + "| implementation " + ranges(im));
  }

  void compare_pending(const std::string& at, const Vmm& m, const GpuVmm& i) {
    auto same_node = [](const auto& a, const auto& b) {
      return a.first == b.first && a.second.page == b.second.page && a.second.level == b.second.level;
    };
    const bool same = std::equal(m.pending.begin(), m.pending.end(), i.pt_pages.begin(), i.pt_pages.end(), same_node);
    if (!same)
      ctx_.add("DIFF-VSL", at + "pt_pages: model " + std::to_string(m.pending.size()) + " pages, implementation " +
                               std::to_string(i.pt_pages.size()) + " (or other slots or pages)");
  }

  /// The model's visible translations: small pointers from the PDB, less what a big PTE
  /// in state I or S hides.
  /// `seen`: the tables entered, each once, as the format's walk enters a table page once
  /// (a recorded trace may link one table many times: INV-NOVA-4).
  void model_leaves(Pfn table, unsigned level, Vfn base, const std::map<unsigned, BigState>* hiding, Leaves& out,
                    std::set<Pfn>& seen) const {
    const Geometry& g = m_.geometry();
    auto t = m_.vram().find(table);
    if (t == m_.vram().end() || !seen.insert(table).second) return;
    if (level == g.pt_level()) {
      for (const auto& [idx, pte] : t->second.pte)
        if (!hiding || !hiding->count(idx / kChunkPtes)) out.push_back({base + idx, pte.pfn, pte.writable});
      return;
    }
    for (const auto& [idx, child] : t->second.pde) {
      const std::map<unsigned, BigState>* chunks = nullptr;
      if (level == g.dual_level())
        if (auto b = t->second.big.find(idx); b != t->second.big.end())
          if (auto bt = m_.vram().find(b->second); bt != m_.vram().end()) chunks = &bt->second.chunks;
      model_leaves(child, level + 1, base + (Vfn{idx} << g.shift(level)), chunks, out, seen);
    }
  }

  void compare_leaves(const std::string& at, const Vmm& m, const GpuVmm& i) {
    Leaves want, got;
    std::set<Pfn> seen;
    model_leaves(m.pdb, 0, 0, nullptr, want, seen);
    impl::FormatConfig cfg;
    format_.walk(
        i_.tables().vram(), i.pdb << 12, cfg,
        [&](const impl::Leaf& l) {
          if (l.size != 4096 || !l.rights.u)
            ctx_.add("DIFF-PTE", at + "va " + hex(l.va) + ": a leaf of " + std::to_string(l.size) +
                                     " bytes or with PRIVILEGE set; nova writes 4 KiB user PTEs");
          got.push_back({l.va >> 12, l.pa >> 12, l.rights.w});
        },
        [&](const impl::WalkIssue& w) { ctx_.add("DIFF-PTE", at + "GPU table entry at " + hex(w.entry_pa) + ": " + w.what); });
    ctx_.compared_ptes += got.size();
    if (want == got) return;
    auto [a, b] = std::mismatch(want.begin(), want.end(), got.begin(), got.end());
    const Vfn vfn = a == want.end() ? b->vfn : b == got.end() ? a->vfn : std::min(a->vfn, b->vfn);
    auto show = [&](const Leaves& l) {
      auto x = std::find_if(l.begin(), l.end(), [&](const Translation& t) { return t.vfn == vfn; });
      return x == l.end() ? std::string("no PTE") : "PFN " + hex(x->pfn) + (x->writable ? " rw" : " ro");
    };
    ctx_.add("DIFF-PTE", at + "GPU va " + hex(vfn << 12) + ": model " + show(want) + ", implementation " + show(got) +
                             " (" + std::to_string(want.size()) + " against " + std::to_string(got.size()) + " PTEs)");
  }

  void compare_table_pages(bool whole) {
    std::vector<Pfn> m;
    for (const auto& [p, t] : m_.vram())
      if (t.live) m.push_back(p);
    std::vector<Pfn> i = i_.tables().live_pages();
    if (m == i) return;
    if (!whole && m.size() == i.size()) return;  // which pages: at the next whole comparison
    ctx_.add("DIFF-FRAME", "live GPU table pages: model " + std::to_string(m.size()) + ", implementation " +
                               std::to_string(i.size()) + (m.size() == i.size() ? " (other PFNs)" : ""));
  }

  // DIFF-TLB-1: each entry of a live VMM's PDB lies in that VMM's may-hold set. Entries of
  // a dropped PDB are judged by INV-NOVA-5 at the drop (a posted drop does not flush).
  void compare_tlb() {
    std::map<Pfn, const Vmm*> by_pdb;
    for (const auto& [as, v] : m_.vmms()) by_pdb[v.pdb] = &v;
    i_.tlb().each([&](const impl::TlbHeld& h) {
      ++ctx_.compared_tlb;
      auto v = by_pdb.find(h.owner);
      if (v == by_pdb.end()) return;
      if (!v->second->may_hold.count({h.va >> 12, h.pa >> 12}))
        ctx_.add("DIFF-TLB-1", "GPU TLB entry of PDB " + hex(h.owner) + " for va " + hex(h.va) + " -> PFN " +
                                   hex(h.pa >> 12) + " is not in the model's may-hold set");
    });
  }

  /// Model chunk state against the big PTE's architectural reading.
  static bool same_state(std::optional<BigState> model, impl::gmmu::BigState read) {
    switch (read) {
      case impl::gmmu::BigState::unmapped: return !model || *model == BigState::U;
      case impl::gmmu::BigState::invalid: return model == BigState::I;
      case impl::gmmu::BigState::sparse: return model == BigState::S;
      case impl::gmmu::BigState::valid: return false;  // nova writes no 64 KiB page
    }
    return false;
  }

  /// DIFF-PTE on the dual PDEs' big halves of `as`'s VMM: each one's big page table and
  /// the state of its kChunksPerBigTable chunks (U, I, S: what decides whether the small PTEs beneath
  /// are read), the implementation's words read by the format's own decoding. Run at
  /// whole comparisons and after nova_set_big, the one event that writes them.
  void compare_big(const std::string& at, Asid as) {
    const Geometry& g = m_.geometry();
    const impl::gmmu::Words& w = *format_.gmmu;
    const impl::SimMemory& vram = i_.tables().vram();
    for (const auto& [dual, t] : m_.vram()) {
      if (!t.live || t.owner != as || t.level != g.dual_level() || t.is_big) continue;
      for (unsigned idx = 0; idx < g.entries(g.dual_level()); ++idx) {
        auto mb = t.big.find(idx);
        std::optional<Pfn> ib = i_.tables().big_table(dual, idx);
        const std::string where = at + "dual PDE " + std::to_string(idx) + " of table " + hex(dual) + ": ";
        if ((mb == t.big.end()) != !ib || (ib && *ib != mb->second)) {
          ctx_.add("DIFF-PTE", where + "big page table: model " + (mb == t.big.end() ? "none" : hex(mb->second)) +
                                   ", implementation " + (ib ? hex(*ib) : std::string("none")));
          continue;
        }
        if (!ib) continue;
        static const Table kNoTable;  // a recorded big half may point at no table page: all U (§15)
        auto found = m_.vram().find(*ib);
        const Table& bt = found == m_.vram().end() ? kNoTable : found->second;
        const std::uint64_t* words = vram.find(*ib);
        for (unsigned c = 0; c < kChunksPerBigTable; ++c) {
          auto ms = bt.chunks.find(c);
          std::optional<BigState> model = ms == bt.chunks.end() ? std::nullopt : std::optional<BigState>(ms->second);
          const impl::gmmu::BigState read = w.big_state(words ? words[c] : 0);
          if (!same_state(model, read))
            ctx_.add("DIFF-PTE", where + "big PTE of chunk " + std::to_string(c) + ": model state " +
                                     to_string(model.value_or(BigState::U)) + ", the implementation's word " +
                                     hex(words ? words[c] : 0) + " reads otherwise");
        }
      }
    }
  }

  conformance::CheckerContext& ctx_;
  const NovaModel& m_;
  const NovaVmm& i_;
  const impl::FormatInfo& format_;
};
}  // namespace

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx) {
  return std::make_unique<NovaChecker>(ctx);
}

}  // namespace vmref::nova
