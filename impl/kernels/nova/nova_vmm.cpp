// The nova kernel's row in the implementations' registry. Its implementation on
// nv_mmu_v2/v3 tables in simulated VRAM is not written yet (spec/kernels/nova.md §13):
// the layer executes none of the nova operations, so `vmref replay --impl` and the
// differential refuse them with exit 2, naming the line (spec/differential.md §4).
#include "nova_events.hpp"
#include "vmref/impl/registry.hpp"

namespace vmref::nova {

void register_impl() {
  impl::add_impl_kernel({kKernel,
                         [](impl::VmmCore& c, const vocab::KernelParams*) -> std::unique_ptr<impl::KernelLayer> {
                           return std::make_unique<impl::KernelLayer>(c);
                         },
                         {}});
}

}  // namespace vmref::nova
