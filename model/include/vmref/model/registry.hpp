// The model's registries: each kernel's layer (how to build it, which operations it
// executes) and every invariant (ID, rule, spec section, checker). A kernel adds its
// rows from model/kernels/<k>/register.cpp; replay, fuzz and the reports read them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vmref/model/core.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::model {

class CheckScope;
class KernelLayer;
struct Violation;

/// Executes one operation on its layer.
using Handler = Outcome (*)(KernelLayer&, const Event&);

/// Adapts a layer method to a Handler: `&call<LinuxModel, &LinuxModel::mmap>`.
template <class L, Outcome (L::*F)(const Event&)>
Outcome call(KernelLayer& l, const Event& e) {
  return (static_cast<L&>(l).*F)(e);
}

struct ModelKernelInfo {
  std::string kernel;  ///< the vocabulary's kernel name, or "core"
  /// Adjusts the core before it is built (frame order, top of user space...); optional.
  void (*configure)(const vocab::KernelParams* params, CoreConfig& cfg) = nullptr;
  /// Builds the layer over `core` with the kernel's parameters (null for "core").
  std::unique_ptr<KernelLayer> (*make)(Core& core, const vocab::KernelParams* params) = nullptr;
  /// The operations the layer executes; a higher layer's row replaces a lower one's.
  std::vector<std::pair<const vocab::OpInfo*, Handler>> handlers;
};

/// Checks one invariant over a scope, appending what breaks it.
using Checker = void (*)(const CheckScope&, std::vector<Violation>&);

/// One invariant: defined once in spec/, checked here, cited by every report line. A
/// second, solver-checked form of the rule (Z3) will be a field beside `check`.
struct InvariantInfo {
  const char* id;       ///< "INV-COW-2"
  const char* rule;     ///< the one-line rule, as the spec states it
  const char* section;  ///< "spec/vmm.md §4.4"
  const char* kernel;   ///< "core", or the kernel whose rule it is
  Checker check;
};

void add_model_kernel(ModelKernelInfo k);
const ModelKernelInfo* find_model_kernel(std::string_view kernel);
void add_invariant(InvariantInfo inv);
/// Every invariant in registration order (core first, then kernels as CMake lists them).
const std::vector<InvariantInfo>& invariants();
const InvariantInfo* find_invariant(std::string_view id);

/// Registers the core layer and the core invariants (before any kernel).
void register_core_model();

}  // namespace vmref::model
