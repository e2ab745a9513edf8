// Zephyr's rows in the conformance registry: its generator and its checker.
#include "zephyr_generator.hpp"

namespace vmref::zephyr {

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx);

void register_conformance() {
  conformance::add_conformance_kernel(
      {kKernel,
       [](conformance::Random rng, const vocab::Profile& profile, unsigned) -> std::unique_ptr<conformance::Generator> {
         return std::make_unique<ZephyrGenerator>(std::move(rng), profile.name);
       },
       make_checker});
}

}  // namespace vmref::zephyr
