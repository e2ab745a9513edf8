// The mermap's rows in the conformance registry: its generator and its checker.
#include "mermap_generator.hpp"

namespace vmref::mermap {

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx);

void register_conformance() {
  conformance::add_conformance_kernel(
      {kKernel,
       [](std::uint64_t seed, const std::string& profile, unsigned cpus) -> std::unique_ptr<conformance::Generator> {
         auto params = vocab::resolve_profile(profile).params<MermapParams>(kKernel);
         return std::make_unique<MermapGenerator>(seed, profile, cpus, params->region_pages);
       },
       make_checker});
}

}  // namespace vmref::mermap
