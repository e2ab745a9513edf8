// ALMOS-MKH vsegs (profiles.md §2.1-§2.4): processes, vmm_create_vseg with the STACK slot
// allocator and the MMAP power-of-two allocator with zombie lists, vmm_check_conflict,
// vmm_resize_vseg cases (a)-(d), vmm_user_reset and vmm_destroy. Faults and fork are in
// op_almos_fault.cpp.
#include <bit>

#include "vmref/model/model.hpp"

namespace vmref::model {

const char* to_string(AType t) {
  static const char* const k[] = {"code", "data", "stack", "anon", "file", "remote"};
  return k[static_cast<int>(t)];
}
bool parse_atype(const std::string& s, AType& out) {
  for (int i = 0; i < 6; ++i)
    if (s == to_string(static_cast<AType>(i))) {
      out = static_cast<AType>(i);
      return true;
    }
  return false;
}

AProcess& Model::almos_proc(const Event&, std::uint64_t pid, const char* field) {
  if (!profile_.almos.enabled) throw ModelError("op", "almos_* events need the almos-mkh profile");
  auto it = almos_.procs.find(pid);
  if (it == almos_.procs.end()) throw ModelError(field, "process " + std::to_string(pid) + " does not exist");
  return it->second;
}

Outcome Model::almos_process(const Event& e) {
  if (!profile_.almos.enabled) throw ModelError("op", "almos_* events need the almos-mkh profile");
  if (almos_.procs.count(e.as)) throw ModelError("pid", "process " + std::to_string(e.as) + " already exists");
  if (e.cpu < 0 || static_cast<std::size_t>(e.cpu) >= cpus_.size())
    throw ModelError("cluster", "cluster " + std::to_string(e.cpu) + " out of range (header cpus = clusters)");
  AProcess& p = almos_.procs[e.as];
  p.ref_cluster = static_cast<unsigned>(e.cpu);
  p.stack_bitmap.assign(profile_.almos.stack_slots, false);
  p.first_free_vpn = profile_.almos.mmap_base;
  p.gpt[p.ref_cluster];
  return {};
}

std::uint64_t Model::almos_new_page(std::uint64_t version) {
  std::uint64_t ppn = almos_.next_ppn++;
  almos_.pages[ppn] = {1, 0, version, false};
  ++almos_.allocated;
  return ppn;
}

void Model::almos_put_page(std::uint64_t ppn, bool cow) {
  auto it = almos_.pages.find(ppn);
  if (it == almos_.pages.end()) return;
  APage& pg = it->second;
  if (cow && pg.forks) --pg.forks;  // a COW sharer left: one pending fork less
  if (pg.refs) --pg.refs;
  if (pg.refs == 0 && !pg.mapper) almos_.pages.erase(it);
}

void Model::almos_update_pte(AProcess& p, Vpn vpn, const APte& pte) {
  p.gpt[p.ref_cluster][vpn] = pte;
  if (!profile_.almos.propagate_updates) return;
  for (auto& [k, g] : p.gpt)
    if (auto it = g.find(vpn); it != g.end()) it->second = pte;
}

void Model::almos_unmap_pages(AProcess& p, const AVseg& v, Vpn first, std::uint64_t count) {
  for (auto& [k, g] : p.gpt) {
    // The reference entry of a public vseg, or any entry of a private one, owns its page;
    // a copy of a public entry only mirrors the reference.
    bool owns = k == p.ref_cluster || !is_public(v.type);
    for (auto it = g.lower_bound(first); it != g.end() && it->first < first + count;) {
      if (owns) almos_put_page(it->second.ppn, it->second.cow);
      it = g.erase(it);
    }
  }
}

void Model::almos_remove_vseg(AProcess& p, Vpn base) {
  AVseg v = p.vsl.at(base);
  almos_unmap_pages(p, v, v.base, v.pages);
  p.vsl.erase(base);
  for (auto& [k, bases] : p.local_vsl) bases.erase(base);
  if (v.type == AType::stack) p.stack_bitmap[v.ltid] = false;
  if (!is_mmap(v.type)) return;
  for (const auto& [b, o] : p.vsl)
    if (is_mmap(o.type) && o.block == v.block) return;  // another part of the block lives on
  p.zombies[v.order].push_back(v.block);
}

// vmm_create_vseg: ret = the base address; NULL (errno) on conflict or no space.
Outcome Model::almos_vseg(const Event& e) {
  AProcess& p = almos_proc(e, e.as);
  const AlmosRules& r = profile_.almos;
  AType t;
  if (!parse_atype(e.name, t)) throw ModelError("type", "unknown vseg type '" + e.name + "' (code, data, stack, anon, file, remote)");
  AVseg v;
  v.type = t;
  std::uint64_t pages = (e.len + page_size_ - 1) >> page_shift_;
  if (t != AType::stack && (pages == 0 || e.len + page_size_ < e.len)) return {Err::einval};
  Delta::Almos note;
  note.pid = e.as;
  note.first_free_before = p.first_free_vpn;
  if (t == AType::stack) {  // the slot of the thread's LTID; its first page is the guard
    if (e.size_class >= r.stack_slots) return {Err::einval};
    if (p.stack_bitmap[e.size_class]) return {Err::eexist};
    v.ltid = e.size_class;
    v.base = r.stack_base + v.ltid * r.stack_slot_pages + (r.stack_guard ? 1 : 0);
    v.pages = r.stack_slot_pages - (r.stack_guard ? 1 : 0);
  } else if (is_mmap(t)) {  // 2^k pages: a zombie of order k first, else first_free_vpn
    v.order = static_cast<unsigned>(std::bit_width(pages - 1));
    v.pages = std::uint64_t{1} << v.order;
    auto zit = p.zombies.find(v.order);
    if (!r.zombie_exact_order)  // broken: the first non-empty list of this order or larger
      for (zit = p.zombies.lower_bound(v.order); zit != p.zombies.end() && zit->second.empty();) ++zit;
    if (zit != p.zombies.end() && !zit->second.empty()) {
      v.block = zit->second.back();
      zit->second.pop_back();
    } else {
      if (p.first_free_vpn + v.pages > r.mmap_base + r.mmap_pages) return {Err::enomem};
      v.block = p.first_free_vpn;
      p.first_free_vpn += v.pages;
    }
    v.base = v.block;
  } else {  // CODE, DATA: at the address asked for, inside the elf zone
    v.base = e.addr >> page_shift_;
    v.pages = pages;
    if ((e.addr & (page_size_ - 1)) || v.base < r.elf_base || v.base + pages > r.elf_base + r.elf_pages)
      return {Err::einval};
  }
  for (const auto& [b, o] : p.vsl)  // vmm_check_conflict
    if (o.base < v.base + v.pages && v.base < o.base + o.pages) return {Err::eexist};
  if (t == AType::stack) p.stack_bitmap[v.ltid] = true;
  p.vsl[v.base] = v;
  note.first_free_after = p.first_free_vpn;
  delta_.almos.push_back(note);
  Outcome o;
  o.ret = v.base << page_shift_;
  return o;
}

// vmm_resize_vseg (munmap): (a) error unless [addr, addr+len) lies inside one vseg;
// (b) the whole vseg goes; (c) one end is cut; (d) the middle is cut and the high part
// becomes a new vseg of the same type (and, for MMAP vsegs, the same block).
Outcome Model::almos_munmap(const Event& e) {
  AProcess& p = almos_proc(e, e.as);
  if ((e.addr & (page_size_ - 1)) || e.len == 0) return {Err::einval};
  Vpn first = e.addr >> page_shift_;
  std::uint64_t count = (e.len + page_size_ - 1) >> page_shift_;
  auto it = p.vsl.upper_bound(first);
  if (it == p.vsl.begin()) return {Err::einval};
  --it;
  AVseg v = it->second;
  if (first + count < first || first + count > v.base + v.pages) return {Err::einval};
  if (first == v.base && count == v.pages) {
    almos_remove_vseg(p, v.base);
    return {};
  }
  almos_unmap_pages(p, v, first, count);
  p.vsl.erase(v.base);
  for (auto& [k, bases] : p.local_vsl) bases.erase(v.base);  // copies re-fetch on their next fault
  if (first > v.base) {
    AVseg lo = v;
    lo.pages = first - v.base;
    p.vsl[lo.base] = lo;
  }
  if (first + count < v.base + v.pages) {
    AVseg hi = v;
    hi.base = first + count;
    hi.pages = v.base + v.pages - hi.base;
    p.vsl[hi.base] = hi;
  }
  return {};
}

// vmm_user_reset (exec): every user vseg goes, the STACK bitmap and the MMAP allocator
// start again.
Outcome Model::almos_exec(const Event& e) {
  AProcess& p = almos_proc(e, e.as);
  while (!p.vsl.empty()) almos_remove_vseg(p, p.vsl.begin()->first);
  std::fill(p.stack_bitmap.begin(), p.stack_bitmap.end(), false);
  p.first_free_vpn = profile_.almos.mmap_base;
  if (profile_.almos.reset_clears_zombies) p.zombies.clear();
  p.local_vsl.clear();
  Delta::Almos note;
  note.pid = e.as;
  note.reset = true;
  delta_.almos.push_back(note);
  return {};
}

// vmm_destroy (exit): everything the process maps is released, then the process goes.
Outcome Model::almos_exit(const Event& e) {
  AProcess& p = almos_proc(e, e.as);
  while (!p.vsl.empty()) almos_remove_vseg(p, p.vsl.begin()->first);
  almos_.procs.erase(e.as);
  return {};
}

}  // namespace vmref::model
