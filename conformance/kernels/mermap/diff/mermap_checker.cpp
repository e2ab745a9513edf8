// The mermap's part of the differential: the per-CPU region as a kernel vseg (the model
// keeps one covering every CPU's region while the mm's mappings include it). Its PTEs,
// frames and TLB entries are compared by the shared checks.
#include <memory>

#include "mermap_vmm.hpp"
#include "vmref/conformance/registry.hpp"
#include "vmref/impl/vmm.hpp"

namespace vmref::mermap {

namespace {
class MermapChecker : public conformance::KernelChecker {
 public:
  explicit MermapChecker(const conformance::CheckerContext& ctx)
      : vmm_(*ctx.vmm.layer<MermapVmm>()), cpus_(ctx.vmm.core().mmu().cpus()) {}
  void vsl_view(Asid as, std::vector<conformance::VsegView>& out) const override {
    const mm_mermap* mm = vmm_.state(as);
    if (!mm || !mm->in_vsl) return;
    const MermapParams& p = vmm_.params();
    conformance::VsegView w;
    w.start = p.base;
    w.end = p.base + cpus_ * p.region_pages * impl::kPage;
    w.prot = {true, true, false};
    w.pgoff = p.base >> impl::kPageShift;
    w.kind = vocab::Kind::kernel;
    out.push_back(w);
  }

 private:
  const MermapVmm& vmm_;
  unsigned cpus_;
};
}  // namespace

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx) {
  return std::make_unique<MermapChecker>(ctx);
}

}  // namespace vmref::mermap
