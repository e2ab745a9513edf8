// Transparent huge pages (spec/kernels/linux.md §1.13): 2 MiB anonymous leaves on fault,
// the huge zero page, COW of a huge leaf, and the split that any partial change forces.
#include "linux_model.hpp"

namespace vmref::linux_mm {

using namespace vmref::model;

bool LinuxModel::thp_eligible(const AddressSpace& s, const Vseg& v, Vpn first) const {
  // Linux thp_vma_allowable_order + do_huge_pmd_anonymous_page: private anonymous, not
  // VM_NOHUGEPAGE or special, the aligned range inside the vseg, and nothing mapped there
  // yet (the spec's reading of pmd_none, §1.13).
  if (!p_.thp || v.object != kNoObject || v.shared || v.kind == Kind::special || v.flags.has(VmFlag::nohugepage))
    return false;
  std::uint64_t n = std::uint64_t{1} << core_.geometry.entry_bits;
  if ((first << page_shift_) < v.start || ((first + n) << page_shift_) > v.end) return false;
  auto it = s.gpt.lower_bound(first);
  return it == s.gpt.end() || it->first >= first + n;
}

std::optional<LinuxModel::FaultResult> LinuxModel::huge_fault(AddressSpace& s, Vseg& v, Vpn vpn, AccessKind kind) {
  unsigned order = core_.geometry.entry_bits;
  Vpn first = vpn & ~((Vpn{1} << order) - 1);
  if (!thp_eligible(s, v, first)) return std::nullopt;
  Pte pte;
  pte.order = static_cast<std::uint8_t>(order);
  pte.global = v.flags.has(VmFlag::global);
  if (kind != AccessKind::write && p_.zero_page_on_read) {
    // The huge zero page is made on first use; when it does not fit, Linux falls back
    // to base pages (VM_FAULT_FALLBACK).
    if (core_.huge_zero == kNoFrame && frames_.capacity() - frames_.in_use() < (std::uint64_t{1} << order))
      return std::nullopt;
    pte.frame = core_.huge_zero_frame();
    pte.cow = true;
    hit(Rule::thp_zero_fault);
  } else {
    auto f = frames_.alloc(Content::zero, order);
    if (!f) return std::nullopt;  // no room for a folio: base pages (THP_FAULT_FALLBACK)
    pte.frame = *f;
    prepare_anon(s, v);
    hit(Rule::thp_fault);
  }
  pte.prot = effective_rights(v, pte.frame, pte.cow);
  install_pte(s, first, pte);
  return FaultResult{AccessResult::ok, Err::ok, pte.frame};
}

std::optional<LinuxModel::FaultResult> LinuxModel::huge_leaf_access(AddressSpace& s, Vseg& v, Vpn leaf, AccessKind kind,
                                                                    int cpu) {
  Pte p = s.gpt.at(leaf);
  if (!allows(p.prot, kind)) {
    if (kind != AccessKind::write || v.shared || p.prot.w) {  // the leaf lags its vseg: refresh it
      p.prot = effective_rights(v, p.frame, p.cow);
      install_pte(s, leaf, p);
    } else {
      // Linux do_huge_pmd_wp_page: a folio only this leaf references is reused whole;
      // the huge zero page and a shared folio are split, and the write faults again on
      // the base page (VM_FAULT_FALLBACK).
      const Frame& f = frames_[p.frame];
      if (f.zero_page || !p_.cow_reuse_exclusive || f.cached || f.refcount != 1) {
        split_huge(s, leaf);
        return std::nullopt;
      }
      p.cow = false;
      p.prot = effective_rights(v, p.frame, false);
      install_pte(s, leaf, p);
      hit(Rule::thp_cow_reuse);
    }
  }
  Pte& q = s.gpt.at(leaf);
  q.accessed = true;
  if (kind == AccessKind::write && cpu >= 0) {
    q.dirty = true;
    frames_[q.frame].content = Content::data;
    ++frames_[q.frame].version;
  }
  delta_.ranges.push_back({s.asid, leaf, 1});
  return FaultResult{AccessResult::ok, Err::ok, q.frame};
}

void LinuxModel::split_huge(AddressSpace& s, Vpn leaf) {
  const Pte big = s.gpt.at(leaf);
  const std::uint64_t n = std::uint64_t{1} << big.order;
  const bool zero = frames_[big.frame].zero_page;
  // pmdp_invalidate: the huge translation is cleared and flushed before any base PTE is
  // written, so no CPU can hold both sizes for one page.
  remove_pte(s, leaf);
  shootdown(s.asid, leaf, n);
  Pte small = big;
  small.order = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    // The huge zero page becomes the zero page; a folio's pages stay its own, each base
    // PTE holding a reference (Linux adds HPAGE_PMD_NR - 1 to the one the leaf held).
    small.frame = zero ? kZeroFrame : big.frame;
    small.page = zero ? 0 : big.page + i;
    if (!zero && i > 0) get_frame(big.frame);
    install_pte(s, leaf + i, small);
  }
  hit(Rule::thp_split);
}

void LinuxModel::split_huge_at(AddressSpace& s, Va va) {
  Vpn vpn = va >> page_shift_;
  if (va & (page_size_ - 1)) return;
  auto it = leaf_at(s.gpt, vpn);
  if (it != s.gpt.end() && it->first != vpn) split_huge(s, it->first);
}

void LinuxModel::split_pinned_huge(AddressSpace& s, const Vseg& v) {
  // Linux copy_huge_pmd: a pinned folio may not be shared with the child, so the leaf is
  // split and fork copies the pinned base pages as it does any (§1.5).
  if (v.shared) return;
  Vpn first = v.start >> page_shift_, last = v.end >> page_shift_;
  for (auto it = s.gpt.lower_bound(first); it != s.gpt.end() && it->first < last;) {
    Vpn at = it->first;
    std::uint64_t span = std::uint64_t{1} << it->second.order;
    const Frame& f = frames_[it->second.frame];
    if (span > 1 && !f.zero_page && !f.pins.empty()) split_huge(s, at);
    it = s.gpt.upper_bound(at + span - 1);
  }
}

std::vector<std::uint32_t> LinuxModel::page_maps(FrameId f) const {
  const Frame& fr = frames_[f];
  std::vector<std::uint32_t> maps(std::uint64_t{1} << fr.order, 0);
  for (auto [as, vpn] : fr.mappers) {
    const AddressSpace* s = core_.space(as);
    if (!s) continue;
    auto it = s->gpt.find(vpn);
    if (it == s->gpt.end() || it->second.frame != f) continue;
    std::uint64_t lo = it->second.page, hi = lo + (std::uint64_t{1} << it->second.order);
    for (std::uint64_t i = lo; i < hi && i < maps.size(); ++i) ++maps[i];
  }
  return maps;
}

}  // namespace vmref::linux_mm
