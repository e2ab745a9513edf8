// The conformance layer's registry: per kernel, its random-event generator (fuzz, gen),
// its differential checker (what of its implementation the model's state maps onto),
// and any commands it adds to the CLI. A kernel adds its row from conformance/kernels/<k>/.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vmref/conformance/draw.hpp"
#include "vmref/conformance/finding.hpp"
#include "vmref/vocab/event.hpp"
#include "vmref/vocab/vseg_attrs.hpp"

namespace vmref::model {
class Model;
}
namespace vmref::impl {
class Vmm;
class RadixCodec;
}

namespace vmref::conformance {

/// Random but well-formed events of one kernel: every event it yields applies (no bad
/// input), given the outcomes it is told. Deterministic for a seed.
class Generator {
 public:
  virtual ~Generator() = default;
  virtual vocab::Event next() = 0;
  /// How `e` ended (a map gives a region to use later, a failed pin is not unpinned...).
  virtual void feedback(const vocab::Event& e, const vocab::Outcome& o) = 0;
};

/// A vseg as the differential compares it (spec/differential.md §2, DIFF-VSL).
struct VsegView {
  vocab::Va start = 0, end = 0;
  vocab::Prot prot;
  bool shared = false, has_object = false, has_anon = false;
  std::uint64_t pgoff = 0;  ///< pages
  vocab::VsegFlags flags;
  vocab::Kind kind = vocab::Kind::anon;
};

/// What a kernel's checker sees of one lock-step run.
struct CheckerContext {
  const model::Model& model;
  const impl::Vmm& vmm;
  const impl::RadixCodec& decoder;  ///< the architectural decoder (never mutated)
  /// Reports a finding of `id` at the current event.
  std::function<void(const char* id, const std::string& message)> add;
  /// Count page-table entries and TLB entries compared (campaign coverage).
  std::uint64_t& compared_ptes;
  std::uint64_t& compared_tlb;
};

/// One kernel's part of the differential (spec/differential.md §4).
class KernelChecker {
 public:
  virtual ~KernelChecker() = default;
  /// Appends, in address order, the implementation's vsegs of `as` that this kernel keeps,
  /// in the model's terms.
  virtual void vsl_view(vocab::Asid, std::vector<VsegView>&) const {}
  /// Kernel-specific comparisons after `e` (`whole`: compare everything now).
  virtual void compare(const vocab::Event&, bool /*whole*/) {}
};

/// A kernel's own page-mapping calls for `vmref bench --impl`: `setup` runs untimed, then
/// every `map` event maps `pages_per_call` pages, then every `unmap` event unmaps what one
/// map mapped; the bench reports nanoseconds per page of each.
struct PageBench {
  std::vector<vocab::Event> setup, map, unmap;
  std::uint64_t pages_per_call = 0;
};

struct ConformanceKernelInfo {
  std::string kernel;
  /// A generator of the kernel's events for `profile` (one of its variants, with its
  /// parameters applied: vocab::with_params) on `cpus` CPUs.
  /// Its draws come from `rng`: a seed (converts implicitly) or a fuzzer's bytes.
  std::function<std::unique_ptr<Generator>(Random rng, const vocab::Profile& profile, unsigned cpus)> generator;
  /// The kernel's checker, or null when the shared comparisons say everything.
  std::function<std::unique_ptr<KernelChecker>(CheckerContext& ctx)> checker;
  /// Whether the shared comparisons (spaces, PTEs, frames, TLBs, tables) apply: false for
  /// a kernel that keeps its own address spaces (its checker compares them).
  bool core_compare = true;
  /// `calls` maps of `pages_per_call` pages each and their unmaps, on `profile` (its
  /// parameters applied); empty for a kernel whose mapping the shared bench measures.
  std::function<PageBench(const vocab::Profile& profile, std::uint64_t pages_per_call, std::uint64_t calls)> page_bench;
};

void add_conformance_kernel(ConformanceKernelInfo k);
const ConformanceKernelInfo* find_conformance_kernel(std::string_view kernel);

}  // namespace vmref::conformance
