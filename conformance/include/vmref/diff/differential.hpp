// Lock-step differential execution of the model and an optimized implementation
// (spec/differential.md, IDs DIFF-*). One event stream drives both; after every event
// their observable states are compared: the outcome here, the shared state (spaces,
// PTEs through the format's architectural decoder, frames up to renaming, TLBs against
// the model's may-hold sets and the format's reference TLB, table shapes) by the core
// checker, and what each kernel keeps by that kernel's checker (conformance/registry.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vmref/conformance/finding.hpp"
#include "vmref/conformance/registry.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/vmm.hpp"
#include "vmref/model/model.hpp"

namespace vmref::diff {

struct DiffConfig {
  std::string profile;              ///< "kernel" or "kernel:variant"; "" = the default profile
  /// The profile's parameters a trace header sets (vocab::with_params); empty: the variant's.
  nlohmann::json params = nlohmann::json::object();
  std::string impl;                 ///< a format name (impl/format.hpp); "" for the first registered
  unsigned cpus = 2;
  std::uint64_t frames = 4096;      ///< data frames for both sides
  impl::FormatConfig format;        ///< the format's parameters (levels...) and the mutant
  /// Whole-state comparison every this many events (besides the per-event delta checks).
  std::uint64_t full_every = 64;
  /// Also check the model's invariants after every event (replay checks them itself).
  bool check_invariants = true;
};

/// Counters for the campaign's coverage report.
struct DiffStats {
  std::uint64_t events = 0, compared_ptes = 0, compared_tlb = 0, full_checks = 0;
  std::uint64_t max_table_pages = 0, max_tlb_entries = 0;
  std::uint64_t max_walk_entries = 0;  ///< paging-structure cache entries on one CPU
  std::uint64_t compared_huge = 0;     ///< huge leaves (above the base page) found alike on both sides
  std::uint64_t compared_huge_tlb = 0; ///< TLB entries of huge leaves judged
};

class CoreChecker;

class Differential {
 public:
  /// Throws std::invalid_argument for an unknown profile or format, or a kernel of the
  /// profile without an implementation.
  explicit Differential(DiffConfig cfg);
  ~Differential();
  /// Applies `e` to the model and to the implementation and compares. Returns the
  /// findings (empty: they agree). Throws model::ModelError or impl::Unsupported when
  /// the event cannot apply (bad input), std::invalid_argument likewise.
  std::vector<conformance::Finding> step(const vocab::Event& e);
  /// Compares the whole state now.
  std::vector<conformance::Finding> check_all();
  const model::Model& model() const { return *model_; }
  /// For expectation checks that settle hidden state (replay): changes reach the model only.
  model::Model& model_mut() { return *model_; }
  /// The model's outcome of the last event.
  const vocab::Outcome& last_outcome() const { return last_; }
  const impl::Vmm& vmm() const { return *vmm_; }
  const DiffStats& stats() const { return stats_; }

 private:
  using Findings = std::vector<conformance::Finding>;
  void add(const char* id, const std::string& msg);
  void compare_outcome(const vocab::Outcome& m, const vocab::Outcome& i);
  void compare(const vocab::Event& e, bool whole);

  DiffConfig cfg_;
  const impl::FormatInfo& format_;
  std::unique_ptr<impl::RadixCodec> decoder_;  ///< the architectural decoder (as `vmref walk` uses it)
  std::unique_ptr<impl::RadixCodec> codec_;    ///< the implementation's codec (a mutant may break it)
  std::unique_ptr<impl::Mmu> mmu_;
  std::unique_ptr<impl::ReferenceTlb> ref_tlb_;
  std::unique_ptr<model::Model> model_;
  std::unique_ptr<impl::Vmm> vmm_;
  std::unique_ptr<conformance::CheckerContext> ctx_;
  std::vector<std::unique_ptr<conformance::KernelChecker>> checkers_;
  std::unique_ptr<CoreChecker> core_;  ///< null when a kernel keeps its own address spaces
  const vocab::Event* current_ = nullptr;
  Findings* out_ = nullptr;            ///< where add() puts findings during a step
  vocab::Outcome last_;
  DiffStats stats_;
};

}  // namespace vmref::diff
