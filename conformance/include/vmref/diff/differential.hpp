// Lock-step differential execution of the model and the optimized x86-64 VMM
// (spec/formats/x86_64.md §Differential checks, IDs DIFF-*). One event stream drives
// both; after every event their observable states are compared.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "vmref/conformance/finding.hpp"
#include "vmref/diff/reference_tlb.hpp"
#include "vmref/impl/vmm.hpp"
#include "vmref/model/model.hpp"
#include "x86_64/x86_64_format.hpp"

namespace vmref::diff {

struct DiffConfig {
  model::Profile profile;
  unsigned cpus = 2;
  std::uint64_t frames = 4096;      ///< data frames for both sides
  unsigned levels = 4;              ///< x86-64 paging levels (4, or 5 with LA57)
  impl::Mutant mutant = impl::Mutant::none;
  /// Whole-state comparison every this many events (besides the per-event delta checks).
  std::uint64_t full_every = 64;
  /// Also check the model's invariants after every event (replay checks them itself).
  bool check_invariants = true;
};

/// Counters for the campaign's coverage report.
struct DiffStats {
  std::uint64_t events = 0, compared_ptes = 0, compared_tlb = 0, full_checks = 0;
  std::uint64_t max_table_pages = 0, max_tlb_entries = 0;
};

class Differential {
 public:
  explicit Differential(DiffConfig cfg);
  ~Differential();
  /// Applies `e` to the model and to the implementation and compares. Returns the
  /// findings (empty: they agree). Throws model::ModelError or impl::Unsupported when
  /// the event cannot apply (bad input), std::invalid_argument likewise.
  std::vector<conformance::Finding> step(const model::Event& e);
  /// Compares the whole state now.
  std::vector<conformance::Finding> check_all();
  const model::Model& model() const { return *model_; }
  /// For expectation checks that settle hidden state (replay): changes reach the model only.
  model::Model& model_mut() { return *model_; }
  /// The model's outcome of the last event.
  const model::Outcome& last_outcome() const { return last_; }
  const impl::Vmm& vmm() const { return *vmm_; }
  const DiffStats& stats() const { return stats_; }

 private:
  struct Binding { std::uint64_t other = 0, gen_self = 0, gen_other = 0; };
  using Findings = std::vector<conformance::Finding>;
  void add(Findings& out, const char* id, const std::string& msg) const;
  bool same_frame(model::FrameId f, std::uint64_t pfn, Findings& out, const std::string& where);
  void compare_outcome(const model::Outcome& m, const model::Outcome& i, Findings& out);
  void compare_page(model::Asid as, model::Vpn vpn, Findings& out);
  void compare_space_ptes(model::Asid as, Findings& out);
  void compare_vsl(model::Asid as, Findings& out);
  void compare_frame(model::FrameId f, Findings& out);
  void compare_tlb_entry(unsigned cpu, const impl::TlbHeld& h, Findings& out);
  void compare_tlbs(Findings& out);
  void compare_spaces(Findings& out);
  void compare_tables(model::Asid as, Findings& out);
  // The almos-mkh profile (almos_differential.cpp): processes, allocators, per-cluster GPTs, pages.
  void compare_almos(const model::Event& e, Findings& out);
  void compare_almos_all(Findings& out);
  /// `whole`: the whole lower half of each table, else only the profile's zones.
  void compare_almos_process(std::uint64_t pid, bool whole, Findings& out);
  void compare_almos_gpt(std::uint64_t pid, unsigned k, const std::map<model::Vpn, model::APte>* m,
                         const impl::RadixTable* t, bool whole, Findings& out);
  void compare_almos_page(std::uint64_t ppn, std::uint64_t pfn, Findings& out);
  bool same_almos_page(std::uint64_t ppn, std::uint64_t pfn, Findings& out, const std::string& at);

  DiffConfig cfg_;
  impl::x86_64::Format arch_;   ///< the architectural decoder (as `vmref walk` uses it)
  impl::x86_64::Format codec_;  ///< the implementation's codec (a mutant may break it)
  impl::x86_64::Mmu mmu_;
  std::unique_ptr<model::Model> model_;
  std::unique_ptr<impl::Vmm> vmm_;
  ReferenceTlb ref_tlb_;
  std::unordered_map<model::FrameId, Binding> m2i_;
  std::unordered_map<std::uint64_t, Binding> i2m_;
  std::unordered_map<std::uint64_t, Binding> am2i_, ai2m_;  ///< almos-mkh: model PPN <-> PFN
  const model::Event* current_ = nullptr;
  model::Outcome last_;
  DiffStats stats_;
};

}  // namespace vmref::diff
