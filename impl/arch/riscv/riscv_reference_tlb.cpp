#include "riscv_reference_tlb.hpp"

#include <algorithm>

namespace vmref::impl::riscv {

using Insn = Mmu::Insn;

ReferenceTlb::ReferenceTlb(Mmu& mmu, unsigned sv) : sv_(sv), cpus_(mmu.cpus()) {
  mmu.set_listener([this](const Insn& i) { apply(i); });
}

// §4.2.1, one sentence at a time:
// - rs1 = x0: every level, every VA; rs1 = va: the leaf entries for that VA, whatever
//   their page size, and nothing at all when va is not a valid virtual address;
// - rs2 = x0: every address space, global mappings included; rs2 = asid: that address
//   space only, global mappings excepted.
// Writing satp invalidates nothing (§4.1.11).
void ReferenceTlb::apply(const Insn& i) {
  auto& t = cpus_[i.cpu];
  if (i.kind == Insn::fill) {
    TlbHeld h{i.asid, i.va - i.va % i.t.page_size, i.t.page_pa, i.t.page_size, i.t.rights, i.t.global, i.owner};
    std::erase_if(t, [&](const TlbHeld& o) { return o.ctx == h.ctx && o.va == h.va && o.size == h.size; });
    t.push_back(h);
    return;
  }
  if (i.kind != Insn::sfence_vma) return;
  if (i.has_va) {
    std::uint64_t top = i.va >> (sv_ - 1);
    bool valid = top == 0 || top == (~0ull >> (sv_ - 1));
    if (!valid) return;
  }
  std::erase_if(t, [&](const TlbHeld& h) {
    bool va_matches = !i.has_va || i.va / h.size == h.va / h.size;
    bool space_matches = !i.has_asid || (h.ctx == i.asid && !h.global);
    return va_matches && space_matches;
  });
}

}  // namespace vmref::impl::riscv
