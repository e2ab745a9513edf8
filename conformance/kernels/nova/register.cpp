// The nova kernel's row in the conformance registry: its generator. It has no checker:
// its implementation does not exist yet (spec/kernels/nova.md §13), so campaigns run
// with --layer model.
#include "nova_generator.hpp"

namespace vmref::nova {

void register_conformance() {
  conformance::add_conformance_kernel(
      {kKernel,
       [](conformance::Random rng, const std::string& profile, unsigned) -> std::unique_ptr<conformance::Generator> {
         const vocab::Profile resolved = vocab::resolve_profile(profile);
         return std::make_unique<NovaGenerator>(std::move(rng), resolved.params<NovaParams>(kKernel)->mmu);
       },
       nullptr});
}

}  // namespace vmref::nova
