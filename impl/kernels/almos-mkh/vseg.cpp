// ALMOS-MKH processes, pages, GPT writes and vsegs (spec/kernels/almos-mkh.md §1-§4, §7):
// vmm_create_vseg with the STACK and MMAP allocators, vmm_check_conflict,
// vmm_resize_vseg (a)-(d), vmm_user_reset and vmm_destroy. Faults and fork: fault.cpp.
#include <bit>
#include <stdexcept>
#include <string>

#include "almos_vmm.hpp"

namespace vmref::almos {

using namespace vmref::impl;

namespace {
bool is_public(VsegType t) { return t != VsegType::code && t != VsegType::stack; }
bool is_mmap(VsegType t) { return t == VsegType::anon || t == VsegType::file || t == VsegType::remote; }
}  // namespace

AlmosVmm::AlmosVmm(VmmCore& core, const AlmosParams& params) : KernelLayer(core), p_(params) {}

AlmosVmm::~AlmosVmm() = default;

AlmosVmm::Process& AlmosVmm::proc(std::uint64_t pid, const char* field) {
  auto it = procs_.find(pid);
  if (it == procs_.end()) throw std::invalid_argument(std::string(field) + ": process " + std::to_string(pid) + " does not exist");
  return it->second;
}

unsigned AlmosVmm::cluster(unsigned k) const {
  if (k >= core_.mmu().cpus()) throw std::invalid_argument("cluster: cluster " + std::to_string(k) + " out of range");
  return k;
}

RadixTable& AlmosVmm::table(Process& p, unsigned k) {
  auto& t = p.gpt[k];
  if (!t) t = std::make_unique<RadixTable>(core_.pool(), core_.codec(), core_.mutant());
  return *t;
}

const AlmosVmm::Vseg* AlmosVmm::vseg_at(const Process& p, Vpn vpn) const {
  for (const Vseg& v : p.vsl)
    if (vpn >= v.base && vpn - v.base < v.pages) return &v;
  return nullptr;
}

void AlmosVmm::vsl_insert(Process& p, const Vseg& v) {
  auto it = p.vsl.begin();
  while (it != p.vsl.end() && it->base < v.base) ++it;
  p.vsl.insert(it, v);
}

void AlmosVmm::vsl_remove(Process& p, Vpn base) {
  p.vsl.remove_if([&](const Vseg& v) { return v.base == base; });
}

std::uint64_t AlmosVmm::version(std::uint64_t pfn) const {
  const std::uint64_t* w = core_.memory().find(pfn);
  return w ? w[0] : 0;
}

std::uint64_t AlmosVmm::new_page(std::uint64_t version) {
  std::uint64_t pfn = core_.pool().alloc();
  if (pfn >= pages_.size()) pages_.resize(std::max<std::size_t>(pfn + 1, pages_.size() * 2));
  pages_[pfn] = {true, false, 1, 0, ++generations_};
  core_.pool().mem().page(pfn)[0] = version;
  ++live_;
  return pfn;
}

void AlmosVmm::put_page(std::uint64_t pfn, bool cow) {
  Page& pg = pages_[pfn];
  if (!pg.live) return;
  if (cow && pg.forks) --pg.forks;  // a COW sharer left without writing
  if (pg.refs) --pg.refs;
  if (pg.refs || pg.mapper) return;
  pg.live = false;
  --live_;
  core_.pool().free(pfn);
}

void AlmosVmm::set(RadixTable& t, Vpn vpn, std::uint64_t pfn, bool writable, bool cow) {
  LeafAttrs a;
  a.rights = {writable, true, true};
  a.soft = cow ? 1 : 0;
  t.map(vpn * kPage, pfn * kPage, kPage, a);
}

void AlmosVmm::update_pte(Process& p, Vpn vpn, std::uint64_t pfn, bool writable, bool cow) {
  set(table(p, p.ref_cluster), vpn, pfn, writable, cow);
  if (!p_.propagate_updates || core_.mutant() == &kUpdateSkipsCopies) return;
  for (auto& [k, t] : p.gpt)
    if (k != p.ref_cluster && t->lookup(vpn * kPage)) set(*t, vpn, pfn, writable, cow);
}

void AlmosVmm::unmap_pages(Process& p, const Vseg& v, Vpn first, std::uint64_t count) {
  for (auto& [k, t] : p.gpt) {
    // The reference entry of a public vseg, or any entry of a private one, owns its page.
    bool owns = k == p.ref_cluster || !is_public(v.type);
    t->unmap(first * kPage, count * kPage, [&](const Mapping& m) {
      if (owns) put_page(m.pa / kPage, m.attrs.soft & 1);
    });
  }
}

// vmm_remove_vseg: PTEs unmapped in every copy, the vseg's VA back to its allocator.
void AlmosVmm::remove_vseg(Process& p, Vpn base) {
  Vseg v = *vseg_at(p, base);
  unmap_pages(p, v, v.base, v.pages);
  vsl_remove(p, base);
  for (auto& [k, bases] : p.local_vsl) bases.erase(base);
  if (v.type == VsegType::stack) p.stack_bits[v.ltid / 64] &= ~(1ull << (v.ltid % 64));
  if (!is_mmap(v.type)) return;
  for (const Vseg& o : p.vsl)
    if (is_mmap(o.type) && o.block == v.block) return;  // a part of the block lives on
  p.zombies[v.order].push_back(v.block);
}

// §1
Outcome AlmosVmm::process(const Event& e) {
  const auto& a = e.get<ProcessArgs>();
  if (procs_.count(a.pid)) throw std::invalid_argument("pid: process " + std::to_string(a.pid) + " already exists");
  unsigned k = cluster(a.cluster);
  Process& p = procs_[a.pid];
  p.ref_cluster = k;
  p.stack_bits.assign((p_.stack_slots + 63) / 64, 0);
  p.first_free_vpn = p_.mmap_base;
  table(p, p.ref_cluster);
  return {};
}

// §2, §3 vmm_create_vseg: ret = the base address.
Outcome AlmosVmm::vseg(const Event& e) {
  const auto& a = e.get<VsegArgs>();
  Process& p = proc(a.pid);
  Vseg v;
  v.type = a.type;
  std::uint64_t pages = (a.len + kPage - 1) / kPage;
  if (v.type != VsegType::stack && (pages == 0 || a.len + kPage < a.len)) return {Err::einval};
  if (v.type == VsegType::stack) {
    std::uint64_t slot = a.ltid;
    if (slot >= p_.stack_slots) return {Err::einval};
    if (p.stack_bits[slot / 64] >> (slot % 64) & 1) return {Err::eexist};
    unsigned guard = p_.stack_guard ? 1 : 0;
    v.ltid = slot;
    v.base = p_.stack_base + slot * p_.stack_slot_pages + guard;
    v.pages = p_.stack_slot_pages - guard;
  } else if (is_mmap(v.type)) {
    v.order = static_cast<unsigned>(std::bit_width(pages - 1));
    v.pages = std::uint64_t{1} << v.order;
    std::vector<Vpn>* list = &p.zombies[v.order];
    if (!p_.zombie_exact_order)  // broken: the first non-empty list of this order or above
      for (unsigned o = v.order; o < p.zombies.size() && list->empty(); ++o) list = &p.zombies[o];
    if (!list->empty()) {
      v.block = list->back();
      list->pop_back();
    } else {
      if (p.first_free_vpn + v.pages > p_.mmap_base + p_.mmap_pages) return {Err::enomem};
      v.block = p.first_free_vpn;
      p.first_free_vpn += v.pages;
    }
    v.base = v.block;
  } else {
    v.base = a.addr / kPage;
    v.pages = pages;
    if (a.addr % kPage || v.base < p_.elf_base || v.base + pages > p_.elf_base + p_.elf_pages) return {Err::einval};
  }
  for (const Vseg& o : p.vsl)  // vmm_check_conflict
    if (o.base < v.base + v.pages && v.base < o.base + o.pages) return {Err::eexist};
  if (v.type == VsegType::stack) p.stack_bits[v.ltid / 64] |= 1ull << (v.ltid % 64);
  vsl_insert(p, v);
  return {Err::ok, v.base * kPage};
}

// §4 vmm_resize_vseg: (a) refuse unless inside one vseg, (b) remove, (c) cut an end,
// (d) cut the middle: the high part becomes a new vseg of the same type and block.
Outcome AlmosVmm::munmap(const Event& e) {
  const auto& a = e.get<MunmapArgs>();
  Process& p = proc(a.pid);
  if (a.addr % kPage || a.len == 0) return {Err::einval};
  Vpn first = a.addr / kPage;
  std::uint64_t count = (a.len + kPage - 1) / kPage;
  const Vseg* found = nullptr;
  for (const Vseg& v : p.vsl)
    if (v.base <= first) found = &v;  // the last vseg starting at or below `first`
  if (!found) return {Err::einval};
  Vseg v = *found;
  if (first + count < first || first + count > v.base + v.pages) return {Err::einval};
  if (first == v.base && count == v.pages) {
    remove_vseg(p, v.base);
    return {};
  }
  unmap_pages(p, v, first, count);
  vsl_remove(p, v.base);
  for (auto& [k, bases] : p.local_vsl) bases.erase(v.base);
  if (first > v.base) {
    Vseg lo = v;
    lo.pages = first - v.base;
    vsl_insert(p, lo);
  }
  if (first + count < v.base + v.pages) {
    Vseg hi = v;
    hi.base = first + count;
    hi.pages = v.base + v.pages - hi.base;
    vsl_insert(p, hi);
  }
  return {};
}

// §7 vmm_user_reset (exec) or vmm_destroy (exit): every vseg goes; exec restarts the
// allocators, exit frees the process and its tables.
Outcome AlmosVmm::reset_process(std::uint64_t pid, bool exit) {
  Process& p = proc(pid);
  while (!p.vsl.empty()) remove_vseg(p, p.vsl.front().base);
  if (exit) {
    procs_.erase(pid);
    return {};
  }
  std::fill(p.stack_bits.begin(), p.stack_bits.end(), 0);
  p.first_free_vpn = p_.mmap_base;
  if (p_.reset_clears_zombies)
    for (auto& z : p.zombies) z.clear();
  p.local_vsl.clear();
  return {};
}

Outcome AlmosVmm::exec(const Event& e) { return reset_process(e.get<PidArgs>().pid, false); }
Outcome AlmosVmm::exit(const Event& e) { return reset_process(e.get<PidArgs>().pid, true); }

}  // namespace vmref::almos
