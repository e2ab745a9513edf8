// The almos-mkh kernel's rows in the conformance registry: its generator and its checker
// (which compares the processes itself: the shared comparisons do not apply).
#include "almos_generator.hpp"

namespace vmref::almos {

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx);

void register_conformance() {
  conformance::add_conformance_kernel(
      {kKernel,
       [](conformance::Random rng, const vocab::Profile& profile, unsigned cpus) -> std::unique_ptr<conformance::Generator> {
         return std::make_unique<AlmosGenerator>(std::move(rng), profile.name, cpus);
       },
       make_checker, false});
}

}  // namespace vmref::almos
