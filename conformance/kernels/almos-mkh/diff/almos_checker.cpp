// The almos-mkh kernel's differential (spec/differential.md §4.2): the model's
// per-process reference VSL, allocators and per-cluster GPT maps against the
// implementation's vsegs and tables, decoded by the architectural decoder. Pages
// correspond up to renaming, as frames do for the other kernels. The kernel keeps its
// own processes, so the shared comparisons do not apply (registry row: core_compare).
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "almos_model.hpp"
#include "almos_vmm.hpp"
#include "vmref/conformance/registry.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "vmref/model/model.hpp"
#include "vmref/trace/fields.hpp"

namespace vmref::almos {

using trace::hex;

namespace {
std::string where(std::uint64_t pid, unsigned k, Vpn vpn) {
  return "pid " + std::to_string(pid) + " cluster " + std::to_string(k) + " va " + hex(vpn << 12);
}

class AlmosChecker : public conformance::KernelChecker {
 public:
  explicit AlmosChecker(conformance::CheckerContext& ctx)
      : ctx_(ctx), m_(*ctx.model.layer<AlmosModel>()), v_(*ctx.vmm.layer<AlmosVmm>()) {}

  // Fork, exec and exit touch other processes' pages (refs, forks): compare everything then.
  void compare(const vocab::Event& e, bool whole) override {
    if (whole) {
      std::set<std::uint64_t> pids;
      for (const auto& [pid, p] : m_.state().procs) pids.insert(pid);
      for (const auto& [pid, p] : v_.processes()) pids.insert(pid);
      for (std::uint64_t pid : pids) compare_process(pid, true);
    } else if (const auto* a = dynamic_cast<const ProcArgs*>(e.args.get())) {
      compare_process(a->pid, false);
    }
    if (m_.state().pages.size() != v_.live_pages())
      ctx_.add("DIFF-FRAME", "pages in use: model " + std::to_string(m_.state().pages.size()) + ", implementation " +
                                 std::to_string(v_.live_pages()));
  }

 private:
  struct Binding { std::uint64_t other = 0, gen_self = 0, gen_other = 0; };

  bool same_page(std::uint64_t ppn, std::uint64_t pfn, const std::string& at) {
    std::uint64_t igen = v_.page(pfn).generation;
    auto fw = m2i_.find(ppn);
    auto bw = i2m_.find(pfn);
    if (fw != m2i_.end() && (fw->second.other != pfn || fw->second.gen_other != igen)) {
      ctx_.add("DIFF-PTE", at + ": model page " + hex(ppn) + " corresponds to PFN " + hex(fw->second.other) +
                               " but the implementation maps PFN " + hex(pfn));
      return false;
    }
    if (bw != i2m_.end() && bw->second.gen_self == igen && bw->second.other != ppn) {
      ctx_.add("DIFF-PTE", at + ": PFN " + hex(pfn) + " corresponds to model page " + hex(bw->second.other) +
                               " but the model maps page " + hex(ppn));
      return false;
    }
    m2i_[ppn] = {pfn, 0, igen};
    i2m_[pfn] = {ppn, igen, 0};
    return true;
  }

  void compare_page(std::uint64_t ppn, std::uint64_t pfn) {
    const auto& mp = m_.state().pages;
    auto it = mp.find(ppn);
    const AlmosVmm::Page& ip = v_.page(pfn);
    if (it == mp.end() || !ip.live) {
      if ((it != mp.end()) != ip.live)
        ctx_.add("DIFF-FRAME", "page " + hex(ppn) + " (PFN " + hex(pfn) + "): freed by " +
                                   (ip.live ? "the model" : "the implementation") + " only");
      return;
    }
    const Page& m = it->second;
    std::uint64_t iver = v_.version(pfn);
    if (m.refs != ip.refs || m.forks != ip.forks || m.version != iver || m.mapper != ip.mapper)
      ctx_.add("DIFF-FRAME", "page " + hex(ppn) + " (PFN " + hex(pfn) + "): refs/forks/contents model " +
                                 std::to_string(m.refs) + "/" + std::to_string(m.forks) + "/" + std::to_string(m.version) +
                                 ", implementation " + std::to_string(ip.refs) + "/" + std::to_string(ip.forks) + "/" +
                                 std::to_string(iver));
  }

