// The differential checks for the almos-mkh profile (spec/differential.md §4.2): the
// model's per-process reference VSL, allocators and per-cluster GPT maps against the
// implementation's vsegs and x86-64 tables, decoded by the architectural walker. Pages
// correspond up to renaming, as frames do for the other profiles.
#include <algorithm>

#include "vmref/diff/differential.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "vmref/trace/codec.hpp"  // trace::hex: addresses as traces write them

namespace vmref::diff {

using namespace vmref::model;
namespace x86 = impl::x86_64;

using trace::hex;

namespace {
std::string where(std::uint64_t pid, unsigned k, Vpn vpn) {
  return "pid " + std::to_string(pid) + " cluster " + std::to_string(k) + " va " + hex(vpn << 12);
}
}  // namespace

bool Differential::same_almos_page(std::uint64_t ppn, std::uint64_t pfn, Findings& out, const std::string& at) {
  std::uint64_t igen = vmm_->almos()->page(pfn).generation;
  auto fw = am2i_.find(ppn);
  auto bw = ai2m_.find(pfn);
  if (fw != am2i_.end() && (fw->second.other != pfn || fw->second.gen_other != igen)) {
    add(out, "DIFF-PTE", at + ": model page " + hex(ppn) + " corresponds to PFN " + hex(fw->second.other) +
                             " but the implementation maps PFN " + hex(pfn));
    return false;
  }
  if (bw != ai2m_.end() && bw->second.gen_self == igen && bw->second.other != ppn) {
    add(out, "DIFF-PTE", at + ": PFN " + hex(pfn) + " corresponds to model page " + hex(bw->second.other) +
                             " but the model maps page " + hex(ppn));
    return false;
  }
  am2i_[ppn] = {pfn, 0, igen};
  ai2m_[pfn] = {ppn, igen, 0};
  return true;
}

void Differential::compare_almos_page(std::uint64_t ppn, std::uint64_t pfn, Findings& out) {
  const auto& mp = model_->almos().pages;
  auto it = mp.find(ppn);
  const impl::Almos::Page& ip = vmm_->almos()->page(pfn);
  if (it == mp.end() || !ip.live) {
    if ((it != mp.end()) != ip.live)
      add(out, "DIFF-FRAME", "page " + hex(ppn) + " (PFN " + hex(pfn) + "): freed by " + (ip.live ? "the model" : "the implementation") + " only");
    return;
  }
  const APage& m = it->second;
  std::uint64_t iver = vmm_->almos()->version(pfn);
  if (m.refs != ip.refs || m.forks != ip.forks || m.version != iver || m.mapper != ip.mapper)
    add(out, "DIFF-FRAME", "page " + hex(ppn) + " (PFN " + hex(pfn) + "): refs/forks/contents model " + std::to_string(m.refs) +
                               "/" + std::to_string(m.forks) + "/" + std::to_string(m.version) + ", implementation " +
                               std::to_string(ip.refs) + "/" + std::to_string(ip.forks) + "/" + std::to_string(iver));
}

void Differential::compare_almos_gpt(std::uint64_t pid, unsigned k, const std::map<Vpn, APte>* m,
                                     const impl::RadixTable* t, bool whole, Findings& out) {
  std::vector<Vpn> vpns;
  if (m)
    for (const auto& [vpn, pte] : *m) vpns.push_back(vpn);
  // User vsegs live in the profile's zones, from the elf zone to the last STACK slot; a
  // whole-state check also looks for entries outside them (the lower canonical half).
  const AlmosRules& r = model_->profile().almos;
  Vpn lo = whole ? 0 : r.elf_base, hi = whole ? Vpn{1} << 35 : r.stack_base + r.stack_slots * r.stack_slot_pages;
  if (t) t->for_each(lo << 12, (hi - lo) << 12, [&](const impl::Mapping& x) { vpns.push_back(x.va >> 12); });
  std::sort(vpns.begin(), vpns.end());
  vpns.erase(std::unique(vpns.begin(), vpns.end()), vpns.end());
  for (Vpn vpn : vpns) {
    ++stats_.compared_ptes;
    const APte* mp = nullptr;
    if (m)
      if (auto it = m->find(vpn); it != m->end()) mp = &it->second;
    std::optional<impl::Leaf> leaf;
    if (t) leaf = impl::walk_one(vmm_->memory(), arch_, t->root(), vpn << 12);
    if (!mp || !leaf) {
      add(out, "DIFF-PTE", where(pid, k, vpn) + (mp ? ": mapped by the model only" : ": mapped by the implementation only"));
      continue;
    }
    std::uint64_t pfn = leaf->pa >> 12;
    if (!same_almos_page(mp->ppn, pfn, out, where(pid, k, vpn))) continue;
    bool w = leaf->raw & x86::kRW, cow = leaf->raw & (1ull << 9);
    if (w != mp->writable || cow != mp->cow)
      add(out, "DIFF-PTE", where(pid, k, vpn) + ": writable/cow model " + std::to_string(mp->writable) + "/" +
                               std::to_string(mp->cow) + ", implementation " + std::to_string(w) + "/" + std::to_string(cow));
    compare_almos_page(mp->ppn, pfn, out);
  }
}

void Differential::compare_almos_process(std::uint64_t pid, bool whole, Findings& out) {
  const auto& mps = model_->almos().procs;
  const auto& ips = vmm_->almos()->processes();
  auto mi = mps.find(pid);
  auto ii = ips.find(pid);
  if ((mi == mps.end()) != (ii == ips.end())) {
    add(out, "DIFF-VSL", "process " + std::to_string(pid) + " exists " + (ii == ips.end() ? "in the model only" : "in the implementation only"));
    return;
  }
  if (mi == mps.end()) return;
  const AProcess& m = mi->second;
  const impl::Almos::Process& i = ii->second;
  std::string who = "pid " + std::to_string(pid) + ": ";
  if (m.ref_cluster != i.ref_cluster || m.first_free_vpn != i.first_free_vpn)
    add(out, "DIFF-VSL", who + "reference cluster / first_free_vpn model " + std::to_string(m.ref_cluster) + "/" + hex(m.first_free_vpn) +
                             ", implementation " + std::to_string(i.ref_cluster) + "/" + hex(i.first_free_vpn));
  bool same_vsl = m.vsl.size() == i.vsl.size() &&
                  std::equal(m.vsl.begin(), m.vsl.end(), i.vsl.begin(), [](const auto& a, const auto& b) {
                    const AVseg& x = a.second;
                    const impl::Almos::Vseg& y = b.second;
                    return x.type == y.type && x.base == y.base && x.pages == y.pages && x.ltid == y.ltid &&
                           x.block == y.block && x.order == y.order;
                  });
  if (!same_vsl) add(out, "DIFF-VSL", who + "the reference VSLs differ (" + std::to_string(m.vsl.size()) + " vsegs in the model, " +
                                          std::to_string(i.vsl.size()) + " in the implementation)");
  if (m.local_vsl != i.local_vsl) add(out, "DIFF-VSL", who + "the per-cluster VSL registrations differ");
  for (std::size_t s = 0; s < m.stack_bitmap.size(); ++s)
    if (m.stack_bitmap[s] != bool(i.stack_bits[s / 64] >> (s % 64) & 1)) {
      add(out, "DIFF-VSL", who + "STACK slot " + std::to_string(s) + " bit differs");
      break;
    }
  for (unsigned o = 0; o < i.zombies.size(); ++o) {
    auto z = m.zombies.find(o);
    const std::vector<Vpn> none;
    if ((z == m.zombies.end() ? none : z->second) != i.zombies[o]) add(out, "DIFF-VSL", who + "zombie list " + std::to_string(o) + " differs");
  }
  std::set<unsigned> clusters;
  for (const auto& [k, g] : m.gpt) clusters.insert(k);
  for (const auto& [k, t] : i.gpt) clusters.insert(k);
  for (unsigned k : clusters) {
    auto mg = m.gpt.find(k);
    auto ig = i.gpt.find(k);
    compare_almos_gpt(pid, k, mg == m.gpt.end() ? nullptr : &mg->second, ig == i.gpt.end() ? nullptr : ig->second.get(), whole,
                      out);
  }
}

void Differential::compare_almos_all(Findings& out) {
  std::set<std::uint64_t> pids;
  for (const auto& [pid, p] : model_->almos().procs) pids.insert(pid);
  for (const auto& [pid, p] : vmm_->almos()->processes()) pids.insert(pid);
  for (std::uint64_t pid : pids) compare_almos_process(pid, true, out);
}

void Differential::compare_almos(const Event& e, Findings& out) {
  // Fork, exec and exit touch other processes' pages (refs, forks): compare everything.
  bool full = e.op == Op::almos_fork || e.op == Op::almos_exec || e.op == Op::almos_exit || stats_.events % cfg_.full_every == 0;
  if (full) {
    ++stats_.full_checks;
    compare_almos_all(out);
  } else {
    compare_almos_process(e.as, false, out);
  }
  if (model_->almos().pages.size() != vmm_->almos()->live_pages())
    add(out, "DIFF-FRAME", "pages in use: model " + std::to_string(model_->almos().pages.size()) + ", implementation " +
                               std::to_string(vmm_->almos()->live_pages()));
}

}  // namespace vmref::diff
