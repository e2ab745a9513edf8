// INV-NOVA-*: the nova VMM's guarantees (spec/kernels/nova.md §10). State invariants
// (3, 4, 6, 8's second half) read every VMM's tables; call invariants (1, 2, 5's drop
// half, 7, 8's first half, 9, 10) judge the calls of the last event group. Both read the
// same state with or without --full-checks, so the two modes agree.
#include <functional>

#include "nova_model.hpp"
#include "vmref/model/invariants.hpp"

namespace vmref::nova {

using namespace vmref::model;

namespace {
const NovaModel& layer(const CheckScope& sc) { return *sc.m.layer<NovaModel>(); }
std::string vmm_name(Asid as) { return "VMM of as " + std::to_string(as); }

/// Calls fn(level, table pfn, table, vfn prefix) for every table reached from the PDB
/// through valid PDEs (small pointers and, at the dual level, big halves: fn sees a big
/// table with level == pt level and is_big), each once; a PDE to a page of the wrong
/// level is reported by INV-NOVA-4 and not followed.
void each_table(const NovaModel& m, const Vmm& v,
                const std::function<void(unsigned, Pfn, const Table&, Vfn)>& fn) {
  const Geometry& g = m.geometry();
  std::set<Pfn> seen;
  std::function<void(unsigned, Pfn, Vfn)> go = [&](unsigned level, Pfn p, Vfn prefix) {
    auto it = m.vram().find(p);
    if (it == m.vram().end() || !seen.insert(p).second || it->second.level != level) return;
    const Table& t = it->second;
    fn(level, p, t, prefix);
    if (level == g.pt_level()) return;
    for (const auto& [i, c] : t.pde) go(level + 1, c, prefix | (Vfn{i} << g.shift(level)));
    for (const auto& [i, c] : t.big) {
      auto b = m.vram().find(c);
      if (b != m.vram().end() && seen.insert(c).second) fn(g.pt_level(), c, b->second, prefix | (Vfn{i} << g.shift(level)));
    }
  };
  go(0, v.pdb, 0);
}
}  // namespace

// INV-NOVA-1 (N1): execute allocates nothing.
void check_nova_1(const CheckScope& sc, std::vector<Violation>& out) {
  for (const CallNote& n : layer(sc).notes())
    if (n.allocations_in_execute)
      out.push_back({"INV-NOVA-1", vmm_name(n.as) + ": " + n.call + " allocated " +
                                       std::to_string(n.allocations_in_execute) + " times inside execute"});
}

// INV-NOVA-2 (N9): the reservation covers every pending page when execute drains them.
void check_nova_2(const CheckScope& sc, std::vector<Violation>& out) {
  for (const CallNote& n : layer(sc).notes())
    if (n.executed && n.pending_at_execute > n.room_at_execute)
      out.push_back({"INV-NOVA-2", vmm_name(n.as) + ": " + n.call + " drains " + std::to_string(n.pending_at_execute) +
                                       " pending table pages with room for " + std::to_string(n.room_at_execute) +
                                       " in page_table_allocs"});
}

// INV-NOVA-3: every valid PTE lies inside a live VA allocation.
void check_nova_3(const CheckScope& sc, std::vector<Violation>& out) {
  const NovaModel& m = layer(sc);
  const Geometry& g = m.geometry();
  for (const auto& vmm : m.vmms()) {  // no structured binding: lambdas capture these (clang 14)
    const auto& as = vmm.first;
    const auto& v = vmm.second;
    each_table(m, v, [&](unsigned level, Pfn, const Table& t, Vfn prefix) {
      if (level != g.pt_level() || t.is_big) return;
      for (const auto& [i, pte] : t.pte)
        if (!NovaModel::va_live(v, prefix | i))
          out.push_back({"INV-NOVA-3", vmm_name(as) + ": valid PTE at VA " + hex((prefix | i) << 12) + " -> PFN " +
                                           hex(pte.pfn) + " outside every live VA range"});
    });
  }
}

// INV-NOVA-4 (N5, N6): every valid PDE points at a live, zeroed table page of the level
// below, owned by this VMM, and no page is pointed at twice.
void check_nova_4(const CheckScope& sc, std::vector<Violation>& out) {
  const NovaModel& m = layer(sc);
  const Geometry& g = m.geometry();
  for (const auto& vmm : m.vmms()) {  // no structured binding: the lambda captures these (clang 14)
    const auto& as = vmm.first;
    const auto& v = vmm.second;
    std::map<Pfn, unsigned> parents;
    // `where` names the slot; messages are built only for a violation.
    auto judge = [&](Pfn child, unsigned want_level, bool big, const std::function<std::string()>& where) {
      auto what = [&](const char* why) { return vmm_name(as) + ": PDE " + where() + " -> PFN " + hex(child) + why; };
      auto it = m.vram().find(child);
      if (it == m.vram().end()) return out.push_back({"INV-NOVA-4", what(" that is no table page")});
      const Table& c = it->second;
      if (!c.live) out.push_back({"INV-NOVA-4", what(", a freed table page")});
      else if (!c.zeroed) out.push_back({"INV-NOVA-4", what(", a table page never zeroed")});
      else if (c.level != want_level || c.is_big != big || c.owner != as)
        out.push_back({"INV-NOVA-4", what(", a page allocated for another table")});
      if (++parents[child] == 2) out.push_back({"INV-NOVA-4", what(", a page another PDE points at too")});
    };
    if (!m.vram().at(v.pdb).live) out.push_back({"INV-NOVA-4", vmm_name(as) + ": its PDB page is freed"});
    each_table(m, v, [&](unsigned level, Pfn p, const Table& t, Vfn) {
      if (level == g.pt_level()) return;
      for (const auto& [i, c] : t.pde)
        judge(c, level + 1, false, [&, i = i] { return "slot " + hex((p << 12) + i * g.entry_size(level)); });
      for (const auto& [i, c] : t.big) judge(c, g.pt_level(), true, [&, i = i] { return "big half " + hex((p << 12) + i * 16); });
    });
  }
}

// INV-NOVA-5 (N7, N8): a translation the GPU TLB may hold is of a live VA allocation and
// not contradicted by a valid PTE; a dropped VMM leaves none behind.
void check_nova_5(const CheckScope& sc, std::vector<Violation>& out) {
  const NovaModel& m = layer(sc);
  for (const auto& vmm : m.vmms()) {  // no structured binding: the lambda captures these (clang 14)
    NovaModel::BlockLookup look(m, vmm.second);
    for (const auto& held : vmm.second.may_hold) {
      const Asid as = vmm.first;
      const Vmm& v = vmm.second;
      const Vfn vfn = held.first;
      const Pfn pfn = held.second;
      auto what = [&] { return vmm_name(as) + ": the GPU TLB may hold VA " + hex(vfn << 12) + " -> PFN " + hex(pfn); };
      if (!NovaModel::va_live(v, vfn)) out.push_back({"INV-NOVA-5", what() + " after its VA range was freed"});
      else if (auto cur = look(vfn); cur && cur->pfn != pfn)
        out.push_back({"INV-NOVA-5", what() + " while the PTE now maps PFN " + hex(cur->pfn)});
    }
  }
  for (const CallNote& n : m.notes())
    if (n.ghost_translations)
      out.push_back({"INV-NOVA-5", vmm_name(n.as) + ": dropped while the GPU TLB may hold " +
                                       std::to_string(n.ghost_translations) + " translations through its freed tables"});
}

// INV-NOVA-6 (N2): the pending set holds no slot already valid in the tables.
void check_nova_6(const CheckScope& sc, std::vector<Violation>& out) {
  const NovaModel& m = layer(sc);
  const Geometry& g = m.geometry();
  for (const auto& [as, v] : m.vmms())
    for (const auto& [key, s] : v.pending) {
      auto t = m.vram().find(key >> 12);
      if (t == m.vram().end()) continue;
      if (t->second.pde.count(static_cast<unsigned>((key & 0xfff) / g.entry_size(s.level))))
        out.push_back({"INV-NOVA-6", vmm_name(as) + ": PDE slot " + hex(key) + " is pending and already valid"});
    }
}

// INV-NOVA-7 (N3, N7): a map, execute or unmap that succeeds issued exactly one flush.
void check_nova_7(const CheckScope& sc, std::vector<Violation>& out) {
  for (const CallNote& n : layer(sc).notes())
    if (n.ok && (n.call == "execute" || n.call == "map" || n.call == "unmap") && n.flushes != 1)
      out.push_back({"INV-NOVA-7", vmm_name(n.as) + ": " + n.call + " returned after " + std::to_string(n.flushes) +
                                       " PDB flushes instead of one"});
}

// INV-NOVA-8 (N10): a dual PDE write keeps a valid big half, and no valid small PTE lies
// under a big PTE whose state hides it.
void check_nova_8(const CheckScope& sc, std::vector<Violation>& out) {
  const NovaModel& m = layer(sc);
  const Geometry& g = m.geometry();
  for (const CallNote& n : m.notes())
    if (n.big_halves_erased)
      out.push_back({"INV-NOVA-8", vmm_name(n.as) + ": " + n.call + " cleared " + std::to_string(n.big_halves_erased) +
                                       " valid big halves while installing small page tables"});
  for (const auto& vmm : m.vmms()) {  // no structured binding: lambdas capture these (clang 14)
    const auto& as = vmm.first;
    const auto& v = vmm.second;
    each_table(m, v, [&](unsigned level, Pfn, const Table& t, Vfn prefix) {
      if (level != g.dual_level()) return;
      for (const auto& [i, bp] : t.big) {
        auto sp = t.pde.find(i);
        auto bt = m.vram().find(bp);
        if (sp == t.pde.end() || bt == m.vram().end()) continue;
        auto st = m.vram().find(sp->second);
        if (st == m.vram().end()) continue;
        for (const auto& [c, state] : bt->second.chunks)
          for (unsigned k = c * 16; k < c * 16 + 16; ++k)
            if (st->second.pte.count(k))
              out.push_back({"INV-NOVA-8", vmm_name(as) + ": valid small PTE at VA " +
                                               hex((prefix | (Vfn{i} << g.shift(level)) | k) << 12) +
                                               " hidden by a big PTE in state " + to_string(state)});
      }
    });
  }
}

// INV-NOVA-9 (P8): what map_pages' own range check accepts, its prepare accepts.
void check_nova_9(const CheckScope& sc, std::vector<Violation>& out) {
  for (const CallNote& n : layer(sc).notes())
    if (n.range_refused)
      out.push_back({"INV-NOVA-9", vmm_name(n.as) + ": map accepted a va_range its prepare then refused (EINVAL)"});
}

// INV-NOVA-10 (P9): the must-unmap guard never warns about a range passed to unmap_pages.
void check_nova_10(const CheckScope& sc, std::vector<Violation>& out) {
  for (const CallNote& n : layer(sc).notes())
    if (n.spurious_warning)
      out.push_back({"INV-NOVA-10", vmm_name(n.as) + ": a failed unmap dropped its range with the guard armed, "
                                                     "warning \"dropped without calling unmap_pages()\""});
}

}  // namespace vmref::nova
