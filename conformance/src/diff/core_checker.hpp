// The shared part of the differential (spec/differential.md §2): address spaces, every
// PTE through the architectural decoder, frames up to renaming, each CPU's TLB against
// the model's may-hold set (DIFF-TLB-1) and the format's reference TLB (DIFF-TLB-2),
// cached walks against the tables they lead to (DIFF-TLB-3),
// table shapes (DIFF-TBL-2), and the VSL against the kernels' views of their structures.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "vmref/conformance/registry.hpp"
#include "vmref/diff/differential.hpp"

namespace vmref::diff {

class CoreChecker {
 public:
  using Add = std::function<void(const char* id, const std::string& msg)>;
  CoreChecker(const model::Model& m, const impl::VmmCore& v, const impl::RadixCodec& decoder, const impl::Mmu& mmu,
              const impl::ReferenceTlb& ref, unsigned cpus, DiffStats& stats, Add add,
              const std::vector<std::unique_ptr<conformance::KernelChecker>>& views);
  /// Whether model frame `f` and PFN `pfn` correspond (binding them on first sight);
  /// `where` names the place for a finding, and is called only when there is one.
  using Where = std::function<std::string()>;
  bool same_frame(model::FrameId f, std::uint64_t pfn, const Where& where);
  /// The comparisons after an event: the whole state, or what the model's delta touched.
  void step(bool whole);
  void check_all();

 private:
  struct Binding { std::uint64_t other = 0, gen_self = 0, gen_other = 0; };
  /// Compares the leaves translating `vpn`; returns the pages from `vpn` on that the
  /// comparison covered (the rest of a huge leaf both sides have).
  std::uint64_t compare_page(vocab::Asid as, vocab::Vpn vpn);
  /// same_frame for page `page` of model frame `f` against the PFN `pfn` (of a folio).
  bool same_page(model::FrameId f, std::uint64_t page, std::uint64_t pfn, const Where& where);
  void compare_space_ptes(vocab::Asid as);
  void compare_vsl(vocab::Asid as);
  void compare_frame(model::FrameId f);
  void compare_tlb_entry(unsigned cpu, const impl::TlbHeld& h);
  void compare_tlbs();
  void compare_walks(unsigned cpu);
  void check_walk(unsigned cpu, const impl::WalkCached& w);
  void compare_spaces();
  void compare_tables(vocab::Asid as);

  const model::Model& m_;
  const impl::VmmCore& v_;
  const impl::RadixCodec& decoder_;
  const impl::Mmu& mmu_;
  const impl::ReferenceTlb& ref_;
  unsigned cpus_;
  DiffStats& stats_;
  Add add_;
  const std::vector<std::unique_ptr<conformance::KernelChecker>>& views_;
  std::vector<conformance::VsegView> vsl_scratch_;  ///< reused by compare_vsl (no allocation per event)
  std::uint64_t last_table_pages_ = 0;  ///< the implementation's table pages after the last step
  std::unordered_map<model::FrameId, Binding> m2i_;
  std::unordered_map<std::uint64_t, Binding> i2m_;
};

}  // namespace vmref::diff
