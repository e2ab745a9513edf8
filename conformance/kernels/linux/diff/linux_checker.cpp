// The linux kernel's part of the differential (spec/differential.md §4): its VMA tree,
// translated into the model's vseg terms for DIFF-VSL. Everything else it keeps lives
// in the shared core and is compared there.
#include "linux_checker.hpp"

#include <array>
#include <bit>

#include "linux_vmm.hpp"
#include "vmref/impl/vmm.hpp"

namespace vmref::linux_mm {

using conformance::VsegView;
using vocab::VmFlag;

namespace {
/// VM_* bits of the implementation and the vseg flags they stand for.
constexpr std::pair<std::uint64_t, VmFlag> kFlags[] = {
    {VM_LOCKED, VmFlag::locked},       {VM_GROWSDOWN, VmFlag::growsdown}, {VM_ACCOUNT, VmFlag::account},
    {VM_NORESERVE, VmFlag::noreserve}, {VM_DONTCOPY, VmFlag::dontcopy},   {VM_WIPEONFORK, VmFlag::wipeonfork},
    {VM_SEQ_READ, VmFlag::seq_read},   {VM_RAND_READ, VmFlag::rand_read}, {VM_DONTDUMP, VmFlag::dontdump},
    {VM_HUGEPAGE, VmFlag::hugepage},   {VM_NOHUGEPAGE, VmFlag::nohugepage}, {VM_MERGEABLE, VmFlag::mergeable},
    {VM_GUARD, VmFlag::guard},         {VM_GLOBAL, VmFlag::global}};

/// The vseg flags of a VMA's VM_* bits: a walk over the bits that are set (usually one or
/// two), since this runs for every VMA at every VSL comparison.
std::uint32_t vseg_flag_bits(std::uint64_t vm_flags) {
  static const auto table = [] {
    std::array<std::uint8_t, 64> t{};
    for (auto [bit, flag] : kFlags) t[std::countr_zero(bit)] = static_cast<std::uint8_t>(flag);
    return t;
  }();
  static const std::uint64_t mask = [] {
    std::uint64_t m = 0;
    for (auto [bit, flag] : kFlags) m |= bit;
    return m;
  }();
  std::uint32_t out = 0;
  for (std::uint64_t m = vm_flags & mask; m; m &= m - 1) out |= 1u << table[std::countr_zero(m)];
  return out;
}

class LinuxChecker : public conformance::KernelChecker {
 public:
  explicit LinuxChecker(const conformance::CheckerContext& ctx) : vmm_(*ctx.vmm.layer<LinuxVmm>()) {}
  void vsl_view(Asid as, std::vector<VsegView>& out) const override {
    const LinuxVmm::Mm* mm = vmm_.mm(as);
    if (!mm) return;
    out.reserve(out.size() + mm->vmas.map().size());
    for (const auto& [end, v] : mm->vmas.map())
      out.push_back(VsegView{v.vm_start, v.vm_end, {v.has(VM_READ), v.has(VM_WRITE), v.has(VM_EXEC)},
                             v.has(VM_SHARED), v.vm_file != 0, v.anon_vma != 0, v.vm_pgoff,
                             vocab::VsegFlags{vseg_flag_bits(v.vm_flags), v.has(VM_MAYWRITE)}, v.kind});
  }

 private:
  const LinuxVmm& vmm_;
};
}  // namespace

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx) {
  return std::make_unique<LinuxChecker>(ctx);
}

}  // namespace vmref::linux_mm
