// The mermap's optimized implementation (spec/kernels/mermap.md) as the RFC posts it:
// per mm a per-CPU `struct mermap_cpu` (bump pointer and `struct mermap_alloc` tracking
// slots), kernel PTEs (U/S = 0) written with the engine, and the reset path's local
// flush. Frames cleared by mermap_put wait for a flush of the CPU that used them. The
// model's variant flags (fixed, rfc, broken) select the same rules here.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "mermap_events.hpp"
#include "vmref/impl/vmm.hpp"

namespace vmref::mermap {

using impl::VmmCore;
using vocab::Asid;
using vocab::Event;
using vocab::Outcome;

/// struct mermap_alloc: one tracking slot.
struct mermap_alloc {
  bool in_use = false, reserve = false;
  unsigned long base = 0, end = 0;
};
/// struct mermap_cpu: the CPU's next free address and its tracking slots.
struct mermap_cpu {
  unsigned long next_addr = 0;
  std::vector<mermap_alloc> allocs;
};
/// mm->mermap: the per-CPU state (empty until mermap_mm_prepare), and what the task
/// holds (migrate_disable depth, live handles by name).
struct mm_mermap {
  std::vector<mermap_cpu> cpu;
  bool in_vsl = false;  ///< the region is part of the mm's kernel mappings (until exec)
  std::uint64_t migrate_disable = 0;
  std::map<std::string, std::pair<unsigned, std::size_t>> handles;  ///< name -> (cpu, slot)
  /// Names of gets that returned NULL here though the recorded kernel's returned an
  /// address: their put does nothing (spec/kernels/mermap.md §3).
  std::set<std::string> null_here;
};

class MermapVmm : public impl::KernelLayer {
 public:
  MermapVmm(VmmCore& core, const MermapParams& params) : KernelLayer(core), p_(params) {}
  Outcome prepare(const Event& e);
  Outcome get(const Event& e);
  Outcome put(const Event& e);
  Outcome teardown(const Event& e);
  void before_destroy(Asid as) override {
    unmap_region(as);
    mms_.erase(as);
  }
  void flushed(int cpu, Asid as, Va lo, Va hi) override;
  void reset(Asid as) override { unmap_region(as); }

  /// mm->mermap of `as`, or nullptr before its first prepare.
  const mm_mermap* state(Asid as) const;
  const MermapParams& params() const { return p_; }

 private:
  unsigned long cpu_base(unsigned cpu) const { return p_.base + cpu * p_.region_pages * impl::kPage; }
  unsigned long cpu_end(unsigned cpu) const { return cpu_base(cpu) + p_.region_pages * impl::kPage; }
  mermap_alloc* alloc(mm_mermap& mm, unsigned cpu, unsigned long size, bool use_reserve);
  /// Unmaps the region's PTEs with a synchronous shootdown (exec, exit).
  void unmap_region(Asid as);
  /// Clears PTEs [lo, hi) (sentinels back); their frames wait for `cpu`'s next flush.
  void clear(VmmCore::Space& s, unsigned cpu, Va lo, Va hi);

  MermapParams p_;
  std::unordered_map<Asid, mm_mermap> mms_;
  struct Pending { unsigned cpu; Asid as; Va va; std::uint64_t pfn; };
  std::vector<Pending> pending_;  ///< cleared, not yet flushed from the CPU that used them
};

/// Registers the implementation.
void register_impl();

}  // namespace vmref::mermap
