// ALMOS-MKH page faults per cluster (spec/kernels/almos-mkh.md §5, §6): the local VSL copy is filled
// from the reference; public vsegs resolve through the reference GPT (false fault: copy
// the PTE; true fault: allocate once, set the reference, then the copy); COW write faults
// copy while forks are pending, else restore WRITABLE in place; fork copies the reference
// VSL and GPT and sets COW on the parent (vmm_fork_copy + vmm_set_cow).
#include "almos_model.hpp"

namespace vmref::almos {

using namespace vmref::model;
using almos::Pte;
using almos::Vseg;

Outcome AlmosModel::access(const Event& e) {
  const auto& a = e.get<AccessArgs>();
  Process& p = proc(a.pid);
  if (a.cluster >= cpus_.size())
    throw ModelError("cluster", "cluster " + std::to_string(a.cluster) + " out of range");
  auto k = a.cluster;
  Vpn vpn = a.va >> page_shift_;
  Outcome o;
  const Vseg* found = p.vseg_at(vpn);
  if (!found) {
    o.access = AccessResult::segv_maperr;  // not in the reference VSL either: a user error
    return o;
  }
  const Vseg& v = *found;
  bool write = a.kind == AccessKind::write;
  if ((write && v.type == VsegType::code) || (a.kind == AccessKind::exec && v.type != VsegType::code)) {
    o.access = AccessResult::segv_accerr;
    return o;
  }
  if (k != p.ref_cluster) p.local_vsl[k].insert(v.base);  // register the vseg locally
  std::map<Vpn, Pte>& local = p.gpt[k];
  std::map<Vpn, Pte>& ref = p.gpt[p.ref_cluster];
  if (!local.count(vpn)) {
    if (v.type == VsegType::code) {  // the .elf mapper's page of this VPN, shared by every process
      std::uint64_t& ppn = code_pages_[vpn];
      if (ppn == 0) {
        ppn = new_page(0);
        almos_.pages[ppn].mapper = true;
      } else {
        ++almos_.pages.at(ppn).refs;
      }
      local[vpn] = {ppn, false, false};
    } else if (v.type == VsegType::stack) {  // a fresh page, in the faulting cluster only
      local[vpn] = {new_page(0), true, false};
    } else if (k != p.ref_cluster && ref.count(vpn)) {  // false page fault
      CallNote note;
      note.pid = a.pid;
      note.false_fault = true;
      note.vpn = vpn;
      note.allocated_before = almos_.allocated;
      note.ref_had = true;
      note.ref_before = ref.at(vpn);
      if (p_.false_fault_copies) local[vpn] = ref.at(vpn);
      else local[vpn] = {new_page(0), true, false};  // broken: treated as a true fault
      note.allocated_after = almos_.allocated;
      note.ref_has = ref.count(vpn) > 0;
      if (note.ref_has) note.ref_after = ref.at(vpn);
      notes_.push_back(note);
    } else {  // true page fault: one page, set in the reference first, then the copy
      Pte pte{new_page(0), true, false};
      ref[vpn] = pte;
      local[vpn] = pte;
    }
  }
  Pte& pte = local.at(vpn);
  if (write && !pte.writable) {  // vmm_handle_cow (only COW entries of writable vsegs get here)
    Pte cur = is_public(v.type) ? ref.at(vpn) : pte;
    Pte fresh = cur;
    if (cur.cow) {
      Page& old = almos_.pages.at(cur.ppn);
      if (p_.cow_checks_forks && old.forks > 0) {
        if (p_.copy_decrements_forks) --old.forks;
        --old.refs;
        fresh = {new_page(old.version), true, false};
      } else {
        fresh = {cur.ppn, true, false};
      }
    }
    if (is_public(v.type)) update_pte(p, vpn, fresh);
    local[vpn] = fresh;
  }
  if (write) ++almos_.pages.at(local.at(vpn).ppn).version;
  return o;
}

// process_make_fork: vmm_fork_copy builds the child from the parent's reference VSL and
// GPT; vmm_set_cow then write-protects the parent's DATA/ANON/REMOTE pages everywhere.
Outcome AlmosModel::fork(const Event& e) {
  const auto& a = e.get<ForkArgs>();
  Process& parent = proc(a.pid);
  if (almos_.procs.count(a.child)) throw ModelError("child", "process " + std::to_string(a.child) + " already exists");
  if (a.cluster >= cpus_.size())
    throw ModelError("cluster", "cluster " + std::to_string(a.cluster) + " out of range");
  Process c;
  c.ref_cluster = a.cluster;
  c.stack_bitmap.assign(p_.stack_slots, false);
  c.first_free_vpn = parent.first_free_vpn;  // the child inherits the layout
  c.zombies = parent.zombies;
  std::map<Vpn, Pte>& cref = c.gpt[c.ref_cluster];
  std::map<Vpn, Pte>& pref = parent.gpt[parent.ref_cluster];
  std::vector<std::pair<Vpn, Pte>> to_cow;
  for (const auto& [base, v] : parent.vsl) {
    if (v.type == VsegType::stack) continue;  // the forking thread's stack comes separately
    c.vsl[base] = v;
    if (v.type == VsegType::code) continue;   // refaulted from the .elf mapper
    for (auto it = pref.lower_bound(v.base); it != pref.end() && it->first < v.base + v.pages; ++it) {
      Page& pg = almos_.pages.at(it->second.ppn);
      ++pg.refs;
      if (v.type == VsegType::file) {
        cref[it->first] = it->second;  // shared, no COW
        continue;
      }
      ++pg.forks;
      cref[it->first] = {it->second.ppn, false, true};
      to_cow.push_back({it->first, {it->second.ppn, false, true}});
    }
  }
  almos_.procs[a.child] = std::move(c);
  Process& p = almos_.procs.at(a.pid);
  for (const auto& [vpn, pte] : to_cow) update_pte(p, vpn, pte);
  return {};
}

}  // namespace vmref::almos
