// nova-core's Vmm (seed nova-core-vmm-map-unmap.patch, drivers/gpu/nova-core/mm/vmm.rs)
// from spec/kernels/nova.md §3-§8: prepare_map stages zeroed table pages in pt_pages,
// execute_map installs them and writes the PTEs without allocating, then one PDB flush.
#include "nova_vmm.hpp"

#include <algorithm>
#include <stdexcept>

#include "vmref/impl/format.hpp"
#include "vmref/impl/registry.hpp"

namespace vmref::nova {

using vocab::Err;

namespace {
constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kMaxPages = std::uint64_t{1} << 20;  // the model's limit per call (§11 N-C8)
constexpr Err kEio = Err::efault;                            // the seed's EIO (§11 N-C5)

/// The NVIDIA format of GMMU version `mmu`, found in the format registry.
const impl::FormatInfo& gpu_format(unsigned mmu) {
  const impl::FormatInfo* f = impl::find_gpu_format(mmu);
  if (!f) throw std::invalid_argument("params.mmu: no NVIDIA page-table format of version " + std::to_string(mmu));
  return *f;
}

/// The core's codec when it is the GPU format's (its mutants then reach the GPU tables
/// too); a codec of its own under a CPU format, whose tables only the core's address
/// spaces use. The other NVIDIA version is refused: the trace names other tables.
const impl::RadixCodec& gpu_codec(const impl::VmmCore& core, const impl::FormatInfo& gpu,
                                  std::unique_ptr<impl::RadixCodec>& own) {
  const impl::RadixCodec& c = core.codec();
  if (gpu.gmmu->owns(c)) return c;
  for (const impl::FormatInfo* f : impl::all_formats())
    if (f->gmmu && f->gmmu->owns(c))
      throw std::invalid_argument("params.mmu: " + std::to_string(gpu.gmmu->version) + " selects " + gpu.name +
                                  " tables, but the implementation runs " + f->name + ": set --param mmu=" +
                                  std::to_string(f->gmmu->version) + " or choose --impl " + gpu.name);
  own = gpu.codec(impl::FormatConfig{});
  return *own;
}

/// The core's mutant when the GPU tables are written with the core's codec (a mutant of
/// that format then reaches the big PTEs and the GPU TLB too); nullptr otherwise.
impl::Mutant gpu_mutant(const impl::VmmCore& core, const impl::FormatInfo& gpu) {
  return gpu.gmmu->owns(core.codec()) ? core.mutant() : nullptr;
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// Deliberately broken variants (spec/differential.md §3), each a plausible misreading of the seed.
const impl::MutantInfo kFlushAckNone{"nova-flush-ack-none", kKernel,
                                     "every PDB flush is issued with ACK NONE_REQUIRED, whatever the variant says",
                                     "nova:fixed"};
const impl::MutantInfo kDrainOwnPages{"nova-drain-own-pages", kKernel,
                                      "execute installs only the table pages its own prepare staged, not the whole "
                                      "shared pt_pages",
                                      "nova:fixed"};
}  // namespace

NovaVmm::NovaVmm(impl::VmmCore& core, const NovaParams& params)
    : KernelLayer(core),
      p_(params),
      tables_(gpu_codec(core, gpu_format(params.mmu), own_codec_), *gpu_format(params.mmu).gmmu,
              gpu_mutant(core, gpu_format(params.mmu))),
      tlb_config_(gpu_format(params.mmu).gmmu->tlb(gpu_mutant(core, gpu_format(params.mmu)))),
      tlb_(tlb_config_) {}

void NovaVmm::images(std::vector<impl::MemoryImage>& out) const {
  impl::MemoryImage img;
  img.name = "vram";
  img.format = gpu_format(p_.mmu).name;
  img.mem = &tables_.vram();
  for (const auto& [as, v] : vmms_) img.roots.emplace_back("as " + std::to_string(as), v.pdb << 12);
  out.push_back(std::move(img));
}

GpuVmm& NovaVmm::vmm_of(vocab::Asid as) {
  core_.space_of(as);
  auto it = vmms_.find(as);
  if (it == vmms_.end()) throw std::invalid_argument("as: address space " + std::to_string(as) + " has no nova VMM");
  return it->second;
}

// KVec::reserve: nothing when the room is there; else grow to max(2 cap, len + k) (§2.3).
bool NovaVmm::reserve(GpuVmm& v, std::uint64_t additional, bool fails) {
  const std::uint64_t len = v.page_table_allocs.size();
  if (v.capacity - len >= additional) return true;
  if (fails) return false;
  v.capacity = std::max(2 * v.capacity, len + additional);
  return true;
}

void NovaVmm::invalidate(const GpuVmm& v, const std::optional<std::pair<vocab::Va, std::uint64_t>>& range,
                         impl::gmmu::Ack ack) {
  impl::gmmu::Invalidate inv;
  inv.pdb = v.pdb << 12;
  inv.all_va = !range;
  if (range) inv.va = range->first, inv.size = range->second;
  inv.ack = ack;
  tlb_.invalidate(inv);
}

impl::gmmu::Ack NovaVmm::gmmu_ack(Ack a) {
  return a == Ack::none ? impl::gmmu::Ack::none : a == Ack::globally ? impl::gmmu::Ack::globally : impl::gmmu::Ack::intranode;
}

void NovaVmm::flush(const GpuVmm& v) {
  const bool global = p_.ack_global_fix && core_.mutant() != &kFlushAckNone;
  invalidate(v, std::nullopt, global ? impl::gmmu::Ack::globally : impl::gmmu::Ack::none);
}

void NovaVmm::check_va(vocab::Va last) const {
  if (last >> (tables_.vfn_bits() + 12)) throw std::invalid_argument("va: beyond the MMU version's VA");
}

bool NovaVmm::write_pte(GpuVmm& v, Vfn vfn, std::optional<GpuPte> pte) {
  std::optional<Pfn> pt = tables_.table_at(v.pdb, vfn, tables_.pt());
  if (!pt) return false;
  tables_.set_pte(*pt, tables_.index(tables_.pt(), vfn), pte);
  return true;
}

void NovaVmm::check_handle(const GpuVmm& v, const std::string& handle, std::uint64_t pages) const {
  if (handle.empty()) throw std::invalid_argument("handle: empty");
  if (v.prepared.count(handle) || v.mapped.count(handle))
    throw std::invalid_argument("handle: '" + handle + "' names a live prepared or mapped range");
  if (pages > kMaxPages) throw std::invalid_argument("pages: more than 2^20 pages in one call");
}

Outcome NovaVmm::nova_new(const Event& e) {
  const vocab::Asid as = e.get<NewArgs>().as;
  core_.space_of(as);
  if (vmms_.count(as)) throw std::invalid_argument("as: address space " + std::to_string(as) + " already has a nova VMM");
  const auto& a = e.get<NewArgs>();
  if (a.pdb) {  // a recorded driver's PDB (§15), allocated and zeroed
    tables_.alloc_at(*a.pdb);
    tables_.zero(*a.pdb);
  }
  GpuVmm& v = vmms_[as];
  v.pdb = a.pdb ? *a.pdb : tables_.alloc();
  v.va = VaSpace(p_.va_pages);
  return {};
}

void NovaVmm::before_destroy(vocab::Asid as) {
  if (vmms_.count(as))
    throw std::invalid_argument("as: address space " + std::to_string(as) + " still has a nova VMM (nova_drop first)");
}

Outcome NovaVmm::drop(const Event& e) {
  const vocab::Asid as = e.get<DropArgs>().as;
  GpuVmm& v = vmm_of(as);
  if (p_.drop_fix) {  // nothing may translate through the pages about to be freed
    for (const auto& [h, r] : v.mapped)
      for (std::uint64_t k = 0; k < r.pages; ++k) write_pte(v, r.start + k, std::nullopt);
    flush(v);
  }
  // keep-pending leaves installed pages in pt_pages too: each page is freed once.
  for (Pfn p : v.page_table_allocs)
    if (tables_.live(p)) tables_.free(p);
  for (const auto& [key, p] : v.pt_pages)
    if (tables_.live(p.page)) tables_.free(p.page);
  tables_.free(v.pdb);
  vmms_.erase(as);
  return {};
}

Err NovaVmm::alloc_va(GpuVmm& v, std::uint64_t pages, const std::optional<std::pair<vocab::Va, vocab::Va>>& range,
                      VaRange& out) const {
  if (range) {  // N-C4: exactly pages x 4 KiB, aligned, inside the VMM's VA, overlapping nothing
    const auto [lo, hi] = *range;
    if (hi < lo || hi - lo != pages * kPage || lo % kPage != 0 || hi > p_.va_pages * kPage) return Err::einval;
    out = {lo / kPage, pages};
    return v.va.is_free(out.start, pages) ? Err::ok : Err::eexist;
  }
  std::optional<Vfn> start = v.va.lowest_fit(pages);
  if (!start) return Err::enomem;
  out = {*start, pages};
  return Err::ok;
}

Err NovaVmm::ensure_pte_path(GpuVmm& v, Vfn vfn, const PrepareFail& fail, std::uint64_t& allocs,
                             std::vector<std::uint64_t>& staged) {
  const unsigned pde_levels = tables_.pt();
  for (unsigned walk = 0; walk < 2 * pde_levels; ++walk) {
    Pfn table = v.pdb;
    unsigned level = 0;
    for (; level < pde_levels; ++level) {
      const unsigned idx = tables_.index(level, vfn);
      if (std::optional<Pfn> c = tables_.child(table, level, idx)) {
        table = *c;
        continue;
      }
      auto staged_page = v.pt_pages.find(install_addr(table, level, idx));
      if (staged_page == v.pt_pages.end()) break;
      table = staged_page->second.page;
    }
    // The path is there (the lazy-pt variant stops above the leaf table).
    if (level == pde_levels || (p_.lazy_pt && level == tables_.dual())) return Err::ok;
    if (fail.pt && *fail.pt == allocs) return Err::enomem;
    ++allocs;
    const std::uint64_t key = install_addr(table, level, tables_.index(level, vfn));
    const Pfn page = tables_.alloc();
    if (!v.pt_pages.emplace(key, PtPage{page, level}).second) {
      tables_.free(page);
      return kEio;
    }
    staged.push_back(key);
  }
  return kEio;  // the path never completed
}

Outcome NovaVmm::prepare_map(GpuVmm& v, std::uint64_t pages, const std::string& handle,
                             const std::optional<std::pair<vocab::Va, vocab::Va>>& range, const PrepareFail& fail) {
  if (pages == 0) return {Err::einval};
  if (!p_.reserve_fix) {  // the seed reserves pt_pages_upper_bound(pages)
    std::uint64_t c = ceil_div(pages, tables_.entries(tables_.pt())), bound = c;
    for (unsigned l = tables_.pt(); l-- > 0;) bound += (c = ceil_div(c, tables_.entries(l)));
    if (!reserve(v, bound, fail.reserve)) return {Err::enomem};
  }
  VaRange r;
  if (fail.va) return {Err::enomem};
  if (Err err = alloc_va(v, pages, range, r); err != Err::ok) return {err};
  v.va.take(r.start, r.pages);
  std::vector<std::uint64_t> staged;
  auto abandon = [&](Err err) -> Outcome {
    v.va.release(r.start);
    if (p_.reserve_fix)  // fixed: this call's staged pages go back (§4.5)
      for (std::uint64_t key : staged) {
        tables_.free(v.pt_pages.at(key).page);
        v.pt_pages.erase(key);
      }
    return {err};
  };
  if (p_.keep_big_fix)
    for (std::uint64_t k = 0; k < pages; ++k)
      if (tables_.hidden(v.pdb, r.start + k)) return abandon(Err::eexist);
  std::uint64_t allocs = 0;
  for (std::uint64_t k = 0; k < pages; ++k) {
    // The VFNs of one leaf table share their path: ensured for the first, the walk of the
    // others would find it complete and allocate nothing.
    if (k > 0 && tables_.index(tables_.pt(), r.start + k) != 0) continue;
    if (Err err = ensure_pte_path(v, r.start + k, fail, allocs, staged); err != Err::ok) return abandon(err);
  }
  if (p_.reserve_fix && !reserve(v, v.pt_pages.size(), fail.reserve)) return abandon(Err::enomem);
  v.prepared[handle] = r;
  if (core_.mutant() == &kDrainOwnPages) v.staged_by[handle] = std::move(staged);
  Outcome o;
  o.ret = r.start * kPage;
  return o;
}

Outcome NovaVmm::prepare(const Event& e) {
  const auto& a = e.get<PrepareArgs>();
  GpuVmm& v = vmm_of(a.as);
  check_handle(v, a.handle, a.pages);
  return prepare_map(v, a.pages, a.handle, a.range, a.fail);
}

Err NovaVmm::install_pdes(GpuVmm& v, const std::string& handle, const StepFail& fail) {
  std::vector<std::pair<std::uint64_t, PtPage>> nodes(v.pt_pages.begin(), v.pt_pages.end());
  if (core_.mutant() == &kDrainOwnPages) {
    const std::vector<std::uint64_t> own = std::move(v.staged_by[handle]);
    v.staged_by.erase(handle);
    std::erase_if(nodes, [&](const auto& n) { return std::find(own.begin(), own.end(), n.first) == own.end(); });
  }
  for (std::uint64_t i = 0; i < nodes.size(); ++i) {
    const auto [key, node] = nodes[i];
    if (!p_.keep_pending) v.pt_pages.erase(key);
    const bool pde_fails = fail.at == Step::pde && fail.index == i;
    if (p_.execute_rollback_fix) {  // owned before its PDE is written: never freed under it
      if (v.page_table_allocs.size() == v.capacity) {
        v.pt_pages.emplace(key, node);
        return Err::enomem;
      }
      v.page_table_allocs.push_back(node.page);
      if (pde_fails) return kEio;
    } else if (pde_fails) {
      tables_.free(node.page);  // the node taken out is dropped with the error
      return kEio;
    }
    const Pfn table = key >> 12;
    const unsigned idx = static_cast<unsigned>((key & 0xfff) / tables_.entry_bytes(node.level));
    tables_.set_child(table, node.level, idx, node.page, p_.keep_big_fix);
    if (!p_.execute_rollback_fix) {
      if (v.page_table_allocs.size() == v.capacity) {  // push_within_capacity gives it back: dropped
        tables_.free(node.page);
        return Err::enomem;
      }
      v.page_table_allocs.push_back(node.page);
    }
  }
  return Err::ok;
}

Outcome NovaVmm::execute_map(GpuVmm& v, const std::string& handle, Pfn pfn, std::optional<std::uint64_t> count,
                             bool writable, const StepFail& fail) {
  auto it = v.prepared.find(handle);
  if (it == v.prepared.end()) throw std::invalid_argument("handle: no prepared mapping '" + handle + "'");
  const VaRange r = it->second;
  v.prepared.erase(it);
  if (pfn + r.pages < pfn) throw std::invalid_argument("pfn: pfn + pages overflows");
  std::uint64_t written = 0;  // PTEs r.start .. r.start + written - 1 were written
  auto fail_with = [&](Err err) -> Outcome {
    if (p_.execute_rollback_fix && written) {
      for (std::uint64_t k = 0; k < written; ++k) write_pte(v, r.start + k, std::nullopt);
      if (fail.at == Step::flush) return {err};  // the flush failed: the VA is never reused
      flush(v);
    }
    v.va.release(r.start);
    return {err};
  };
  if (count.value_or(r.pages) != r.pages) return fail_with(Err::einval);
  if (fail.at == Step::window) return fail_with(kEio);
  if (Err err = install_pdes(v, handle, fail); err != Err::ok) return fail_with(err);
  std::optional<Pfn> pt;  // the leaf table of the current 512-page block
  for (std::uint64_t k = 0; k < r.pages; ++k) {
    if (fail.at == Step::pte && fail.index == k) return fail_with(kEio);
    const Vfn vfn = r.start + k;
    const unsigned idx = tables_.index(tables_.pt(), vfn);
    if (k == 0 || idx == 0) pt = tables_.table_at(v.pdb, vfn, tables_.pt());
    if (!pt) {
      std::optional<Pfn> dual = tables_.table_at(v.pdb, vfn, tables_.dual());
      if (!p_.lazy_pt || !dual) return fail_with(kEio);
      pt = tables_.alloc();  // lazy-pt: allocates in execute (INV-NOVA-1)
      tables_.set_child(*dual, tables_.dual(), tables_.index(tables_.dual(), vfn), *pt, true);
      if (v.page_table_allocs.size() == v.capacity) v.capacity = std::max(2 * v.capacity, v.capacity + 1);
      v.page_table_allocs.push_back(*pt);
    }
    tables_.set_pte(*pt, idx, GpuPte{pfn + k, writable});
    written = k + 1;
  }
  if (!p_.skip_flush) {
    if (fail.at == Step::flush) return fail_with(kEio);  // issued; the poll timed out
    flush(v);
  }
  v.mapped[handle] = r;
  Outcome o;
  o.ret = r.start * kPage;
  return o;
}

Outcome NovaVmm::execute(const Event& e) {
  const auto& a = e.get<ExecuteArgs>();
  return execute_map(vmm_of(a.as), a.handle, a.pfn, a.count, a.writable, a.fail);
}

Outcome NovaVmm::map(const Event& e) {
  const auto& a = e.get<MapArgs>();
  GpuVmm& v = vmm_of(a.as);
  check_handle(v, a.handle, a.pages);
  if (a.pages == 0) return {Err::einval};
  std::optional<std::pair<vocab::Va, vocab::Va>> range = a.range;
  if (range) {  // map_pages' own check: long enough
    if (range->second < range->first || range->second - range->first < a.pages * kPage) return {Err::einval};
    if (p_.map_range_fix) range->second = range->first + a.pages * kPage;
  }
  Outcome o = prepare_map(v, a.pages, a.handle, range, a.prepare_fail);
  if (o.err != Err::ok) return o;
  return execute_map(v, a.handle, a.pfn, std::nullopt, a.writable, a.fail);
}

Outcome NovaVmm::unmap(const Event& e) {
  const auto& a = e.get<UnmapArgs>();
  GpuVmm& v = vmm_of(a.as);
  auto it = v.mapped.find(a.handle);
  if (it == v.mapped.end()) throw std::invalid_argument("handle: no mapped range '" + a.handle + "'");
  const VaRange r = it->second;
  auto fail_with = [&]() -> Outcome {
    if (!p_.unmap_keep_fix) {  // posted: `?` drops the MappedRange, freeing its VA
      v.va.release(r.start);
      v.mapped.erase(a.handle);
    }
    return {kEio};
  };
  if (a.fail.at == Step::window) return fail_with();
  std::optional<Pfn> pt;  // the leaf table of the current 512-page block
  for (std::uint64_t k = 0; k < r.pages; ++k) {
    if (a.fail.at == Step::pte && a.fail.index == k) return fail_with();
    const unsigned idx = tables_.index(tables_.pt(), r.start + k);
    if (k == 0 || idx == 0) pt = tables_.table_at(v.pdb, r.start + k, tables_.pt());
    if (pt) tables_.set_pte(*pt, idx, std::nullopt);  // a VFN without a leaf table is skipped
  }
  if (!p_.skip_flush) {
    if (a.fail.at == Step::flush) return fail_with();
    flush(v);
  }
  v.va.release(r.start);
  v.mapped.erase(a.handle);
  return {};
}

Outcome NovaVmm::access(const Event& e) {
  const auto& a = e.get<AccessArgs>();
  GpuVmm& v = vmm_of(a.as);
  check_va(a.va);
  const Vfn vfn = a.va / kPage;
  std::optional<Pfn> pt = tables_.table_at(v.pdb, vfn, tables_.pt());
  std::optional<GpuPte> pte;
  if (pt && !tables_.hidden(v.pdb, vfn)) pte = tables_.pte(*pt, tables_.index(tables_.pt(), vfn));
  if (!pte) return {Err::efault};
  impl::Translation t;  // the walk reached a valid PTE: the GPU TLB may keep it
  t.page_pa = pte->pfn * kPage;
  t.pa = t.page_pa + a.va % kPage;
  t.page_size = kPage;
  t.rights = impl::Rights{pte->writable, true, false};
  tlb_.fill(v.pdb << 12, static_cast<std::uint16_t>(a.as), a.va, t, static_cast<std::uint32_t>(v.pdb));
  if (a.kind != Kind::read && !pte->writable) return {Err::eacces};
  Outcome o;
  o.ret = t.pa;
  return o;
}

Outcome NovaVmm::driver_flush(const Event& e) {
  const auto& a = e.get<FlushArgs>();
  const GpuVmm& v = vmm_of(a.as);
  if (a.range) check_va(a.range->first + a.range->second - 1);
  invalidate(v, a.range, gmmu_ack(a.ack));
  return {};
}

Outcome NovaVmm::set_big(const Event& e) {
  const auto& a = e.get<SetBigArgs>();
  GpuVmm& v = vmm_of(a.as);
  check_va(a.va);
  const Vfn vfn = a.va / kPage;
  std::optional<Pfn> dual = tables_.table_at(v.pdb, vfn, tables_.dual());
  if (!dual) throw std::invalid_argument("va: no installed page-table path down to the dual PDE covering va");
  const unsigned idx = tables_.index(tables_.dual(), vfn);
  std::optional<Pfn> big = tables_.big_table(*dual, idx);
  if (!big) {  // another user's big page table: zeroed, owned by the VMM
    big = tables_.alloc();
    tables_.set_big_table(*dual, idx, *big);
    reserve(v, v.pt_pages.size() + 1, false);
    v.page_table_allocs.push_back(*big);
  }
  const Chunk state = a.state == BigState::U ? Chunk::U : a.state == BigState::I ? Chunk::I : Chunk::S;
  tables_.set_chunk(*big, tables_.index(tables_.pt(), vfn) / 16, state);
  return {};
}

void register_impl() {
  using impl::call;
  for (const impl::MutantInfo* m : {&kFlushAckNone, &kDrainOwnPages}) impl::add_mutant(*m);
  impl::add_impl_kernel({kKernel,
                         [](impl::VmmCore& c, const vocab::KernelParams* p) -> std::unique_ptr<impl::KernelLayer> {
                           return std::make_unique<NovaVmm>(c, *static_cast<const NovaParams*>(p));
                         },
                         {{&ops::nova_new, &call<NovaVmm, &NovaVmm::nova_new>},
                          {&ops::drop, &call<NovaVmm, &NovaVmm::drop>},
                          {&ops::prepare, &call<NovaVmm, &NovaVmm::prepare>},
                          {&ops::execute, &call<NovaVmm, &NovaVmm::execute>},
                          {&ops::map, &call<NovaVmm, &NovaVmm::map>},
                          {&ops::unmap, &call<NovaVmm, &NovaVmm::unmap>},
                          {&ops::access, &call<NovaVmm, &NovaVmm::access>},
                          {&ops::set_big, &call<NovaVmm, &NovaVmm::set_big>},
                          {&ops::flush, &call<NovaVmm, &NovaVmm::driver_flush>},
                          {&ops::pt_alloc, &call<NovaVmm, &NovaVmm::pt_alloc>},
                          {&ops::pt_zero, &call<NovaVmm, &NovaVmm::pt_zero>},
                          {&ops::pt_free, &call<NovaVmm, &NovaVmm::pt_free>},
                          {&ops::pde_write, &call<NovaVmm, &NovaVmm::raw_write>},
                          {&ops::pte_write, &call<NovaVmm, &NovaVmm::raw_write>},
                          {&ops::va_alloc, &call<NovaVmm, &NovaVmm::va_alloc>},
                          {&ops::va_free, &call<NovaVmm, &NovaVmm::va_free>},
                          {&ops::call, &call<NovaVmm, &NovaVmm::call_bracket>},
                          {&ops::flush_start, &call<NovaVmm, &NovaVmm::flush_start>},
                          {&ops::flush_done, &call<NovaVmm, &NovaVmm::flush_done>}}});
}

}  // namespace vmref::nova