  void compare_gpt(std::uint64_t pid, unsigned k, const std::map<Vpn, Pte>* m, const impl::RadixTable* t, bool whole) {
    std::vector<Vpn> vpns;
    if (m)
      for (const auto& [vpn, pte] : *m) vpns.push_back(vpn);
    // User vsegs live in the kernel's zones, from the elf zone to the last STACK slot; a
    // whole-state check also looks for entries outside them (the lower canonical half).
    const AlmosParams& r = m_.params();
    Vpn lo = whole ? 0 : r.elf_base, hi = whole ? Vpn{1} << 35 : r.stack_base + r.stack_slots * r.stack_slot_pages;
    if (t) t->for_each(lo << 12, (hi - lo) << 12, [&](const impl::Mapping& x) { vpns.push_back(x.va >> 12); });
    std::sort(vpns.begin(), vpns.end());
    vpns.erase(std::unique(vpns.begin(), vpns.end()), vpns.end());
    for (Vpn vpn : vpns) {
      ++ctx_.compared_ptes;
      const Pte* mp = nullptr;
      if (m)
        if (auto it = m->find(vpn); it != m->end()) mp = &it->second;
      std::optional<impl::Leaf> leaf;
      if (t) leaf = impl::walk_one(ctx_.vmm.core().memory(), ctx_.decoder, t->root(), vpn << 12);
      if (!mp || !leaf) {
        ctx_.add("DIFF-PTE", where(pid, k, vpn) + (mp ? ": mapped by the model only" : ": mapped by the implementation only"));
        continue;
      }
      std::uint64_t pfn = leaf->pa >> 12;
      if (!same_page(mp->ppn, pfn, where(pid, k, vpn))) continue;
      impl::LeafAttrs a = ctx_.decoder.leaf_attrs(leaf->raw, leaf->level);
      bool w = a.rights.w, cow = a.soft & 1;
      if (w != mp->writable || cow != mp->cow)
        ctx_.add("DIFF-PTE", where(pid, k, vpn) + ": writable/cow model " + std::to_string(mp->writable) + "/" +
                                 std::to_string(mp->cow) + ", implementation " + std::to_string(w) + "/" + std::to_string(cow));
      compare_page(mp->ppn, pfn);
    }
  }

  void compare_process(std::uint64_t pid, bool whole) {
    const auto& mps = m_.state().procs;
    const auto& ips = v_.processes();
    auto mi = mps.find(pid);
    auto ii = ips.find(pid);
    if ((mi == mps.end()) != (ii == ips.end())) {
      ctx_.add("DIFF-VSL", "process " + std::to_string(pid) + " exists " +
                               (ii == ips.end() ? "in the model only" : "in the implementation only"));
      return;
    }
    if (mi == mps.end()) return;
    const Process& m = mi->second;
    const AlmosVmm::Process& i = ii->second;
    std::string who = "pid " + std::to_string(pid) + ": ";
    if (m.ref_cluster != i.ref_cluster || m.first_free_vpn != i.first_free_vpn)
      ctx_.add("DIFF-VSL", who + "reference cluster / first_free_vpn model " + std::to_string(m.ref_cluster) + "/" +
                               hex(m.first_free_vpn) + ", implementation " + std::to_string(i.ref_cluster) + "/" +
                               hex(i.first_free_vpn));
    bool same_vsl = m.vsl.size() == i.vsl.size() &&
                    std::equal(m.vsl.begin(), m.vsl.end(), i.vsl.begin(), [](const auto& a, const AlmosVmm::Vseg& y) {
                      const Vseg& x = a.second;
                      return x.type == y.type && x.base == y.base && x.pages == y.pages && x.ltid == y.ltid &&
                             x.block == y.block && x.order == y.order;
                    });
    if (!same_vsl)
      ctx_.add("DIFF-VSL", who + "the reference VSLs differ (" + std::to_string(m.vsl.size()) + " vsegs in the model, " +
                               std::to_string(i.vsl.size()) + " in the implementation)");
    if (m.local_vsl != i.local_vsl) ctx_.add("DIFF-VSL", who + "the per-cluster VSL registrations differ");
    for (std::size_t s = 0; s < m.stack_bitmap.size(); ++s)
      if (m.stack_bitmap[s] != bool(i.stack_bits[s / 64] >> (s % 64) & 1)) {
        ctx_.add("DIFF-VSL", who + "STACK slot " + std::to_string(s) + " bit differs");
        break;
      }
    for (unsigned o = 0; o < i.zombies.size(); ++o) {
      auto z = m.zombies.find(o);
      const std::vector<Vpn> none;
      if ((z == m.zombies.end() ? none : z->second) != i.zombies[o])
        ctx_.add("DIFF-VSL", who + "zombie list " + std::to_string(o) + " differs");
    }
    std::set<unsigned> clusters;
    for (const auto& [k, g] : m.gpt) clusters.insert(k);
    for (const auto& [k, t] : i.gpt) clusters.insert(k);
    for (unsigned k : clusters) {
      auto mg = m.gpt.find(k);
      auto ig = i.gpt.find(k);
      compare_gpt(pid, k, mg == m.gpt.end() ? nullptr : &mg->second, ig == i.gpt.end() ? nullptr : ig->second.get(),
                  whole);
    }
  }

  conformance::CheckerContext& ctx_;
  const AlmosModel& m_;
  const AlmosVmm& v_;
  std::unordered_map<std::uint64_t, Binding> m2i_, i2m_;  ///< model page <-> PFN
};
}  // namespace

void register_conformance();

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx) {
  return std::make_unique<AlmosChecker>(ctx);
}

}  // namespace vmref::almos
