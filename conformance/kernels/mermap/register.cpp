// The mermap's rows in the conformance registry: its generator and its checker.
#include "mermap_generator.hpp"

namespace vmref::mermap {

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx);

void register_conformance() {
  conformance::add_conformance_kernel(
      {kKernel,
       [](conformance::Random rng, const vocab::Profile& resolved, unsigned cpus) -> std::unique_ptr<conformance::Generator> {
         return std::make_unique<MermapGenerator>(std::move(rng), resolved.name, cpus,
                                                  resolved.params<MermapParams>(kKernel)->region_pages);
       },
       make_checker});
}

}  // namespace vmref::mermap
