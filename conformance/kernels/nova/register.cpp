// The nova kernel's row in the conformance registry: its generator and its differential
// checker (spec/differential.md §4.3).
#include <memory>

#include "nova_generator.hpp"
#include "vmref/conformance/registry.hpp"

namespace vmref::nova {

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx);

void register_conformance() {
  conformance::add_conformance_kernel(
      {kKernel,
       [](conformance::Random rng, const vocab::Profile& resolved, unsigned) -> std::unique_ptr<conformance::Generator> {
         return std::make_unique<NovaGenerator>(std::move(rng), resolved.params<NovaParams>(kKernel)->mmu);
       },
       make_checker});
}

}  // namespace vmref::nova
