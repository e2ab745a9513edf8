// The nova kernel's implementation (spec/kernels/nova.md §13): nova-core's VMM as the
// seed posts it (prepare_map, execute_map, map_pages, unmap_pages, drop), written from
// the spec and the seed apart from the model, over NVIDIA MMU v2/v3 tables in simulated
// VRAM (gpu_tables.hpp) and one PDB-tagged GPU TLB (vmref/impl/gmmu_tlb.hpp) that
// accesses fill and `Tlb::flush` invalidates with the variant's ACK mode. Each
// NovaParams flag selects the same rule as in the model.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "gpu_tables.hpp"
#include "nova_events.hpp"
#include "va_space.hpp"
#include "vmref/impl/gmmu_tlb.hpp"
#include "vmref/impl/vmm.hpp"

namespace vmref::nova {

using vocab::Event;
using vocab::Outcome;

/// A VA allocation: first VFN, pages.
struct VaRange {
  Vfn start = 0;
  std::uint64_t pages = 0;
  friend bool operator==(const VaRange&, const VaRange&) = default;
};

/// PreparedPtPage: a zeroed table page waiting to be installed, and the level of the
/// table whose PDE slot will point at it.
struct PtPage {
  Pfn page = 0;
  unsigned level = 0;
};

/// struct Vmm of one address space.
struct GpuVmm {
  Pfn pdb = 0;
  VaSpace va;                                       ///< the VA allocations
  std::map<std::uint64_t, PtPage> pt_pages;         ///< install_addr (PDE slot, VRAM bytes) -> page
  std::vector<Pfn> page_table_allocs;
  std::uint64_t capacity = 0;                       ///< page_table_allocs' KVec capacity
  std::unordered_map<std::string, VaRange> prepared, mapped;  ///< by the trace's handle
  std::deque<FlushArgs> in_flight;  ///< nova_flush_start'ed invalidates, oldest first (§15)
  /// The keys each live prepare staged: read by the nova-drain-own-pages mutant only.
  std::unordered_map<std::string, std::vector<std::uint64_t>> staged_by;
};

class NovaVmm : public impl::KernelLayer {
 public:
  /// Throws std::invalid_argument naming params.mmu for a version it has no format for.
  NovaVmm(impl::VmmCore& core, const NovaParams& params);
  Outcome nova_new(const Event& e);
  Outcome drop(const Event& e);
  Outcome prepare(const Event& e);
  Outcome execute(const Event& e);
  Outcome map(const Event& e);
  Outcome unmap(const Event& e);
  Outcome access(const Event& e);
  Outcome set_big(const Event& e);
  Outcome driver_flush(const Event& e);
  // Mechanism-level steps (spec/kernels/nova.md §15, nova_steps.cpp): raw words go
  // to VRAM as they are; the format's walk reads them.
  Outcome pt_alloc(const Event& e);
  Outcome pt_zero(const Event& e);
  Outcome pt_free(const Event& e);
  Outcome raw_write(const Event& e);
  Outcome va_alloc(const Event& e);
  Outcome va_free(const Event& e);
  Outcome call_bracket(const Event& e);
  Outcome flush_start(const Event& e);
  Outcome flush_done(const Event& e);
  void before_destroy(vocab::Asid as) override;
  /// "vram": the GPU's simulated VRAM, decoded by the NVIDIA format of params.mmu, with
  /// each VMM's PDB byte address as its root (`vmref replay --images-out`).
  void images(std::vector<impl::MemoryImage>& out) const override;

  const std::map<vocab::Asid, GpuVmm>& vmms() const { return vmms_; }
  const GpuTables& tables() const { return tables_; }
  /// The GPU's TLB: entries carry the PDB's PFN as `owner`.
  const impl::gmmu::Tlb& tlb() const { return tlb_; }
  const NovaParams& params() const { return p_; }

 private:
  GpuVmm& vmm_of(vocab::Asid as);
  bool reserve(GpuVmm& v, std::uint64_t additional, bool fails);
  vocab::Err alloc_va(GpuVmm& v, std::uint64_t pages, const std::optional<std::pair<vocab::Va, vocab::Va>>& range,
                      VaRange& out) const;
  /// ensure_pte_path for one VFN; `staged` collects the keys this call inserted.
  vocab::Err ensure_pte_path(GpuVmm& v, Vfn vfn, const PrepareFail& fail, std::uint64_t& allocs,
                             std::vector<std::uint64_t>& staged);
  Outcome prepare_map(GpuVmm& v, std::uint64_t pages, const std::string& handle,
                      const std::optional<std::pair<vocab::Va, vocab::Va>>& range, const PrepareFail& fail);
  Outcome execute_map(GpuVmm& v, const std::string& handle, Pfn pfn, std::optional<std::uint64_t> count,
                      bool writable, const StepFail& fail);
  /// Drains pt_pages; returns ok or the error execute fails with.
  vocab::Err install_pdes(GpuVmm& v, const std::string& handle, const StepFail& fail);
  /// Writes the PTE of `vfn`; false when no leaf table is installed for it.
  bool write_pte(GpuVmm& v, Vfn vfn, std::optional<GpuPte> pte);
  /// One invalidate of the PDB (all VA, or the bytes of `range`), waited for.
  void invalidate(const GpuVmm& v, const std::optional<std::pair<vocab::Va, std::uint64_t>>& range,
                  impl::gmmu::Ack ack);
  /// Throws naming `field` unless VRAM page `p` is a live table page.
  void check_live(Pfn p, const char* field) const;
  static impl::gmmu::Ack gmmu_ack(Ack a);
  /// Tlb::flush: ALL_VA of the PDB with the variant's ACK mode.
  void flush(const GpuVmm& v);
  /// Throws naming `va` when byte `last` lies beyond the MMU version's VA.
  void check_va(vocab::Va last) const;
  std::uint64_t install_addr(Pfn table, unsigned level, unsigned idx) const {
    return (table << 12) + std::uint64_t{idx} * tables_.entry_bytes(level);
  }
  void check_handle(const GpuVmm& v, const std::string& handle, std::uint64_t pages) const;

  NovaParams p_;
  std::unique_ptr<impl::RadixCodec> own_codec_;  ///< when the core runs another format
  GpuTables tables_;
  impl::gmmu::TlbConfig tlb_config_;
  impl::gmmu::Tlb tlb_;
  std::map<vocab::Asid, GpuVmm> vmms_;
};

/// Registers the implementation.
void register_impl();

}  // namespace vmref::nova
