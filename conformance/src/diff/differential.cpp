#include "vmref/diff/differential.hpp"

#include <algorithm>
#include <set>

#include "vmref/diff/table_shape.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "vmref/model/invariants.hpp"
#include "vmref/trace/codec.hpp"  // trace::hex: addresses as traces write them

namespace vmref::diff {

using namespace vmref::model;
using conformance::Finding;
namespace x86 = impl::x86_64;

using trace::hex;

namespace {
std::string at(Asid as, Vpn vpn) { return "as " + std::to_string(as) + " va " + hex(vpn << 12); }
}  // namespace

Differential::Differential(DiffConfig cfg)
    : cfg_(std::move(cfg)),
      arch_(x86::Config{cfg_.levels, 52, true, 63}),
      codec_(x86::Config{cfg_.levels, 52, true, cfg_.mutant == impl::Mutant::xd_wrong_bit ? 62u : 63u}),
      mmu_(cfg_.cpus, cfg_.mutant),
      ref_tlb_(cfg_.cpus) {
  model_ = std::make_unique<Model>(cfg_.profile, cfg_.cpus, cfg_.frames, 4096);
  vmm_ = std::make_unique<impl::Vmm>(cfg_.profile, cfg_.frames, codec_, mmu_, cfg_.mutant);
  mmu_.set_listener([this](const x86::Mmu::Insn& i) { ref_tlb_.apply(i); });
  m2i_[kZeroFrame] = {vmm_->zero_pfn(), 0, 0};
  i2m_[vmm_->zero_pfn()] = {kZeroFrame, 0, 0};
}

Differential::~Differential() = default;

void Differential::add(Findings& out, const char* id, const std::string& msg) const {
  Finding f;
  f.id = id;
  f.event = stats_.events ? stats_.events - 1 : 0;
  f.line = current_ ? current_->line : 0;
  f.op = current_ ? to_string(current_->op) : "";
  f.message = msg;
  out.push_back(std::move(f));
}

bool Differential::same_frame(FrameId f, std::uint64_t pfn, Findings& out, const std::string& where) {
  // Frames are compared up to renaming: a model frame and a PFN are bound on first
  // sight and must stay bound until either side frees and reallocates its frame.
  if (f == kZeroFrame || pfn == vmm_->zero_pfn()) {
    if (f == kZeroFrame && pfn == vmm_->zero_pfn()) return true;
    add(out, "DIFF-PTE", where + ": zero page on one side only (model frame " + std::to_string(f) + ", PFN " + hex(pfn) + ")");
    return false;
  }
  std::uint64_t mgen = model_->frames()[f].generation, igen = vmm_->page(pfn).generation;
  auto fw = m2i_.find(f);
  auto bw = i2m_.find(pfn);
  bool fw_live = fw != m2i_.end() && fw->second.gen_self == mgen;
  bool bw_live = bw != i2m_.end() && bw->second.gen_self == igen;
  if (fw_live && (fw->second.other != pfn || fw->second.gen_other != igen)) {
    add(out, "DIFF-PTE", where + ": model frame " + std::to_string(f) + " corresponds to PFN " + hex(fw->second.other) +
                             " but the implementation uses PFN " + hex(pfn));
    return false;
  }
  if (bw_live && (bw->second.other != f || bw->second.gen_other != mgen)) {
    add(out, "DIFF-PTE", where + ": PFN " + hex(pfn) + " corresponds to model frame " + std::to_string(bw->second.other) +
                             " but the model uses frame " + std::to_string(f));
    return false;
  }
  m2i_[f] = {pfn, mgen, igen};
  i2m_[pfn] = {f, igen, mgen};
  return true;
}

void Differential::compare_outcome(const Outcome& m, const Outcome& i, Findings& out) {
  if (m.err != i.err || m.access != i.access) {
    add(out, "DIFF-OUT", std::string("outcome: model ") + to_string(m.err) + "/" + to_string(m.access) +
                             ", implementation " + to_string(i.err) + "/" + to_string(i.access));
    return;
  }
  Op op = current_->op;
  if ((op == Op::mmap || op == Op::brk || op == Op::k_mem_map || op == Op::k_mem_stat || op == Op::almos_vseg) &&
      m.ret != i.ret)
    add(out, "DIFF-OUT", std::string(op == Op::k_mem_stat ? "statistic '" + current_->name + "'" : "returned address") +
                             ": model " + hex(m.ret) + ", implementation " + hex(i.ret));
  bool framed = (current_->op == Op::access || current_->op == Op::pin) && m.err == Err::ok && m.access == AccessResult::ok;
  if (framed) same_frame(m.frame, i.frame, out, "access at " + hex(current_->addr));
}

void Differential::compare_page(Asid as, Vpn vpn, Findings& out) {
  ++stats_.compared_ptes;
  const AddressSpace* ms = model_->space(as);
  const impl::Vmm::Space* is = vmm_->space(as);
  if (!ms || !is) return;  // compare_spaces reports that
  auto it = ms->gpt.find(vpn);
  auto leaf = impl::walk_one(vmm_->memory(), arch_, vmm_->table(*is).root(), vpn << 12);
  if ((it != ms->gpt.end()) != leaf.has_value()) {
    add(out, "DIFF-PTE", at(as, vpn) + (leaf ? ": mapped by the implementation only" : ": mapped by the model only"));
    return;
  }
  if (!leaf) return;
  const Pte& p = it->second;
  if (!same_frame(p.frame, leaf->pa >> 12, out, at(as, vpn))) return;
  impl::Rights r = leaf->rights;
  // A user page no user access may reach is the model's "no rights"; a kernel page
  // (mermap) is U/S = 0 and readable by the kernel.
  Prot ip{p.user ? r.u : true, r.w, r.x};
  if (!p.user && r.u) add(out, "DIFF-PTE", at(as, vpn) + ": a kernel mapping in the model is user-accessible in the implementation");
  bool g = leaf->raw & x86::kG, a = leaf->raw & x86::kA, d = leaf->raw & x86::kD, cow = leaf->raw & (1ull << 9);
  if (!(ip == p.prot) || g != p.global || cow != p.cow)
    add(out, "DIFF-PTE", at(as, vpn) + ": rights model " + p.prot.str() + (p.global ? " G" : "") + (p.cow ? " cow" : "") +
                             ", implementation (architectural decode) " + ip.str() + (g ? " G" : "") + (cow ? " cow" : ""));
  if (a != p.accessed || d != p.dirty)
    add(out, "DIFF-AD", at(as, vpn) + ": accessed/dirty model " + std::to_string(p.accessed) + "/" + std::to_string(p.dirty) +
                            ", implementation " + std::to_string(a) + "/" + std::to_string(d));
}

void Differential::compare_space_ptes(Asid as, Findings& out) {
  const AddressSpace* ms = model_->space(as);
  const impl::Vmm::Space* is = vmm_->space(as);
  if (!ms || !is) return;
  std::vector<Vpn> vpns;
  for (const auto& [vpn, p] : ms->gpt) vpns.push_back(vpn);
  vmm_->table(*is).for_each(0, model_->profile().task_size, [&](const impl::Mapping& m) {
    for (std::uint64_t o = 0; o < m.size; o += 4096) vpns.push_back((m.va + o) >> 12);
  });
  std::sort(vpns.begin(), vpns.end());
  vpns.erase(std::unique(vpns.begin(), vpns.end()), vpns.end());
  for (Vpn v : vpns) compare_page(as, v, out);
}

void Differential::compare_vsl(Asid as, Findings& out) {
  const AddressSpace* ms = model_->space(as);
  const impl::Vmm::Space* is = vmm_->space(as);
  if (!ms || !is) return;
  const auto& iv = vmm_->vsl(*is);
  auto show = [](const Vseg& v) {
    return hex(v.start) + "-" + hex(v.end) + " " + v.prot.str() + (v.shared ? " shared" : "") +
           (v.object ? " object" : "") + " pgoff " + hex(v.pgoff) + (v.anon_id ? " anon" : "");
  };
  auto a = ms->vsl.map().begin();
  auto b = iv.begin();
  for (; a != ms->vsl.map().end() || b != iv.end(); ++a, ++b) {
    if (a == ms->vsl.map().end() || b == iv.end()) {
      add(out, "DIFF-VSL", "as " + std::to_string(as) + ": " +
                               (a == ms->vsl.map().end() ? "implementation has extra vseg " + show(b->second)
                                                         : "model has extra vseg " + show(a->second)));
      return;
    }
    const Vseg &x = a->second, &y = b->second;
    if (x.start != y.start || x.end != y.end || !(x.prot == y.prot) || x.shared != y.shared ||
        (x.object != 0) != (y.object != 0) || x.pgoff != y.pgoff || !(x.flags == y.flags) ||
        (x.anon_id != 0) != (y.anon_id != 0) || x.kind != y.kind) {
      add(out, "DIFF-VSL", "as " + std::to_string(as) + ": model " + show(x) + ", implementation " + show(y));
      return;
    }
  }
}

void Differential::compare_frame(FrameId f, Findings& out) {
  const Frame& mf = model_->frames()[f];
  if (f == kZeroFrame) {
    if (mf.zero_mapcount != vmm_->page(vmm_->zero_pfn()).mapcount)
      add(out, "DIFF-FRAME", "zero page mapcount: model " + std::to_string(mf.zero_mapcount) + ", implementation " +
                                 std::to_string(vmm_->page(vmm_->zero_pfn()).mapcount));
    return;
  }
  auto fw = m2i_.find(f);
  if (fw == m2i_.end() || fw->second.gen_self != mf.generation) return;  // never seen by the checker
  const impl::PageInfo& ip = vmm_->page(fw->second.other);
  bool ilive = ip.data && ip.generation == fw->second.gen_other;
  if (mf.allocated != ilive) {
    add(out, "DIFF-FRAME", "frame " + std::to_string(f) + " (PFN " + hex(fw->second.other) + "): " +
                               (mf.allocated ? "freed by the implementation only" : "freed by the model only"));
    return;
  }
  if (!ilive) return;
  std::uint64_t iver = vmm_->version(fw->second.other);
  if (mf.refcount != ip.refcount || mf.mapcount() != ip.mapcount || mf.version != iver)
    add(out, "DIFF-FRAME", "frame " + std::to_string(f) + " (PFN " + hex(fw->second.other) + "): refcount/mapcount/contents model " +
                               std::to_string(mf.refcount) + "/" + std::to_string(mf.mapcount()) + "/" + std::to_string(mf.version) +
                               ", implementation " + std::to_string(ip.refcount) + "/" + std::to_string(ip.mapcount) + "/" +
                               std::to_string(iver));
}

void Differential::compare_tlb_entry(unsigned cpu, const impl::TlbHeld& h, Findings& out) {
  ++stats_.compared_tlb;
  Asid as = vmm_->asid_of(h.ctx);
  std::string where = "cpu " + std::to_string(cpu) + " PCID " + std::to_string(h.ctx) + " va " + hex(h.va);
  if (as == 0) {
    add(out, "DIFF-TLB-1", where + ": entry of a context no address space owns");
    return;
  }
  const CpuTlb& mc = model_->cpus()[cpu];
  Vpn vpn = h.va >> 12;
  std::uint64_t pfn = h.pa >> 12;
  auto frame_is = [&](FrameId f) {
    if (f == kZeroFrame) return pfn == vmm_->zero_pfn();
    auto fw = m2i_.find(f);
    return fw != m2i_.end() && fw->second.other == pfn && fw->second.gen_self == model_->frames()[f].generation &&
           fw->second.gen_other == vmm_->page(pfn).generation;
  };
  auto within = [&](Prot p) { return (!h.rights.u || p.r) && (!h.rights.w || p.w) && (!h.rights.x || p.x); };
  if (const AddressSpace* ms = model_->space(as)) {
    auto it = ms->gpt.find(vpn);
    bool loaded = mc.loaded.count(as) || (h.global && mc.global_loaded.count(as));
    if (it != ms->gpt.end() && loaded && frame_is(it->second.frame) && within(it->second.prot) &&
        h.global == it->second.global)
      return;
  }
  auto st = mc.stale().find({as, vpn});
  if (st != mc.stale().end())
    for (const Held& s : st->second)
      if (frame_is(s.frame) && within(s.prot)) return;
  add(out, "DIFF-TLB-1", where + " -> PA " + hex(h.pa) + (h.rights.w ? " writable" : "") + (h.global ? " global" : "") +
                             ": held by the TLB but outside what the model allows it to hold (spec §3.1)");
}

void Differential::compare_tlbs(Findings& out) {
  for (unsigned cpu = 0; cpu < cfg_.cpus; ++cpu) {
    const x86::Tlb& t = mmu_.tlb(cpu);
    t.each([&](const impl::TlbHeld& h) { compare_tlb_entry(cpu, h, out); });
    const auto& ref = ref_tlb_.entries(cpu);
    std::size_t missing = 0;
    for (const impl::TlbHeld& r : ref)
      if (!t.find(r.ctx, r.va, r.size)) ++missing;
    if (missing || ref.size() != t.size())
      add(out, "DIFF-TLB-2", "cpu " + std::to_string(cpu) + ": the TLB holds " + std::to_string(t.size()) +
                                 " entries, the SDM reference " + std::to_string(ref.size()) + " (" +
                                 std::to_string(missing) + " of the reference's missing)");
    stats_.max_tlb_entries = std::max<std::uint64_t>(stats_.max_tlb_entries, t.size());
  }
}

void Differential::compare_spaces(Findings& out) {
  std::vector<Asid> ia = vmm_->spaces(), ma;
  for (const auto& [as, s] : model_->spaces()) ma.push_back(as);
  std::sort(ia.begin(), ia.end());
  if (ia != ma) add(out, "DIFF-VSL", "the sets of address spaces differ");
  if (model_->frames().in_use() != vmm_->data_frames())
    add(out, "DIFF-FRAME", "frames in use: model " + std::to_string(model_->frames().in_use()) + ", implementation " +
                               std::to_string(vmm_->data_frames()));
}

void Differential::compare_tables(Asid as, Findings& out) {
  // DIFF-TBL-2 on the VMM's own tables: every table page reachable, none empty but the root.
  const impl::Vmm::Space* is = vmm_->space(as);
  if (!is) return;
  const impl::RadixTable& t = vmm_->table(*is);
  std::set<std::uint64_t> tables;
  impl::walk_all(vmm_->memory(), arch_, t.root(), [](const impl::Leaf&) {},
                 [&](const impl::WalkIssue& i) { add(out, "DIFF-TBL-1", "as " + std::to_string(as) + ": " + i.what); }, &tables);
  for (const std::string& why : table_shape_issues(vmm_->memory(), t, tables))
    add(out, "DIFF-TBL-2", "as " + std::to_string(as) + ": " + why);
}

std::vector<Finding> Differential::check_all() {
  Findings out;
  ++stats_.full_checks;
  if (vmm_->almos()) {
    compare_almos_all(out);
    return out;
  }
  compare_spaces(out);
  for (const auto& [as, s] : model_->spaces()) {
    compare_vsl(as, out);
    compare_space_ptes(as, out);
    compare_tables(as, out);
  }
  for (FrameId f = 0; f < model_->frames().size(); ++f) compare_frame(f, out);
  compare_tlbs(out);
  stats_.max_table_pages = std::max(stats_.max_table_pages, vmm_->table_pages());
  return out;
}

std::vector<Finding> Differential::step(const Event& e) {
  current_ = &e;
  ++stats_.events;
  Outcome mo = model_->apply(e);
  last_ = mo;
  Outcome io = vmm_->apply(e);
  Findings out;
  if (cfg_.check_invariants) {  // the model's own invariants, named as replay names them
    std::vector<model::Violation> v;
    model::check_invariants(*model_, false, v);
    for (auto& x : v) add(out, x.id.c_str(), x.message);
  }
  compare_outcome(mo, io, out);
  if (vmm_->almos()) {  // the almos-mkh profile keeps its own processes and pages
    compare_almos(e, out);
    return out;
  }
  bool global_op = e.op == Op::tlb_flush || e.op == Op::switch_as || e.op == Op::fork || e.op == Op::as_destroy ||
                   e.op == Op::exec_reset;
  const Delta& d = model_->delta();
  if (global_op || d.all || stats_.events % cfg_.full_every == 0) {
    auto all = check_all();
    out.insert(out.end(), all.begin(), all.end());
    return out;
  }
  compare_spaces(out);
  for (const Delta::Range& r : d.ranges) {
    if (r.count > 4096) {
      compare_space_ptes(r.as, out);
      continue;
    }
    const impl::Vmm::Space* is = vmm_->space(r.as);
    for (Vpn v = r.first; v < r.first + r.count; ++v) {
      compare_page(r.as, v, out);
      for (unsigned cpu = 0; is && cpu < cfg_.cpus; ++cpu)
        if (const impl::TlbHeld* h = mmu_.tlb(cpu).find(vmm_->context(*is), v << 12)) compare_tlb_entry(cpu, *h, out);
    }
  }
  std::vector<Asid> spaces = d.spaces;
  std::sort(spaces.begin(), spaces.end());
  spaces.erase(std::unique(spaces.begin(), spaces.end()), spaces.end());
  for (Asid as : spaces) compare_vsl(as, out);
  std::vector<FrameId> frames = d.frames;
  std::sort(frames.begin(), frames.end());
  frames.erase(std::unique(frames.begin(), frames.end()), frames.end());
  for (FrameId f : frames)
    if (model_->frames().valid(f)) compare_frame(f, out);
  for (unsigned cpu = 0; cpu < cfg_.cpus; ++cpu)
    if (ref_tlb_.entries(cpu).size() != mmu_.tlb(cpu).size())
      add(out, "DIFF-TLB-2", "cpu " + std::to_string(cpu) + ": the TLB holds " + std::to_string(mmu_.tlb(cpu).size()) +
                                 " entries, the SDM reference " + std::to_string(ref_tlb_.entries(cpu).size()));
  return out;
}

}  // namespace vmref::diff
