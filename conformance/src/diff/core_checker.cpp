#include "core_checker.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include "vmref/diff/table_shape.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "vmref/trace/fields.hpp"

namespace vmref::diff {

using namespace vmref::model;
using conformance::VsegView;
using trace::hex;

namespace {
std::string at(Asid as, Vpn vpn) { return "as " + std::to_string(as) + " va " + hex(vpn << 12); }
}  // namespace

CoreChecker::CoreChecker(const Model& m, const impl::VmmCore& v, const impl::RadixCodec& decoder, const impl::Mmu& mmu,
                         const impl::ReferenceTlb& ref, unsigned cpus, DiffStats& stats, Add add,
                         const std::vector<std::unique_ptr<conformance::KernelChecker>>& views)
    : m_(m), v_(v), decoder_(decoder), mmu_(mmu), ref_(ref), cpus_(cpus), stats_(stats), add_(std::move(add)),
      views_(views) {
  m2i_[kZeroFrame] = {v_.zero_pfn(), 0, 0};
  i2m_[v_.zero_pfn()] = {kZeroFrame, 0, 0};
}

bool CoreChecker::same_frame(FrameId f, std::uint64_t pfn, const Where& where) {
  // Frames are compared up to renaming: a model frame and a PFN are bound on first
  // sight and must stay bound until either side frees and reallocates its frame.
  if (f == kZeroFrame || pfn == v_.zero_pfn()) {
    if (f == kZeroFrame && pfn == v_.zero_pfn()) return true;
    add_("DIFF-PTE", where() + ": zero page on one side only (model frame " + std::to_string(f) + ", PFN " + hex(pfn) + ")");
    return false;
  }
  std::uint64_t mgen = m_.frames()[f].generation, igen = v_.page(pfn).generation;
  auto fw = m2i_.find(f);
  auto bw = i2m_.find(pfn);
  bool fw_live = fw != m2i_.end() && fw->second.gen_self == mgen;
  bool bw_live = bw != i2m_.end() && bw->second.gen_self == igen;
  if (fw_live && (fw->second.other != pfn || fw->second.gen_other != igen)) {
    add_("DIFF-PTE", where() + ": model frame " + std::to_string(f) + " corresponds to PFN " + hex(fw->second.other) +
                         " but the implementation uses PFN " + hex(pfn));
    return false;
  }
  if (bw_live && (bw->second.other != f || bw->second.gen_other != mgen)) {
    add_("DIFF-PTE", where() + ": PFN " + hex(pfn) + " corresponds to model frame " + std::to_string(bw->second.other) +
                         " but the model uses frame " + std::to_string(f));
    return false;
  }
  m2i_[f] = {pfn, mgen, igen};
  i2m_[pfn] = {f, igen, mgen};
  return true;
}

std::uint64_t CoreChecker::compare_page(Asid as, Vpn vpn) {
  ++stats_.compared_ptes;
  const AddressSpace* ms = m_.space(as);
  const impl::VmmCore::Space* is = v_.space(as);
  if (!ms || !is) return 1;  // compare_spaces reports that
  // The leaf translating vpn on each side: a huge leaf is one entry in both (§1.8).
  auto it = model::leaf_at(const_cast<Gpt&>(ms->gpt), vpn);
  auto leaf = impl::walk_one(v_.memory(), decoder_, is->table.root(), vpn << 12);
  if ((it != ms->gpt.end()) != leaf.has_value()) {
    add_("DIFF-PTE", at(as, vpn) + (leaf ? ": mapped by the implementation only" : ": mapped by the model only"));
    return 1;
  }
  if (!leaf) return 1;
  const Pte& p = it->second;
  std::uint64_t msize = std::uint64_t{4096} << p.order;
  if (msize != leaf->size || (it->first << 12) != leaf->va) {
    add_("DIFF-PTE", at(as, vpn) + ": leaf of " + hex(msize) + " bytes at " + hex(it->first << 12) + " in the model, of " +
                         hex(leaf->size) + " bytes at " + hex(leaf->va) + " in the implementation");
    return 1;
  }
  std::uint64_t span = (it->first + (std::uint64_t{1} << p.order)) - vpn;  // pages of the leaf from vpn on
  if (p.order) ++stats_.compared_huge;
  if (!same_page(p.frame, p.page, leaf->pa >> 12, [&] { return at(as, it->first); })) return span;
  impl::Rights r = leaf->rights;
  // A user page no user access may reach is the model's "no rights"; a kernel page
  // is U/S = 0 and readable by the kernel.
  Prot ip{p.user ? r.u : true, r.w, r.x};
  if (!p.user && r.u) add_("DIFF-PTE", at(as, vpn) + ": a kernel mapping in the model is user-accessible in the implementation");
  impl::LeafAttrs la = decoder_.leaf_attrs(leaf->raw, leaf->level);
  bool g = la.global, a = la.accessed, d = la.dirty, cow = la.soft & 1;
  if (!(ip == p.prot) || g != p.global || cow != p.cow)
    add_("DIFF-PTE", at(as, vpn) + ": rights model " + p.prot.str() + (p.global ? " G" : "") + (p.cow ? " cow" : "") +
                         ", implementation (architectural decode) " + ip.str() + (g ? " G" : "") + (cow ? " cow" : ""));
  if (a != p.accessed || d != p.dirty)
    add_("DIFF-AD", at(as, vpn) + ": accessed/dirty model " + std::to_string(p.accessed) + "/" + std::to_string(p.dirty) +
                        ", implementation " + std::to_string(a) + "/" + std::to_string(d));
  return span;
}

bool CoreChecker::same_page(FrameId f, std::uint64_t page, std::uint64_t pfn, const Where& where) {
  // A page of a compound frame is the page of the implementation's folio at the same
  // index: the frame binds to the folio's head.
  std::uint64_t head = f == kZeroFrame ? pfn : v_.head_of(pfn);
  if (!same_frame(f, head, where)) return false;
  if (pfn - head == page) return true;
  add_("DIFF-PTE", where() + ": maps page " + std::to_string(page) + " of model frame " + std::to_string(f) +
                       " but page " + std::to_string(pfn - head) + " of its folio (PFN " + hex(pfn) + ")");
  return false;
}

void CoreChecker::compare_space_ptes(Asid as) {
  const AddressSpace* ms = m_.space(as);
  const impl::VmmCore::Space* is = v_.space(as);
  if (!ms || !is) return;
  // Every leaf start of either side: a leaf that differs in size or place shows at one.
  std::vector<Vpn> vpns;
  for (const auto& [vpn, p] : ms->gpt) vpns.push_back(vpn);
  is->table.for_each(0, m_.core().config.task_size, [&](const impl::Mapping& mp) { vpns.push_back(mp.va >> 12); });
  std::sort(vpns.begin(), vpns.end());
  vpns.erase(std::unique(vpns.begin(), vpns.end()), vpns.end());
  for (Vpn v : vpns) compare_page(as, v);
}

void CoreChecker::compare_vsl(Asid as) {
  const AddressSpace* ms = m_.space(as);
  if (!ms || !v_.space(as)) return;
  std::vector<VsegView>& iv = vsl_scratch_;
  iv.clear();
  for (const auto& c : views_) c->vsl_view(as, iv);
  if (views_.size() > 1)  // each kernel's view is in address order; several must be merged
    std::sort(iv.begin(), iv.end(), [](const VsegView& a, const VsegView& b) { return a.start < b.start; });
  auto show = [](const VsegView& v) {
    return hex(v.start) + "-" + hex(v.end) + " " + v.prot.str() + (v.shared ? " shared" : "") +
           (v.has_object ? " object" : "") + " pgoff " + hex(v.pgoff) + (v.has_anon ? " anon" : "");
  };
  auto view_of = [](const Vseg& v) {
    return VsegView{v.start, v.end, v.prot, v.shared, v.object != kNoObject, v.anon_id != 0, v.pgoff, v.flags, v.kind};
  };
  auto a = ms->vsl.map().begin();
  auto b = iv.begin();
  for (; a != ms->vsl.map().end() || b != iv.end(); ++a, ++b) {
    if (a == ms->vsl.map().end() || b == iv.end()) {
      add_("DIFF-VSL", "as " + std::to_string(as) + ": " +
                           (a == ms->vsl.map().end() ? "implementation has extra vseg " + show(*b)
                                                     : "model has extra vseg " + show(view_of(a->second))));
      return;
    }
    const Vseg& x = a->second;  // compared in place: this runs for every vseg at every VSL check
    const VsegView& y = *b;
    if (x.start != y.start || x.end != y.end || !(x.prot == y.prot) || x.shared != y.shared ||
        (x.object != kNoObject) != y.has_object || x.pgoff != y.pgoff || !(x.flags == y.flags) ||
        (x.anon_id != 0) != y.has_anon || x.kind != y.kind) {
      add_("DIFF-VSL", "as " + std::to_string(as) + ": model " + show(view_of(x)) + ", implementation " + show(y));
      return;
    }
  }
}

void CoreChecker::compare_frame(FrameId f) {
  const Frame& mf = m_.frames()[f];
  if (f == kZeroFrame) {
    if (mf.zero_mapcount != v_.page(v_.zero_pfn()).mapcount)
      add_("DIFF-FRAME", "zero page mapcount: model " + std::to_string(mf.zero_mapcount) + ", implementation " +
                             std::to_string(v_.page(v_.zero_pfn()).mapcount));
    return;
  }
  auto fw = m2i_.find(f);
  if (fw == m2i_.end() || fw->second.gen_self != mf.generation) return;  // never seen by the checker
  const impl::PageInfo& ip = v_.page(fw->second.other);
  bool ilive = ip.data && ip.generation == fw->second.gen_other;
  if (mf.allocated != ilive) {
    add_("DIFF-FRAME", "frame " + std::to_string(f) + " (PFN " + hex(fw->second.other) + "): " +
                           (mf.allocated ? "freed by the implementation only" : "freed by the model only"));
    return;
  }
  if (!ilive) return;
  std::uint64_t iver = v_.version(fw->second.other);
  if (mf.refcount != ip.refcount || mf.mapcount() != ip.mapcount || mf.version != iver)
    add_("DIFF-FRAME", "frame " + std::to_string(f) + " (PFN " + hex(fw->second.other) + "): refcount/mapcount/contents model " +
                           std::to_string(mf.refcount) + "/" + std::to_string(mf.mapcount()) + "/" + std::to_string(mf.version) +
                           ", implementation " + std::to_string(ip.refcount) + "/" + std::to_string(ip.mapcount) + "/" +
                           std::to_string(iver));
}

void CoreChecker::compare_tlb_entry(unsigned cpu, const impl::TlbHeld& h) {
  ++stats_.compared_tlb;
  if (h.size > 4096) ++stats_.compared_huge_tlb;
  Asid as = h.owner;
  auto where = [&] { return "cpu " + std::to_string(cpu) + " context " + std::to_string(h.ctx) + " va " + hex(h.va); };
  if (as == 0) {
    add_("DIFF-TLB-1", where() + ": entry filled while no address space ran");
    return;
  }
  const CpuTlb& mc = m_.cpus()[cpu];
  // A tag the trace named is the model's tag; a space's own context is the model's
  // untagged use of that space (spec/differential.md §1).
  Tag tag = v_.is_tag(h.ctx) ? Tag{h.ctx} : kSpaceTag;
  bool under_tag = false;
  mc.each_tag_of(as, [&](Tag t) { under_tag |= t == tag; });
  Vpn vpn = h.va >> 12;
  std::uint64_t pfn = h.pa >> 12, head = v_.head_of(pfn);
  // The entry is the model's leaf (or a stale one) of the same size, frame and page.
  auto frame_is = [&](FrameId f, std::uint64_t page, std::uint8_t order) {
    if ((std::uint64_t{4096} << order) != h.size) return false;
    if (f == kZeroFrame) return pfn == v_.zero_pfn();
    auto fw = m2i_.find(f);
    return fw != m2i_.end() && fw->second.other == head && pfn - head == page &&
           fw->second.gen_self == m_.frames()[f].generation && fw->second.gen_other == v_.page(head).generation;
  };
  auto within = [&](Prot p) { return (!h.rights.u || p.r) && (!h.rights.w || p.w) && (!h.rights.x || p.x); };
  if (const AddressSpace* ms = m_.space(as)) {
    auto it = ms->gpt.find(vpn);
    bool loaded = under_tag || (h.global && mc.may_have_cached(as, true));
    if (it != ms->gpt.end() && loaded && frame_is(it->second.frame, it->second.page, it->second.order) &&
        within(it->second.prot) && h.global == it->second.global)
      return;
  }
  auto st = mc.stale().find({as, vpn});
  if (st != mc.stale().end())
    for (const Held& s : st->second)
      if (frame_is(s.frame, s.page, s.order) && within(s.prot) && (s.tag == tag || h.global)) return;
  add_("DIFF-TLB-1", where() + " -> PA " + hex(h.pa) + (h.rights.w ? " writable" : "") + (h.global ? " global" : "") +
                         ": held by the TLB but outside what the model allows it to hold (spec/vmm.md §3.1)");
}

void CoreChecker::compare_tlbs() {
  for (unsigned cpu = 0; cpu < cpus_; ++cpu) {
    mmu_.held(cpu, [&](const impl::TlbHeld& h) { compare_tlb_entry(cpu, h); });
    const auto& ref = ref_.entries(cpu);
    std::size_t missing = 0;
    for (const impl::TlbHeld& r : ref)
      if (!mmu_.find(cpu, r.ctx, r.va, r.size)) ++missing;
    if (missing || ref.size() != mmu_.size(cpu))
      add_("DIFF-TLB-2", "cpu " + std::to_string(cpu) + ": the TLB holds " + std::to_string(mmu_.size(cpu)) +
                             " entries, the manual's reference " + std::to_string(ref.size()) + " (" +
                             std::to_string(missing) + " of the reference's missing)");
    stats_.max_tlb_entries = std::max<std::uint64_t>(stats_.max_tlb_entries, mmu_.size(cpu));
    compare_walks(cpu);
  }
}

namespace {
using WalkKey = std::tuple<std::uint16_t, unsigned, std::uint64_t, std::uint64_t>;
WalkKey walk_key(const impl::WalkCached& w) { return {w.ctx, w.level, w.va, w.table}; }
}  // namespace

void CoreChecker::compare_walks(unsigned cpu) {
  // DIFF-TLB-2 on the paging-structure caches: the same entries as the manual's reference.
  std::vector<WalkKey> held, ref;
  mmu_.held_walks(cpu, [&](const impl::WalkCached& w) {
    held.push_back(walk_key(w));
    check_walk(cpu, w);
  });
  for (const impl::WalkCached& w : ref_.walks(cpu)) ref.push_back(walk_key(w));
  std::sort(held.begin(), held.end());
  std::sort(ref.begin(), ref.end());
  if (held != ref)
    add_("DIFF-TLB-2", "cpu " + std::to_string(cpu) + ": the paging-structure caches hold " +
                           std::to_string(held.size()) + " entries, the manual's reference " + std::to_string(ref.size()) +
                           (held.size() == ref.size() ? " (different ones)" : ""));
  stats_.max_walk_entries = std::max<std::uint64_t>(stats_.max_walk_entries, held.size());
}

void CoreChecker::check_walk(unsigned cpu, const impl::WalkCached& w) {
  // DIFF-TLB-3: a cached upper entry leads to the table page linked there now, so no
  // walk can go through a table page that was unlinked, freed or reused (INV-PT-1's
  // rule, on the implementation's own tables).
  Asid as = w.owner;
  const impl::VmmCore::Space* s = as ? v_.space(as) : nullptr;
  std::uint64_t now = s ? s->table.table_below(w.va, w.level) : 0;
  if (now == w.table) return;
  add_("DIFF-TLB-3", "cpu " + std::to_string(cpu) + " context " + std::to_string(w.ctx) + ": a cached level-" +
                         std::to_string(w.level) + " entry for va " + hex(w.va) + " leads to table page " + hex(w.table) +
                         (s ? (now ? ", but the table there is " + hex(now) : ", which is no longer linked there")
                            : ", of no live address space"));
}

void CoreChecker::compare_spaces() {
  std::vector<Asid> ia = v_.spaces(), ma;
  for (const auto& [as, s] : m_.spaces()) ma.push_back(as);
  if (ia != ma) add_("DIFF-VSL", "the sets of address spaces differ");
  if (m_.frames().in_use() != v_.data_frames())
    add_("DIFF-FRAME", "frames in use: model " + std::to_string(m_.frames().in_use()) + ", implementation " +
                           std::to_string(v_.data_frames()));
}

void CoreChecker::compare_tables(Asid as) {
  // DIFF-TBL-2 on the VMM's own tables: every table page reachable, none empty but the root.
  const impl::VmmCore::Space* is = v_.space(as);
  if (!is) return;
  std::set<std::uint64_t> tables;
  impl::walk_all(v_.memory(), decoder_, is->table.root(), [](const impl::Leaf&) {},
                 [&](const impl::WalkIssue& i) { add_("DIFF-TBL-1", "as " + std::to_string(as) + ": " + i.what); }, &tables);
  for (const std::string& why : table_shape_issues(v_.memory(), is->table, tables))
    add_("DIFF-TBL-2", "as " + std::to_string(as) + ": " + why);
}

void CoreChecker::check_all() {
  mmu_.take_findings(add_);  // the format's own ordering rules (DIFF-BBM)
  compare_spaces();
  for (const auto& [as, s] : m_.spaces()) {
    compare_vsl(as);
    compare_space_ptes(as);
    compare_tables(as);
  }
  for (FrameId f = 0; f < m_.frames().size(); ++f) compare_frame(f);
  compare_tlbs();
  stats_.max_table_pages = std::max(stats_.max_table_pages, v_.table_pages());
  last_table_pages_ = v_.table_pages();
}

void CoreChecker::step(bool whole) {
  if (whole) {
    check_all();
    return;
  }
  mmu_.take_findings(add_);  // the format's own ordering rules (DIFF-BBM)
  const Delta& d = m_.delta();
  compare_spaces();
  for (const Delta::Range& r : d.ranges) {
    if (r.count > 4096) {
      compare_space_ptes(r.as);
      continue;
    }
    std::vector<std::vector<std::uint16_t>> ctxs(cpus_);  // where each CPU may cache the space
    for (unsigned cpu = 0; v_.space(r.as) && cpu < cpus_; ++cpu) ctxs[cpu] = v_.contexts_of(cpu, r.as);
    Vpn huge_seen = ~Vpn{0};
    for (Vpn v = r.first; v < r.first + r.count;) {
      std::uint64_t span = compare_page(r.as, v);
      Vpn huge = v & ~Vpn{511};  // a 2 MiB entry may cache any page of its region
      for (unsigned cpu = 0; cpu < cpus_; ++cpu)
        for (std::uint16_t c : ctxs[cpu]) {
          if (const impl::TlbHeld* h = mmu_.find(cpu, c, v << 12)) compare_tlb_entry(cpu, *h);
          if (huge == huge_seen) continue;
          if (const impl::TlbHeld* h = mmu_.find(cpu, c, huge << 12, std::uint64_t{2} << 20)) compare_tlb_entry(cpu, *h);
        }
      huge_seen = huge;
      v += std::max<std::uint64_t>(1, std::min<std::uint64_t>(span, r.first + r.count - v));
    }
  }
  std::vector<Asid> spaces = d.spaces;
  std::sort(spaces.begin(), spaces.end());
  spaces.erase(std::unique(spaces.begin(), spaces.end()), spaces.end());
  for (Asid as : spaces) compare_vsl(as);
  std::vector<FrameId> frames = d.frames;
  std::sort(frames.begin(), frames.end());
  frames.erase(std::unique(frames.begin(), frames.end()), frames.end());
  for (FrameId f : frames)
    if (m_.frames().valid(f)) compare_frame(f);
  for (unsigned cpu = 0; cpu < cpus_; ++cpu)
    if (ref_.entries(cpu).size() != mmu_.size(cpu))
      add_("DIFF-TLB-2", "cpu " + std::to_string(cpu) + ": the TLB holds " + std::to_string(mmu_.size(cpu)) +
                             " entries, the manual's reference " + std::to_string(ref_.entries(cpu).size()));
  // Table pages went: every cached walk must still lead to a linked table (DIFF-TLB-3).
  if (v_.table_pages() < last_table_pages_)
    for (unsigned cpu = 0; cpu < cpus_; ++cpu) compare_walks(cpu);
  last_table_pages_ = v_.table_pages();
}

}  // namespace vmref::diff
