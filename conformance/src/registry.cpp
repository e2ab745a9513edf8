#include "vmref/conformance/registry.hpp"

#include <stdexcept>

namespace vmref::conformance {

namespace {
std::vector<std::unique_ptr<ConformanceKernelInfo>>& rows() {
  static std::vector<std::unique_ptr<ConformanceKernelInfo>> k;
  return k;
}
}  // namespace

void add_conformance_kernel(ConformanceKernelInfo k) {
  if (find_conformance_kernel(k.kernel)) throw std::logic_error("conformance of '" + k.kernel + "' registered twice");
  rows().push_back(std::make_unique<ConformanceKernelInfo>(std::move(k)));
}

const ConformanceKernelInfo* find_conformance_kernel(std::string_view kernel) {
  for (const auto& k : rows())
    if (k->kernel == kernel) return k.get();
  return nullptr;
}

}  // namespace vmref::conformance

namespace vmref::conformance {
/// The shared layer registers nothing of its own yet; kernels add their rows.
void register_core() {}
}  // namespace vmref::conformance
