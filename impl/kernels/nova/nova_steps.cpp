// The nova implementation's mechanism-level steps (spec/kernels/nova.md §15): a recorded
// driver's table pages taken at its own PFNs, its raw PDE and PTE words stored into VRAM
// untouched (the format's architectural walk is what reads them back), its VA allocator
// steps, and invalidates that take effect when they complete.
#include <algorithm>
#include <stdexcept>

#include "nova_vmm.hpp"

namespace vmref::nova {

namespace {
constexpr std::uint64_t kPage = 4096;
}  // namespace

void NovaVmm::check_live(Pfn p, const char* field) const {
  if (!tables_.live(p)) throw std::invalid_argument(std::string(field) + ": not in a live table page");
}

Outcome NovaVmm::pt_alloc(const Event& e) {
  const auto& a = e.get<PtAllocArgs>();
  GpuVmm& v = vmm_of(a.as);
  tables_.alloc_at(a.pfn);
  v.page_table_allocs.push_back(a.pfn);
  v.capacity = std::max<std::uint64_t>(v.capacity, v.page_table_allocs.size());
  return {};
}

Outcome NovaVmm::pt_zero(const Event& e) {
  const auto& a = e.get<PtArgs>();
  vmm_of(a.as);
  check_live(a.pfn, "pfn");
  tables_.zero(a.pfn);
  return {};
}

Outcome NovaVmm::pt_free(const Event& e) {
  const auto& a = e.get<PtArgs>();
  GpuVmm& v = vmm_of(a.as);
  check_live(a.pfn, "pfn");
  if (a.pfn == v.pdb) throw std::invalid_argument("pfn: the VMM's PDB (nova_drop frees it)");
  tables_.free(a.pfn);
  std::erase(v.page_table_allocs, a.pfn);
  return {};
}

Outcome NovaVmm::raw_write(const Event& e) {
  const auto& a = e.get<WriteArgs>();
  vmm_of(a.as);
  check_live(a.addr / kPage, "addr");
  tables_.store(a.addr, a.value);
  return {};
}

Outcome NovaVmm::va_alloc(const Event& e) {
  const auto& a = e.get<VaArgs>();
  GpuVmm& v = vmm_of(a.as);
  if (!v.va.is_free(a.va / kPage, a.size / kPage))
    throw std::invalid_argument("va: the range overlaps a live VA range or leaves the VMM's VA");
  v.va.take(a.va / kPage, a.size / kPage);
  return {};
}

Outcome NovaVmm::va_free(const Event& e) {
  const auto& a = e.get<VaArgs>();
  GpuVmm& v = vmm_of(a.as);
  if (a.va % kPage || !v.va.allocations().count(a.va / kPage))
    throw std::invalid_argument("va: not the start of a live VA range");
  v.va.release(a.va / kPage);
  return {};
}

Outcome NovaVmm::call_bracket(const Event& e) {
  vmm_of(e.get<CallArgs>().as);  // a bracket changes nothing the hardware sees
  return {};
}

Outcome NovaVmm::flush_start(const Event& e) {
  const auto& a = e.get<FlushArgs>();
  GpuVmm& v = vmm_of(a.as);
  if (a.range) check_va(a.range->first + a.range->second - 1);
  v.in_flight.push_back(a);
  return {};
}

Outcome NovaVmm::flush_done(const Event& e) {
  GpuVmm& v = vmm_of(e.get<vocab::SpaceArgs>().as);
  if (v.in_flight.empty()) throw std::invalid_argument("as: no invalidate of this VMM is in flight");
  const FlushArgs a = v.in_flight.front();
  v.in_flight.pop_front();
  invalidate(v, a.range, gmmu_ack(a.ack));
  return {};
}

}  // namespace vmref::nova
