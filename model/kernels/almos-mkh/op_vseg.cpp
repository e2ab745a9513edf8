// ALMOS-MKH vsegs (spec/kernels/almos-mkh.md §1-§4, §7): processes, vmm_create_vseg with the STACK slot
// allocator and the MMAP power-of-two allocator with zombie lists, vmm_check_conflict,
// vmm_resize_vseg cases (a)-(d), vmm_user_reset and vmm_destroy. Faults and fork are in
// op_fault.cpp.
#include <bit>

#include "almos_arith.hpp"
#include "almos_model.hpp"

namespace vmref::almos {

using namespace vmref::model;
using almos::Pte;
using almos::Vseg;

Process& AlmosModel::proc(std::uint64_t pid, const char* field) {
  auto it = almos_.procs.find(pid);
  if (it == almos_.procs.end()) throw ModelError(field, "process " + std::to_string(pid) + " does not exist");
  return it->second;
}

Outcome AlmosModel::process(const Event& e) {
  const auto& a = e.get<ProcessArgs>();
  if (almos_.procs.count(a.pid)) throw ModelError("pid", "process " + std::to_string(a.pid) + " already exists");
  if (a.cluster >= cpus_.size())
    throw ModelError("cluster", "cluster " + std::to_string(a.cluster) + " out of range (header cpus = clusters)");
  Process& p = almos_.procs[a.pid];
  p.ref_cluster = a.cluster;
  p.stack_bitmap.assign(p_.stack_slots, false);
  p.first_free_vpn = p_.mmap_base;
  p.gpt[p.ref_cluster];
  return {};
}

std::uint64_t AlmosModel::new_page(std::uint64_t version) {
  std::uint64_t ppn = almos_.next_ppn++;
  almos_.pages[ppn] = {1, 0, version, false};
  ++almos_.allocated;
  return ppn;
}

void AlmosModel::put_page(std::uint64_t ppn, bool cow) {
  auto it = almos_.pages.find(ppn);
  if (it == almos_.pages.end()) return;
  Page& pg = it->second;
  if (cow && pg.forks) --pg.forks;  // a COW sharer left: one pending fork less
  if (pg.refs) --pg.refs;
  if (pg.refs == 0 && !pg.mapper) almos_.pages.erase(it);
}

void AlmosModel::update_pte(Process& p, Vpn vpn, const Pte& pte) {
  p.gpt[p.ref_cluster][vpn] = pte;
  if (!p_.propagate_updates) return;
  for (auto& [k, g] : p.gpt)
    if (auto it = g.find(vpn); it != g.end()) it->second = pte;
}

void AlmosModel::unmap_pages(Process& p, const Vseg& v, Vpn first, std::uint64_t count) {
  for (auto& [k, g] : p.gpt) {
    // The reference entry of a public vseg, or any entry of a private one, owns its page;
    // a copy of a public entry only mirrors the reference.
    bool owns = k == p.ref_cluster || !is_public(v.type);
    for (auto it = g.lower_bound(first); it != g.end() && it->first < first + count;) {
      if (owns) put_page(it->second.ppn, it->second.cow);
      it = g.erase(it);
    }
  }
}

void AlmosModel::remove_vseg(Process& p, Vpn base) {
  Vseg v = p.vsl.at(base);
  unmap_pages(p, v, v.base, v.pages);
  p.vsl.erase(base);
  for (auto& [k, bases] : p.local_vsl) bases.erase(base);
  if (v.type == VsegType::stack) p.stack_bitmap[v.ltid] = false;
  if (!is_mmap(v.type)) return;
  for (const auto& [b, o] : p.vsl)
    if (is_mmap(o.type) && o.block == v.block) return;  // another part of the block lives on
  p.zombies[v.order].push_back(v.block);
}

// vmm_create_vseg: ret = the base address; NULL (errno) on conflict or no space.
Outcome AlmosModel::vseg(const Event& e) {
  const auto& a = e.get<VsegArgs>();
  Process& p = proc(a.pid);
  const AlmosParams& r = p_;
  VsegType t = a.type;
  Vseg v;
  v.type = t;
  std::uint64_t pages = (a.len + page_size_ - 1) >> page_shift_;
  if (t != VsegType::stack && (pages == 0 || a.len + page_size_ < a.len)) return {Err::einval};
  CallNote note;
  note.pid = a.pid;
  note.first_free_before = p.first_free_vpn;
  if (t == VsegType::stack) {  // the slot of the thread's LTID; its first page is the guard
    if (a.ltid >= r.stack_slots) return {Err::einval};
    if (p.stack_bitmap[a.ltid]) return {Err::eexist};
    v.ltid = a.ltid;
    v.base = r.stack_base + v.ltid * r.stack_slot_pages + (r.stack_guard ? 1 : 0);
    v.pages = r.stack_slot_pages - (r.stack_guard ? 1 : 0);
  } else if (is_mmap(t)) {  // 2^k pages: a zombie of order k first, else first_free_vpn
    v.order = static_cast<unsigned>(arith::mmap_order<std::uint64_t>(pages));
    v.pages = std::uint64_t{1} << v.order;
    auto zit = p.zombies.find(v.order);
    if (!r.zombie_exact_order)  // broken: the first non-empty list of this order or larger
      for (zit = p.zombies.lower_bound(v.order); zit != p.zombies.end() && zit->second.empty();) ++zit;
    if (zit != p.zombies.end() && !zit->second.empty()) {
      v.block = zit->second.back();
      zit->second.pop_back();
    } else {
      if (arith::mmap_exhausted<std::uint64_t>(p.first_free_vpn, v.order, r.mmap_base + r.mmap_pages)) return {Err::enomem};
      v.block = p.first_free_vpn;
      p.first_free_vpn += v.pages;
    }
    v.base = v.block;
  } else {  // CODE, DATA: at the address asked for, inside the elf zone
    v.base = a.addr >> page_shift_;
    v.pages = pages;
    if ((a.addr & (page_size_ - 1)) || v.base < r.elf_base || v.base + pages > r.elf_base + r.elf_pages)
      return {Err::einval};
  }
  for (const auto& [b, o] : p.vsl)  // vmm_check_conflict
    if (o.base < v.base + v.pages && v.base < o.base + o.pages) return {Err::eexist};
  if (t == VsegType::stack) p.stack_bitmap[v.ltid] = true;
  p.vsl[v.base] = v;
  note.first_free_after = p.first_free_vpn;
  notes_.push_back(note);
  Outcome o;
  o.ret = v.base << page_shift_;
  return o;
}

// vmm_resize_vseg (munmap): (a) error unless [addr, addr+len) lies inside one vseg;
// (b) the whole vseg goes; (c) one end is cut; (d) the middle is cut and the high part
// becomes a new vseg of the same type (and, for MMAP vsegs, the same block).
Outcome AlmosModel::munmap(const Event& e) {
  const auto& a = e.get<MunmapArgs>();
  Process& p = proc(a.pid);
  if ((a.addr & (page_size_ - 1)) || a.len == 0) return {Err::einval};
  Vpn first = a.addr >> page_shift_;
  std::uint64_t count = (a.len + page_size_ - 1) >> page_shift_;
  auto it = p.vsl.upper_bound(first);
  if (it == p.vsl.begin()) return {Err::einval};
  --it;
  Vseg v = it->second;
  if (first + count < first || first + count > v.base + v.pages) return {Err::einval};
  if (first == v.base && count == v.pages) {
    remove_vseg(p, v.base);
    return {};
  }
  unmap_pages(p, v, first, count);
  p.vsl.erase(v.base);
  for (auto& [k, bases] : p.local_vsl) bases.erase(v.base);  // copies re-fetch on their next fault
  if (first > v.base) {
    Vseg lo = v;
    lo.pages = first - v.base;
    p.vsl[lo.base] = lo;
  }
  if (first + count < v.base + v.pages) {
    Vseg hi = v;
    hi.base = first + count;
    hi.pages = v.base + v.pages - hi.base;
    p.vsl[hi.base] = hi;
  }
  return {};
}

// vmm_user_reset (exec): every user vseg goes, the STACK bitmap and the MMAP allocator
// start again.
Outcome AlmosModel::exec(const Event& e) {
  const auto& a = e.get<PidArgs>();
  Process& p = proc(a.pid);
  while (!p.vsl.empty()) remove_vseg(p, p.vsl.begin()->first);
  std::fill(p.stack_bitmap.begin(), p.stack_bitmap.end(), false);
  p.first_free_vpn = p_.mmap_base;
  if (p_.reset_clears_zombies) p.zombies.clear();
  p.local_vsl.clear();
  CallNote note;
  note.pid = a.pid;
  note.reset = true;
  notes_.push_back(note);
  return {};
}

// vmm_destroy (exit): everything the process maps is released, then the process goes.
Outcome AlmosModel::exit(const Event& e) {
  const auto& a = e.get<PidArgs>();
  Process& p = proc(a.pid);
  while (!p.vsl.empty()) remove_vseg(p, p.vsl.begin()->first);
  almos_.procs.erase(a.pid);
  return {};
}

}  // namespace vmref::almos
