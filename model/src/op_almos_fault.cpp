// ALMOS-MKH page faults per cluster (profiles.md §2.5-§2.6): the local VSL copy is filled
// from the reference; public vsegs resolve through the reference GPT (false fault: copy
// the PTE; true fault: allocate once, set the reference, then the copy); COW write faults
// copy while forks are pending, else restore WRITABLE in place; fork copies the reference
// VSL and GPT and sets COW on the parent (vmm_fork_copy + vmm_set_cow).
#include "vmref/model/model.hpp"

namespace vmref::model {

Outcome Model::almos_access(const Event& e) {
  AProcess& p = almos_proc(e, e.as);
  if (e.cpu < 0 || static_cast<std::size_t>(e.cpu) >= cpus_.size())
    throw ModelError("cluster", "cluster " + std::to_string(e.cpu) + " out of range");
  auto k = static_cast<unsigned>(e.cpu);
  Vpn vpn = e.addr >> page_shift_;
  Outcome o;
  const AVseg* found = p.vseg_at(vpn);
  if (!found) {
    o.access = AccessResult::segv_maperr;  // not in the reference VSL either: a user error
    return o;
  }
  const AVseg& v = *found;
  bool write = e.kind == AccessKind::write;
  if ((write && v.type == AType::code) || (e.kind == AccessKind::exec && v.type != AType::code)) {
    o.access = AccessResult::segv_accerr;
    return o;
  }
  if (k != p.ref_cluster) p.local_vsl[k].insert(v.base);  // register the vseg locally
  std::map<Vpn, APte>& local = p.gpt[k];
  std::map<Vpn, APte>& ref = p.gpt[p.ref_cluster];
  if (!local.count(vpn)) {
    if (v.type == AType::code) {  // the .elf mapper's page of this VPN, shared by every process
      std::uint64_t& ppn = code_pages_[vpn];
      if (ppn == 0) {
        ppn = almos_new_page(0);
        almos_.pages[ppn].mapper = true;
      } else {
        ++almos_.pages.at(ppn).refs;
      }
      local[vpn] = {ppn, false, false};
    } else if (v.type == AType::stack) {  // a fresh page, in the faulting cluster only
      local[vpn] = {almos_new_page(0), true, false};
    } else if (k != p.ref_cluster && ref.count(vpn)) {  // false page fault
      Delta::Almos note;
      note.pid = e.as;
      note.false_fault = true;
      note.vpn = vpn;
      note.allocated_before = almos_.allocated;
      note.ref_had = true;
      note.ref_before = ref.at(vpn);
      if (profile_.almos.false_fault_copies) local[vpn] = ref.at(vpn);
      else local[vpn] = {almos_new_page(0), true, false};  // broken: treated as a true fault
      note.allocated_after = almos_.allocated;
      note.ref_has = ref.count(vpn) > 0;
      if (note.ref_has) note.ref_after = ref.at(vpn);
      delta_.almos.push_back(note);
    } else {  // true page fault: one page, set in the reference first, then the copy
      APte pte{almos_new_page(0), true, false};
      ref[vpn] = pte;
      local[vpn] = pte;
    }
  }
  APte& pte = local.at(vpn);
  if (write && !pte.writable) {  // vmm_handle_cow (only COW entries of writable vsegs get here)
    APte cur = is_public(v.type) ? ref.at(vpn) : pte;
    APte fresh = cur;
    if (cur.cow) {
      APage& old = almos_.pages.at(cur.ppn);
      if (profile_.almos.cow_checks_forks && old.forks > 0) {
        if (profile_.almos.copy_decrements_forks) --old.forks;
        --old.refs;
        fresh = {almos_new_page(old.version), true, false};
      } else {
        fresh = {cur.ppn, true, false};
      }
    }
    if (is_public(v.type)) almos_update_pte(p, vpn, fresh);
    local[vpn] = fresh;
  }
  if (write) ++almos_.pages.at(local.at(vpn).ppn).version;
  return o;
}

// process_make_fork: vmm_fork_copy builds the child from the parent's reference VSL and
// GPT; vmm_set_cow then write-protects the parent's DATA/ANON/REMOTE pages everywhere.
Outcome Model::almos_fork(const Event& e) {
  AProcess& parent = almos_proc(e, e.as);
  if (almos_.procs.count(e.child)) throw ModelError("child", "process " + std::to_string(e.child) + " already exists");
  if (e.cpu < 0 || static_cast<std::size_t>(e.cpu) >= cpus_.size())
    throw ModelError("cluster", "cluster " + std::to_string(e.cpu) + " out of range");
  AProcess c;
  c.ref_cluster = static_cast<unsigned>(e.cpu);
  c.stack_bitmap.assign(profile_.almos.stack_slots, false);
  c.first_free_vpn = parent.first_free_vpn;  // the child inherits the layout
  c.zombies = parent.zombies;
  std::map<Vpn, APte>& cref = c.gpt[c.ref_cluster];
  std::map<Vpn, APte>& pref = parent.gpt[parent.ref_cluster];
  std::vector<std::pair<Vpn, APte>> to_cow;
  for (const auto& [base, v] : parent.vsl) {
    if (v.type == AType::stack) continue;  // the forking thread's stack comes separately
    c.vsl[base] = v;
    if (v.type == AType::code) continue;   // refaulted from the .elf mapper
    for (auto it = pref.lower_bound(v.base); it != pref.end() && it->first < v.base + v.pages; ++it) {
      APage& pg = almos_.pages.at(it->second.ppn);
      ++pg.refs;
      if (v.type == AType::file) {
        cref[it->first] = it->second;  // shared, no COW
        continue;
      }
      ++pg.forks;
      cref[it->first] = {it->second.ppn, false, true};
      to_cow.push_back({it->first, {it->second.ppn, false, true}});
    }
  }
  almos_.procs[e.child] = std::move(c);
  AProcess& p = almos_.procs.at(e.as);
  for (const auto& [vpn, pte] : to_cow) almos_update_pte(p, vpn, pte);
  return {};
}

}  // namespace vmref::model
