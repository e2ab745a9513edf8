// The implementations' registry: each kernel's implementation layer (how to build it,
// which operations it executes). A kernel adds its row from impl/kernels/<k>/; formats
// and mutants have their own tables (format.hpp, mutant.hpp).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vmref/impl/vmm.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::impl {

/// Executes one operation on its layer.
using Handler = Outcome (*)(KernelLayer&, const Event&);

/// Adapts a layer method to a Handler: `&call<LinuxVmm, &LinuxVmm::mmap>`.
template <class L, Outcome (L::*F)(const Event&)>
Outcome call(KernelLayer& l, const Event& e) {
  return (static_cast<L&>(l).*F)(e);
}

struct ImplKernelInfo {
  std::string kernel;  ///< the vocabulary's kernel name, or "core"
  /// Builds the layer over `core` with the kernel's parameters (null for "core").
  std::unique_ptr<KernelLayer> (*make)(VmmCore& core, const vocab::KernelParams* params) = nullptr;
  /// The operations the layer executes; a higher layer's row replaces a lower one's.
  std::vector<std::pair<const vocab::OpInfo*, Handler>> handlers;
};

void add_impl_kernel(ImplKernelInfo k);
const ImplKernelInfo* find_impl_kernel(std::string_view kernel);

/// Registers the core's layer (as_create, as_destroy, switch, tlb_flush, observe) and
/// the engine's mutants (before any format or kernel).
void register_core_impl();

}  // namespace vmref::impl
