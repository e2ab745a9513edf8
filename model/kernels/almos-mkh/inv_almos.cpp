// INV-ALMOS-*: ALMOS-MKH's per-process VMM (spec/kernels/almos-mkh.md §10). The
// processes' state is checked whole after every event; 3 (monotonic first_free_vpn), 5
// and 7 also judge the call the delta records.
#include "almos_model.hpp"
#include "vmref/model/invariants.hpp"

namespace vmref::almos {

using namespace vmref::model;
using almos::Pte;
using almos::Vseg;

namespace {
const AlmosModel& layer(const CheckScope& sc) { return *sc.m.layer<AlmosModel>(); }
std::string pid_s(std::uint64_t pid) { return "pid " + std::to_string(pid); }
std::string page(const CheckScope& sc, Vpn v) { return hex(v << sc.m.page_shift()); }
}  // namespace

// A1: vsegs are disjoint and each lies in its zone (STACK: its slot minus the guard).
void check_almos_1(const CheckScope& sc, std::vector<Violation>& out) {
  const AlmosParams& r = layer(sc).params();
  for (const auto& [pid, p] : layer(sc).state().procs) {
    Vpn prev_end = 0;
    for (const auto& [b, v] : p.vsl) {
      Vpn lo = 0, hi = 0;
      if (v.type == VsegType::stack) {
        lo = r.stack_base + v.ltid * r.stack_slot_pages + 1;
        hi = lo - 1 + r.stack_slot_pages;
      } else if (is_mmap(v.type)) {
        lo = std::max(r.mmap_base, v.block);
        hi = std::min(r.mmap_base + r.mmap_pages, v.block + (std::uint64_t{1} << v.order));
      } else {
        lo = r.elf_base;
        hi = r.elf_base + r.elf_pages;
      }
      if (v.base < lo || v.base + v.pages > hi)
        out.push_back({"INV-ALMOS-1", pid_s(pid) + ": " + to_string(v.type) + " vseg [" + page(sc, v.base) + ", " +
                                          page(sc, v.base + v.pages) + ") leaves its zone [" + page(sc, lo) + ", " + page(sc, hi) + ")"});
      if (v.base < prev_end) out.push_back({"INV-ALMOS-1", pid_s(pid) + ": vseg at " + page(sc, v.base) + " overlaps the one below"});
      prev_end = std::max(prev_end, v.base + v.pages);
    }
  }
}

// A2 + A7: bit i is set iff slot i holds a STACK vseg; no GPT copy maps a slot's guard.
void check_almos_2(const CheckScope& sc, std::vector<Violation>& out) {
  const AlmosParams& r = layer(sc).params();
  for (const auto& [pid, p] : layer(sc).state().procs) {
    std::vector<bool> live(r.stack_slots, false);
    for (const auto& [b, v] : p.vsl)
      if (v.type == VsegType::stack && v.ltid < live.size()) live[v.ltid] = true;
    for (std::size_t i = 0; i < live.size(); ++i)
      if (live[i] != p.stack_bitmap[i])
        out.push_back({"INV-ALMOS-2", pid_s(pid) + ": stack bitmap bit " + std::to_string(i) +
                                          (live[i] ? " clear for a live STACK vseg" : " set for an empty slot")});
    for (const auto& [k, g] : p.gpt)
      for (std::uint64_t i = 0; i < r.stack_slots; ++i)
        if (Vpn guard = r.stack_base + i * r.stack_slot_pages; g.count(guard))
          out.push_back({"INV-ALMOS-2", pid_s(pid) + " cluster " + std::to_string(k) + ": guard page " + page(sc, guard) +
                                            " of stack slot " + std::to_string(i) + " is mapped"});
  }
}

// A6: live and zombie MMAP blocks tile [mmap_base, first_free_vpn) exactly, each MMAP
// vseg lies in a block of 2^order pages, and first_free_vpn only grows between resets.
void check_almos_3(const CheckScope& sc, std::vector<Violation>& out) {
  const AlmosParams& r = layer(sc).params();
  for (const auto& [pid, p] : layer(sc).state().procs) {
    std::map<Vpn, std::uint64_t> blocks;  // block -> pages
    std::map<Vpn, int> owners;
    for (const auto& [b, v] : p.vsl)
      if (is_mmap(v.type)) blocks[v.block] = std::uint64_t{1} << v.order;
    for (const auto& [order, list] : p.zombies)
      for (Vpn z : list) {
        if (blocks.count(z) || owners.count(z))
          out.push_back({"INV-ALMOS-3", pid_s(pid) + ": block " + page(sc, z) + " is both zombie and live, or zombie twice"});
        owners[z] = 1;
        blocks[z] = std::uint64_t{1} << order;
      }
    Vpn at = r.mmap_base;
    for (const auto& [b, n] : blocks) {
      if (b != at) {
        out.push_back({"INV-ALMOS-3", pid_s(pid) + ": MMAP zone pages [" + page(sc, std::min(at, b)) + ", " +
                                          page(sc, std::max(at, b)) + ") are " + (b > at ? "in no block (lost)" : "in two blocks")});
        break;
      }
      at = b + n;
    }
    if (at != p.first_free_vpn && out.empty())
      out.push_back({"INV-ALMOS-3", pid_s(pid) + ": blocks end at " + page(sc, at) + ", first_free_vpn is " + page(sc, p.first_free_vpn)});
  }
  for (const CallNote& n : layer(sc).notes())
    if (!n.reset && !n.false_fault && n.first_free_after < n.first_free_before)
      out.push_back({"INV-ALMOS-3", pid_s(n.pid) + ": first_free_vpn went down"});
}

// A3: a cluster's copy holds only vsegs of the reference VSL, and each entry of a public
// vseg in a copy equals the reference entry.
void check_almos_4(const CheckScope& sc, std::vector<Violation>& out) {
  for (const auto& [pid, p] : layer(sc).state().procs) {
    for (const auto& [k, bases] : p.local_vsl)
      for (Vpn b : bases)
        if (!p.vsl.count(b))
          out.push_back({"INV-ALMOS-4", pid_s(pid) + " cluster " + std::to_string(k) + ": local vseg " + page(sc, b) + " is not in the reference VSL"});
    const auto& ref = p.gpt.at(p.ref_cluster);
    for (const auto& [k, g] : p.gpt) {
      if (k == p.ref_cluster) continue;
      for (const auto& [vpn, pte] : g) {
        const Vseg* v = p.vseg_at(vpn);
        std::string where = pid_s(pid) + " cluster " + std::to_string(k) + ": " + page(sc, vpn);
        if (!v) out.push_back({"INV-ALMOS-4", where + " is mapped outside every reference vseg"});
        else if (is_public(v->type) && (!ref.count(vpn) || !(ref.at(vpn) == pte)))
          out.push_back({"INV-ALMOS-4", where + " differs from the reference entry (ppn " + std::to_string(pte.ppn) +
                                            (pte.writable ? " W" : "") + (pte.cow ? " COW" : "") + ")"});
      }
    }
  }
}

// A4: a false page fault allocates nothing and leaves the reference entry as it was.
void check_almos_5(const CheckScope& sc, std::vector<Violation>& out) {
  for (const CallNote& n : layer(sc).notes()) {
    if (!n.false_fault) continue;
    if (n.allocated_after != n.allocated_before)
      out.push_back({"INV-ALMOS-5", pid_s(n.pid) + ": the false fault at " + page(sc, n.vpn) + " allocated a page"});
    if (n.ref_has != n.ref_had || !(n.ref_after == n.ref_before))
      out.push_back({"INV-ALMOS-5", pid_s(n.pid) + ": the false fault at " + page(sc, n.vpn) + " changed the reference GPT"});
  }
}

// A8: COW => not writable in every copy; forks(page) = COW sharers - 1; a writable
// public entry maps a page no other process maps.
void check_almos_6(const CheckScope& sc, std::vector<Violation>& out) {
  std::map<std::uint64_t, std::uint32_t> cow_sharers, mappers;
  for (const auto& [pid, p] : layer(sc).state().procs) {
    for (const auto& [k, g] : p.gpt)
      for (const auto& [vpn, pte] : g)
        if (pte.cow && pte.writable)
          out.push_back({"INV-ALMOS-6", pid_s(pid) + " cluster " + std::to_string(k) + ": " + page(sc, vpn) + " is COW and writable"});
    for (const auto& [vpn, pte] : p.gpt.at(p.ref_cluster)) {
      const Vseg* v = p.vseg_at(vpn);
      if (!v || !is_public(v->type)) continue;
      ++mappers[pte.ppn];
      if (pte.cow) ++cow_sharers[pte.ppn];
    }
  }
  for (const auto& [ppn, pg] : layer(sc).state().pages) {
    std::uint32_t s = cow_sharers.count(ppn) ? cow_sharers[ppn] : 0;
    std::uint32_t want = s ? s - 1 : 0;
    if (pg.forks != want)
      out.push_back({"INV-ALMOS-6", "page " + std::to_string(ppn) + ": forks " + std::to_string(pg.forks) + " but " +
                                        std::to_string(s) + " COW sharer(s)"});
  }
  for (const auto& [pid, p] : layer(sc).state().procs)
    for (const auto& [vpn, pte] : p.gpt.at(p.ref_cluster)) {
      const Vseg* v = p.vseg_at(vpn);
      if (v && is_public(v->type) && v->type != VsegType::file && pte.writable && mappers[pte.ppn] > 1)
        out.push_back({"INV-ALMOS-6", pid_s(pid) + ": " + page(sc, vpn) + " is writable but page " + std::to_string(pte.ppn) +
                                          " is mapped by " + std::to_string(mappers[pte.ppn]) + " processes"});
    }
}

// A11: after vmm_user_reset nothing user-level is left.
void check_almos_7(const CheckScope& sc, std::vector<Violation>& out) {
  const AlmosParams& r = layer(sc).params();
  for (const CallNote& n : layer(sc).notes()) {
    if (!n.reset) continue;
    const Process& p = layer(sc).state().procs.at(n.pid);
    std::string who = pid_s(n.pid) + " after exec: ";
    if (!p.vsl.empty()) out.push_back({"INV-ALMOS-7", who + "vsegs remain"});
    for (const auto& [k, g] : p.gpt)
      if (!g.empty()) out.push_back({"INV-ALMOS-7", who + "cluster " + std::to_string(k) + " still has PTEs"});
    for (bool b : p.stack_bitmap)
      if (b) out.push_back({"INV-ALMOS-7", who + "the stack bitmap is not empty"});
    if (p.first_free_vpn != r.mmap_base) out.push_back({"INV-ALMOS-7", who + "first_free_vpn is not back at the MMAP base"});
    for (const auto& [o, list] : p.zombies)
      if (!list.empty()) out.push_back({"INV-ALMOS-7", who + "zombie list " + std::to_string(o) + " is not empty"});
  }
}

}  // namespace vmref::almos
