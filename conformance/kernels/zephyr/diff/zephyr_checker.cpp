// Zephyr's part of the differential (spec/differential.md §4.1): its regions as the
// model's kernel vsegs. Frames, PTEs and TLB entries of the kernel address space are
// compared by the shared checks (frame i of the page-frame array is model frame i).
#include <memory>

#include "vmref/conformance/registry.hpp"
#include "vmref/impl/vmm.hpp"
#include "zephyr_vmm.hpp"

namespace vmref::zephyr {

namespace {
class ZephyrChecker : public conformance::KernelChecker {
 public:
  explicit ZephyrChecker(const conformance::CheckerContext& ctx) : vmm_(*ctx.vmm.layer<ZephyrVmm>()) {}
  void vsl_view(Asid as, std::vector<conformance::VsegView>& out) const override {
    if (as != kKernelAs) return;
    for (const auto& [start, r] : vmm_.regions()) {
      conformance::VsegView w;
      w.start = start;
      w.end = start + r.pages * impl::kPage;
      w.prot = r.prot;
      w.pgoff = start >> impl::kPageShift;
      w.kind = vocab::Kind::kernel;
      out.push_back(w);
    }
  }

 private:
  const ZephyrVmm& vmm_;
};
}  // namespace

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx) {
  return std::make_unique<ZephyrChecker>(ctx);
}

}  // namespace vmref::zephyr
