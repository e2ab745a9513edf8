// ALMOS-MKH page faults per cluster (spec/kernels/almos-mkh.md §5, §6): false faults copy
// the reference PTE, true faults allocate once and write the reference first, COW write
// faults copy while forks are pending, and fork copies the reference GPT (vmm_fork_copy)
// then write-protects the parent everywhere (vmm_set_cow).
#include <stdexcept>
#include <string>

#include "almos_vmm.hpp"
#include "vmref/impl/registry.hpp"

namespace vmref::almos {

using namespace vmref::impl;
using vocab::AccessKind;
using vocab::AccessResult;

const MutantInfo kUpdateSkipsCopies{"almos-update-skips-copies", kKernel,
                                    "vmm_global_update_pte writes the reference GPT only", kKernel};
const MutantInfo kForkNoForks{"almos-fork-no-forks", kKernel, "fork shares pages COW without raising their forks count",
                              kKernel};

namespace {
bool is_public(VsegType t) { return t != VsegType::code && t != VsegType::stack; }
bool cow_of(const Mapping& m) { return m.attrs.soft & 1; }
}  // namespace

// §5 vmm_handle_page_fault (and vmm_handle_cow for a write to a read-only entry).
Outcome AlmosVmm::access(const Event& e) {
  const auto& a = e.get<AccessArgs>();
  Process& p = proc(a.pid);
  unsigned k = cluster(a.cluster);
  Vpn vpn = a.va / kPage;
  Va va = vpn * kPage;
  const Vseg* found = vseg_at(p, vpn);
  if (!found) return {Err::ok, 0, AccessResult::segv_maperr};
  const Vseg v = *found;
  bool write = a.kind == AccessKind::write;
  if ((write && v.type == VsegType::code) || (a.kind == AccessKind::exec && v.type != VsegType::code))
    return {Err::ok, 0, AccessResult::segv_accerr};
  if (k != p.ref_cluster) p.local_vsl[k].insert(v.base);
  RadixTable& local = table(p, k);
  RadixTable& ref = table(p, p.ref_cluster);
  if (!local.lookup(va)) {
    if (v.type == VsegType::code) {  // the .elf mapper's page, shared by every process
      std::uint64_t& pfn = code_pages_[vpn];
      if (pfn == 0) {
        pfn = new_page(0);
        pages_[pfn].mapper = true;
      } else {
        ++pages_[pfn].refs;
      }
      set(local, vpn, pfn, false, false);
    } else if (v.type == VsegType::stack) {  // private to the faulting cluster
      set(local, vpn, new_page(0), true, false);
    } else if (auto r = ref.lookup(va); k != p.ref_cluster && r) {  // false page fault
      if (p_.false_fault_copies) set(local, vpn, r->pa / kPage, r->attrs.rights.w, cow_of(*r));
      else set(local, vpn, new_page(0), true, false);
    } else {  // true page fault: the reference first, then the copy
      std::uint64_t pfn = new_page(0);
      set(ref, vpn, pfn, true, false);
      set(local, vpn, pfn, true, false);
    }
  }
  Mapping pte = *local.lookup(va);
  if (write && !pte.attrs.rights.w) {  // vmm_handle_cow
    Mapping cur = is_public(v.type) ? *ref.lookup(va) : pte;
    std::uint64_t pfn = cur.pa / kPage;
    bool writable = cur.attrs.rights.w, cow = cow_of(cur);
    if (cow) {
      Page& old = pages_[pfn];
      if (p_.cow_checks_forks && old.forks > 0) {
        if (p_.copy_decrements_forks) --old.forks;
        --old.refs;
        pfn = new_page(version(pfn));
      }
      writable = true;
      cow = false;
    }
    if (is_public(v.type)) update_pte(p, vpn, pfn, writable, cow);
    set(local, vpn, pfn, writable, cow);
  }
  if (write) ++core_.pool().mem().page(local.lookup(va)->pa / kPage)[0];
  return {};
}

// §6 process_make_fork: vmm_fork_copy, then vmm_set_cow on the parent.
Outcome AlmosVmm::fork(const Event& e) {
  const auto& a = e.get<ForkArgs>();
  Process& parent = proc(a.pid);
  if (procs_.count(a.child)) throw std::invalid_argument("child: process " + std::to_string(a.child) + " already exists");
  Process c;
  c.ref_cluster = cluster(a.cluster);
  c.stack_bits.assign((p_.stack_slots + 63) / 64, 0);
  c.first_free_vpn = parent.first_free_vpn;
  c.zombies = parent.zombies;
  RadixTable& cref = table(c, c.ref_cluster);
  RadixTable& pref = table(parent, parent.ref_cluster);
  std::vector<std::pair<Vpn, std::uint64_t>> to_cow;
  for (const Vseg& v : parent.vsl) {
    if (v.type == VsegType::stack) continue;
    c.vsl.push_back(v);
    if (v.type == VsegType::code) continue;  // refaulted from the .elf mapper
    pref.for_each(v.base * kPage, v.pages * kPage, [&](const Mapping& m) {
      std::uint64_t pfn = m.pa / kPage;
      ++pages_[pfn].refs;
      if (v.type == VsegType::file) {
        set(cref, m.va / kPage, pfn, m.attrs.rights.w, cow_of(m));
        return;
      }
      if (core_.mutant() != &kForkNoForks) ++pages_[pfn].forks;
      set(cref, m.va / kPage, pfn, false, true);
      to_cow.push_back({m.va / kPage, pfn});
    });
  }
  procs_.emplace(a.child, std::move(c));
  for (const auto& [vpn, pfn] : to_cow) update_pte(parent, vpn, pfn, false, true);
  return {};
}

void register_impl() {
  add_impl_kernel({kKernel,
                   [](VmmCore& c, const vocab::KernelParams* p) -> std::unique_ptr<KernelLayer> {
                     return std::make_unique<AlmosVmm>(c, static_cast<const AlmosParams&>(*p));
                   },
                   {{&ops::process, &call<AlmosVmm, &AlmosVmm::process>},
                    {&ops::vseg, &call<AlmosVmm, &AlmosVmm::vseg>},
                    {&ops::munmap, &call<AlmosVmm, &AlmosVmm::munmap>},
                    {&ops::access, &call<AlmosVmm, &AlmosVmm::access>},
                    {&ops::fork, &call<AlmosVmm, &AlmosVmm::fork>},
                    {&ops::exec, &call<AlmosVmm, &AlmosVmm::exec>},
                    {&ops::exit, &call<AlmosVmm, &AlmosVmm::exit>}}});
  for (const MutantInfo* m : {&kUpdateSkipsCopies, &kForkNoForks}) add_mutant(*m);
}

}  // namespace vmref::almos
