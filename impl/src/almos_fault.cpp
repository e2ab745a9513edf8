// ALMOS-MKH page faults per cluster over x86-64 tables (profiles.md §2.5-§2.6): false
// faults copy the reference PTE, true faults allocate once and write the reference first,
// COW write faults copy while forks are pending, and fork copies the reference GPT
// (vmm_fork_copy) then write-protects the parent everywhere (vmm_set_cow).
#include <stdexcept>
#include <string>

#include "vmref/impl/almos.hpp"

namespace vmref::impl {

using namespace vmref::model;

namespace {
constexpr std::uint64_t kPage = 4096;
bool cow_of(const Mapping& m) { return m.attrs.soft & 1; }
}  // namespace

Outcome Almos::access(const Event& e) {
  Process& p = proc(e.as);
  unsigned k = cluster(e);
  Vpn vpn = e.addr / kPage;
  Va va = vpn * kPage;
  auto it = p.vsl.upper_bound(vpn);
  if (it == p.vsl.begin() || vpn >= std::prev(it)->second.base + std::prev(it)->second.pages)
    return {Err::ok, 0, AccessResult::segv_maperr};
  const Vseg v = std::prev(it)->second;
  bool write = e.kind == AccessKind::write;
  if ((write && v.type == AType::code) || (e.kind == AccessKind::exec && v.type != AType::code))
    return {Err::ok, 0, AccessResult::segv_accerr};
  if (k != p.ref_cluster) p.local_vsl[k].insert(v.base);
  RadixTable& local = table(p, k);
  RadixTable& ref = table(p, p.ref_cluster);
  if (!local.lookup(va)) {
    if (v.type == AType::code) {  // the .elf mapper's page, shared by every process
      std::uint64_t& pfn = code_pages_[vpn];
      if (pfn == 0) {
        pfn = new_page(0);
        pages_[pfn].mapper = true;
      } else {
        ++pages_[pfn].refs;
      }
      set(local, vpn, pfn, false, false);
    } else if (v.type == AType::stack) {  // private to the faulting cluster
      set(local, vpn, new_page(0), true, false);
    } else if (auto r = ref.lookup(va); k != p.ref_cluster && r) {  // false page fault
      if (rules_.false_fault_copies) set(local, vpn, r->pa / kPage, r->attrs.rights.w, cow_of(*r));
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
      if (rules_.cow_checks_forks && old.forks > 0) {
        if (rules_.copy_decrements_forks) --old.forks;
        --old.refs;
        pfn = new_page(version(pfn));
      }
      writable = true;
      cow = false;
    }
    if (is_public(v.type)) update_pte(p, vpn, pfn, writable, cow);
    set(local, vpn, pfn, writable, cow);
  }
  if (write) ++pool_.mem().page(local.lookup(va)->pa / kPage)[0];
  return {};
}

Outcome Almos::fork(const Event& e) {
  Process& parent = proc(e.as);
  if (procs_.count(e.child)) throw std::invalid_argument("child: process " + std::to_string(e.child) + " already exists");
  Process c;
  c.ref_cluster = cluster(e);
  c.stack_bits.assign((rules_.stack_slots + 63) / 64, 0);
  c.first_free_vpn = parent.first_free_vpn;
  c.zombies = parent.zombies;
  RadixTable& cref = table(c, c.ref_cluster);
  RadixTable& pref = table(parent, parent.ref_cluster);
  std::vector<std::pair<Vpn, std::uint64_t>> to_cow;
  for (const auto& [base, v] : parent.vsl) {
    if (v.type == AType::stack) continue;
    c.vsl[base] = v;
    if (v.type == AType::code) continue;  // refaulted from the .elf mapper
    pref.for_each(v.base * kPage, v.pages * kPage, [&](const Mapping& m) {
      std::uint64_t pfn = m.pa / kPage;
      ++pages_[pfn].refs;
      if (v.type == AType::file) {
        set(cref, m.va / kPage, pfn, m.attrs.rights.w, cow_of(m));
        return;
      }
      if (mutant_ != Mutant::almos_fork_no_forks) ++pages_[pfn].forks;
      set(cref, m.va / kPage, pfn, false, true);
      to_cow.push_back({m.va / kPage, pfn});
    });
  }
  procs_.emplace(e.child, std::move(c));
  for (const auto& [vpn, pfn] : to_cow) update_pte(parent, vpn, pfn, false, true);
  return {};
}

}  // namespace vmref::impl
