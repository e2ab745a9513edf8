// Transparent huge pages (spec/kernels/linux.md §1.13) the way Linux mm/huge_memory.c does
// them: a PMD leaf on an anonymous fault, the huge zero page, the write-protect fault on a
// PMD leaf, and __split_huge_pmd.
#include "linux_vmm.hpp"

namespace vmref::linux_mm {

using namespace vmref::impl;
using vocab::AccessKind;
using vocab::AccessResult;

namespace {
constexpr unsigned kPmdOrder = 9;                     // HPAGE_PMD_ORDER with 4 KiB pages
constexpr std::uint64_t kPmdSize = kPage << kPmdOrder;  // HPAGE_PMD_SIZE
}  // namespace

std::optional<LinuxVmm::Fault> LinuxVmm::huge_anonymous_fault(Space& s, Mm& m, Vma& v, Va va, AccessKind kind) {
  // thp_vma_allowable_order (THP "always"): private anonymous, not MADV_NOHUGEPAGE, the
  // PMD-aligned range inside the VMA; and pmd_none: no table below the PMD entry.
  Va haddr = va & ~(kPmdSize - 1);
  if (!p_.thp || v.vm_file || v.has(VM_SHARED) || v.has(VM_NOHUGEPAGE) || v.kind == vocab::Kind::special)
    return std::nullopt;
  if (haddr < v.vm_start || haddr + kPmdSize > v.vm_end) return std::nullopt;
  bool none = true;
  s.table.for_each(haddr, kPmdSize, [&](const Mapping&) { none = false; });
  if (!none) return std::nullopt;
  std::uint64_t head;
  bool zero = kind != AccessKind::write && p_.zero_page_on_read;
  if (zero) {
    auto z = core_.huge_zero(kPmdOrder);  // mm_get_huge_zero_folio; VM_FAULT_FALLBACK if absent
    if (!z) return std::nullopt;
    head = *z;
  } else {
    auto f = core_.alloc_folio(kPmdOrder);  // vma_alloc_anon_folio_pmd; fallback on failure
    if (!f) return std::nullopt;
    head = *f;
    anon_vma_prepare(m, v);
  }
  core_.set_huge(s, haddr, head, kPmdSize, attrs_for(v, head, zero));
  return Fault{AccessResult::ok, Err::ok, head};
}

std::optional<LinuxVmm::Fault> LinuxVmm::huge_wp_fault(Space& s, Vma& v, const Mapping& leaf) {
  std::uint64_t head = leaf.pa >> kPageShift;
  const PageInfo& p = core_.page(head);
  if (core_.is_zero(head) || !p_.cow_reuse_exclusive || p.cached || p.refcount != 1) {
    split_huge_pmd(s, leaf.va);  // fallback: the write faults again on the base PTE
    return std::nullopt;
  }
  LeafAttrs a = attrs_for(v, head, false);  // the folio's only reference: reuse it whole
  a.accessed = leaf.attrs.accessed;
  a.dirty = leaf.attrs.dirty;
  core_.set_huge(s, leaf.va, head, leaf.size, a);
  return Fault{AccessResult::ok, Err::ok, head};
}

void LinuxVmm::split_huge_pmd(Space& s, Va va) {
  auto leaf = s.table.lookup(va);
  if (!leaf || leaf->size == kPage) return;
  std::uint64_t head = leaf->pa >> kPageShift;
  bool zero = core_.is_zero(head);
  // pmdp_invalidate: the PMD is cleared and flushed before the PTE table is filled.
  s.table.unmap(leaf->va, leaf->size);
  core_.count_map(head, leaf->size, -1);
  if (core_.mutant() != &kSplitSkipsFlush) core_.shootdown_leaf(s, leaf->va, leaf->size);
  LeafAttrs a = leaf->attrs;
  for (std::uint64_t i = 0; i < leaf->size / kPage; ++i) {
    // __split_huge_zero_page_pmd maps the small zero page; an anonymous folio's pages
    // keep their folio, each PTE taking a reference (folio_ref_add(HPAGE_PMD_NR - 1)).
    std::uint64_t pfn = zero ? core_.zero_pfn() : head + i;
    if (!zero && i > 0 && core_.mutant() != &kSplitLosesFolioRefs) core_.get(head);
    core_.set_pte(s, leaf->va + i * kPage, pfn, a);
  }
}

}  // namespace vmref::linux_mm
