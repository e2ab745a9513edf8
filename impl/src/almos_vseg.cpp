// ALMOS-MKH over x86-64 tables (profiles.md §2.1-§2.4): processes, pages, GPT writes,
// vmm_create_vseg with the STACK and MMAP allocators, vmm_check_conflict,
// vmm_resize_vseg (a)-(d), vmm_user_reset and vmm_destroy. Faults and fork: almos_fault.cpp.
#include <bit>
#include <stdexcept>
#include <string>

#include "vmref/impl/almos.hpp"

namespace vmref::impl {

using namespace vmref::model;

namespace {
constexpr std::uint64_t kPage = 4096;
}

Almos::Almos(const AlmosRules& rules, unsigned clusters, FramePool& pool, const RadixCodec& codec, Mutant mutant)
    : rules_(rules), clusters_(clusters), pool_(pool), codec_(codec), mutant_(mutant) {}

Almos::~Almos() = default;

Outcome Almos::apply(const Event& e) {
  switch (e.op) {
    case Op::almos_process: return process(e);
    case Op::almos_vseg: return vseg(e);
    case Op::almos_munmap: return munmap(e);
    case Op::almos_access: return access(e);
    case Op::almos_fork: return fork(e);
    case Op::almos_exec: return reset(e, false);
    case Op::almos_exit: return reset(e, true);
    default: throw std::invalid_argument("op: not an almos_* event");
  }
}

Almos::Process& Almos::proc(std::uint64_t pid, const char* field) {
  auto it = procs_.find(pid);
  if (it == procs_.end()) throw std::invalid_argument(std::string(field) + ": process " + std::to_string(pid) + " does not exist");
  return it->second;
}

unsigned Almos::cluster(const Event& e) const {
  if (e.cpu < 0 || static_cast<unsigned>(e.cpu) >= clusters_)
    throw std::invalid_argument("cluster: cluster " + std::to_string(e.cpu) + " out of range");
  return static_cast<unsigned>(e.cpu);
}

RadixTable& Almos::table(Process& p, unsigned k) {
  auto& t = p.gpt[k];
  if (!t) t = std::make_unique<RadixTable>(pool_, codec_, mutant_);
  return *t;
}

std::uint64_t Almos::version(std::uint64_t pfn) const {
  const std::uint64_t* w = pool_.mem().find(pfn);
  return w ? w[0] : 0;
}

std::uint64_t Almos::new_page(std::uint64_t version) {
  std::uint64_t pfn = pool_.alloc();
  if (pfn >= pages_.size()) pages_.resize(std::max<std::size_t>(pfn + 1, pages_.size() * 2));
  pages_[pfn] = {true, false, 1, 0, ++generations_};
  pool_.mem().page(pfn)[0] = version;
  ++live_;
  return pfn;
}

void Almos::put_page(std::uint64_t pfn, bool cow) {
  Page& pg = pages_[pfn];
  if (!pg.live) return;
  if (cow && pg.forks) --pg.forks;  // a COW sharer left without writing
  if (pg.refs) --pg.refs;
  if (pg.refs || pg.mapper) return;
  pg.live = false;
  --live_;
  pool_.free(pfn);
}

void Almos::set(RadixTable& t, Vpn vpn, std::uint64_t pfn, bool writable, bool cow) {
  LeafAttrs a;
  a.rights = {writable, true, true};
  a.soft = cow ? 1 : 0;
  t.map(vpn * kPage, pfn * kPage, kPage, a);
}

void Almos::update_pte(Process& p, Vpn vpn, std::uint64_t pfn, bool writable, bool cow) {
  set(table(p, p.ref_cluster), vpn, pfn, writable, cow);
  if (!rules_.propagate_updates || mutant_ == Mutant::almos_update_skips_copies) return;
  for (auto& [k, t] : p.gpt)
    if (k != p.ref_cluster && t->lookup(vpn * kPage)) set(*t, vpn, pfn, writable, cow);
}

void Almos::unmap_pages(Process& p, const Vseg& v, Vpn first, std::uint64_t count) {
  for (auto& [k, t] : p.gpt) {
    // The reference entry of a public vseg, or any entry of a private one, owns its page.
    bool owns = k == p.ref_cluster || !is_public(v.type);
    t->unmap(first * kPage, count * kPage, [&](const Mapping& m) {
      if (owns) put_page(m.pa / kPage, m.attrs.soft & 1);
    });
  }
}

void Almos::remove_vseg(Process& p, Vpn base) {
  Vseg v = p.vsl.at(base);
  unmap_pages(p, v, v.base, v.pages);
  p.vsl.erase(base);
  for (auto& [k, bases] : p.local_vsl) bases.erase(base);
  if (v.type == AType::stack) p.stack_bits[v.ltid / 64] &= ~(1ull << (v.ltid % 64));
  if (!is_mmap(v.type)) return;
  for (const auto& [b, o] : p.vsl)
    if (is_mmap(o.type) && o.block == v.block) return;  // a part of the block lives on
  p.zombies[v.order].push_back(v.block);
}

Outcome Almos::process(const Event& e) {
  if (procs_.count(e.as)) throw std::invalid_argument("pid: process " + std::to_string(e.as) + " already exists");
  Process& p = procs_[e.as];
  p.ref_cluster = cluster(e);
  p.stack_bits.assign((rules_.stack_slots + 63) / 64, 0);
  p.first_free_vpn = rules_.mmap_base;
  table(p, p.ref_cluster);
  return {};
}

// vmm_create_vseg: the same checks in the same order as the model; ret = the base address.
Outcome Almos::vseg(const Event& e) {
  Process& p = proc(e.as);
  Vseg v;
  if (!parse_atype(e.name, v.type)) throw std::invalid_argument("type: unknown vseg type '" + e.name + "'");
  std::uint64_t pages = (e.len + kPage - 1) / kPage;
  if (v.type != AType::stack && (pages == 0 || e.len + kPage < e.len)) return {Err::einval};
  if (v.type == AType::stack) {
    std::uint64_t slot = e.size_class;
    if (slot >= rules_.stack_slots) return {Err::einval};
    if (p.stack_bits[slot / 64] >> (slot % 64) & 1) return {Err::eexist};
    unsigned guard = rules_.stack_guard ? 1 : 0;
    v.ltid = slot;
    v.base = rules_.stack_base + slot * rules_.stack_slot_pages + guard;
    v.pages = rules_.stack_slot_pages - guard;
  } else if (is_mmap(v.type)) {
    v.order = static_cast<unsigned>(std::bit_width(pages - 1));
    v.pages = std::uint64_t{1} << v.order;
    std::vector<Vpn>* list = &p.zombies[v.order];
    if (!rules_.zombie_exact_order)  // broken: the first non-empty list of this order or above
      for (unsigned o = v.order; o < p.zombies.size() && list->empty(); ++o) list = &p.zombies[o];
    if (!list->empty()) {
      v.block = list->back();
      list->pop_back();
    } else {
      if (p.first_free_vpn + v.pages > rules_.mmap_base + rules_.mmap_pages) return {Err::enomem};
      v.block = p.first_free_vpn;
      p.first_free_vpn += v.pages;
    }
    v.base = v.block;
  } else {
    v.base = e.addr / kPage;
    v.pages = pages;
    if (e.addr % kPage || v.base < rules_.elf_base || v.base + pages > rules_.elf_base + rules_.elf_pages)
      return {Err::einval};
  }
  // vmm_check_conflict: the vseg below the new end must end at or before its base.
  if (auto it = p.vsl.lower_bound(v.base + v.pages); it != p.vsl.begin()) {
    const Vseg& o = std::prev(it)->second;
    if (o.base + o.pages > v.base) return {Err::eexist};
  }
  if (v.type == AType::stack) p.stack_bits[v.ltid / 64] |= 1ull << (v.ltid % 64);
  p.vsl[v.base] = v;
  return {Err::ok, v.base * kPage};
}

// vmm_resize_vseg: (a) refuse unless inside one vseg, (b) remove, (c) cut an end,
// (d) cut the middle: the high part becomes a new vseg of the same type and block.
Outcome Almos::munmap(const Event& e) {
  Process& p = proc(e.as);
  if (e.addr % kPage || e.len == 0) return {Err::einval};
  Vpn first = e.addr / kPage;
  std::uint64_t count = (e.len + kPage - 1) / kPage;
  auto it = p.vsl.upper_bound(first);
  if (it == p.vsl.begin()) return {Err::einval};
  Vseg v = std::prev(it)->second;
  if (first + count < first || first + count > v.base + v.pages) return {Err::einval};
  if (first == v.base && count == v.pages) {
    remove_vseg(p, v.base);
    return {};
  }
  unmap_pages(p, v, first, count);
  p.vsl.erase(v.base);
  for (auto& [k, bases] : p.local_vsl) bases.erase(v.base);
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

// vmm_user_reset (exec) or vmm_destroy (exit): every vseg goes; exec restarts the
// allocators, exit frees the process and its tables.
Outcome Almos::reset(const Event& e, bool exit) {
  Process& p = proc(e.as);
  while (!p.vsl.empty()) remove_vseg(p, p.vsl.begin()->first);
  if (exit) {
    procs_.erase(e.as);
    return {};
  }
  std::fill(p.stack_bits.begin(), p.stack_bits.end(), 0);
  p.first_free_vpn = rules_.mmap_base;
  if (rules_.reset_clears_zombies)
    for (auto& z : p.zombies) z.clear();
  p.local_vsl.clear();
  return {};
}

}  // namespace vmref::impl
