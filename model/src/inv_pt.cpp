// INV-PT-*: page-table pages (spec/vmm.md §4.7). A table page is judged by where it is
// linked (Frame::links, PageTables) and by the walks each CPU may still have cached
// through it (CpuTlb::stale_walks).
#include <set>

#include "core_invariants.hpp"

namespace vmref::model {

namespace {
std::string table_at(const Model& m, Asid as, unsigned level, Vpn first) {
  return "the level " + std::to_string(level) + " table of as " + std::to_string(as) + " at va " +
         hex(first << m.page_shift());
}

/// Whether the table checks have anything to look at for this delta: table events,
/// frames that are or were table pages, or walks some CPU may still hold.
bool tables_in_scope(const CheckScope& sc) {
  if (sc.full || sc.d.all || sc.d.tables) return true;
  for (const CpuTlb& c : sc.m.cpus())
    if (!c.stale_walks().empty() && !sc.d.frames.empty()) return true;
  for (FrameId f : sc.d.frames)
    if (sc.m.frames().valid(f) && !sc.m.frames()[f].links.empty()) return true;
  return false;
}

/// The slot where `l` links table page `t` in its address space, or nullptr when the
/// space is gone (or `t` is no longer one of its roots).
const TableSlot* slot_of(const Model& m, const TableLink& l, FrameId t) {
  const AddressSpace* s = m.space(l.as);
  if (!s) return nullptr;
  if (l.root) return s->tables.root_of(t);
  auto it = s->tables.linked.find({l.level, l.first});
  return it == s->tables.linked.end() ? nullptr : &it->second;
}

/// Table frames to look at: the delta's, or every linked one.
std::vector<FrameId> table_frames(const CheckScope& sc) {
  if (!(sc.full || sc.d.all)) return sc.frames();
  std::set<FrameId> all;
  for (const auto& [as, s] : sc.m.spaces()) {
    for (const TableSlot& r : s.tables.roots) all.insert(r.table);
    for (const auto& [k, slot] : s.tables.linked) all.insert(slot.table);
  }
  return {all.begin(), all.end()};
}
}  // namespace

void check_pt_1(const CheckScope& sc, std::vector<Violation>& out) {
  if (!tables_in_scope(sc)) return;
  const FrameTable& frames = sc.m.frames();
  auto gone = [&](FrameId t, std::uint64_t gen) { return !frames[t].allocated || frames[t].generation != gen; };
  auto why = [&](FrameId t) { return frames[t].allocated ? "freed and allocated again" : "freed"; };
  const auto& cpus = sc.m.cpus();
  for (std::size_t c = 0; c < cpus.size(); ++c)
    for (const auto& [k, ws] : cpus[c].stale_walks())
      for (const WalkHeld& w : ws)
        if (gone(w.table, w.generation))
          out.push_back({"INV-PT-1", "cpu " + std::to_string(c) + " may still walk through table page " +
                                         std::to_string(w.table) + " (" +
                                         table_at(sc.m, std::get<0>(k), std::get<2>(k), std::get<1>(k)) +
                                         " until unlinked), which was " + why(w.table) + " before a flush"});
  for (FrameId t : table_frames(sc))
    for (const TableLink& l : frames[t].links)
      if (const TableSlot* s = slot_of(sc.m, l, t); s && s->table == t && gone(t, s->generation))
        out.push_back({"INV-PT-1", "table page " + std::to_string(t) + " is " +
                                       (l.root ? "the root of as " + std::to_string(l.as)
                                               : "still linked as " + table_at(sc.m, l.as, l.level, l.first)) +
                                       " but was " + why(t)});
}

void check_pt_2(const CheckScope& sc, std::vector<Violation>& out) {
  if (!tables_in_scope(sc)) return;
  for (FrameId t : table_frames(sc)) {
    const auto& links = sc.m.frames()[t].links;
    // The first link owns the table; each further one must say it shares it.
    for (std::size_t i = 1; i < links.size(); ++i)
      if (!links[i].shared)
        out.push_back({"INV-PT-2", "table page " + std::to_string(t) + " is linked " + std::to_string(links.size()) +
                                       " times; as " + (links[i].root ? "the root of as " + std::to_string(links[i].as)
                                                                      : table_at(sc.m, links[i].as, links[i].level,
                                                                                 links[i].first)) +
                                       " it is not declared shared"});
  }
}

void check_pt_3(const CheckScope& sc, std::vector<Violation>& out) {
  const TableGeometry& g = sc.m.core().geometry;
  sc.each_pte([&](Asid as, Vpn vpn, const Pte& p) {
    const PageTables& t = sc.m.space(as)->tables;
    if (!t.reported()) return;
    unsigned level = 1 + p.order / g.entry_bits;  // the level of the table that holds the leaf
    if (level >= t.root_level) return;
    if (!t.linked.count({level, g.range_of(level, vpn << g.page_shift).first}))
      out.push_back({"INV-PT-3", "as " + std::to_string(as) + " va " + hex(vpn << g.page_shift) +
                                     ": a leaf is set where no level " + std::to_string(level) + " table is linked"});
  });
}

void check_pt_4(const CheckScope& sc, std::vector<Violation>& out) {
  if (!tables_in_scope(sc)) return;
  const auto& cpus = sc.m.cpus();
  for (std::size_t c = 0; c < cpus.size(); ++c)
    for (const auto& [k, ws] : cpus[c].stale_walks())
      for (const WalkHeld& w : ws) {
        const Frame& fr = sc.m.frames()[w.table];
        if (!fr.allocated || fr.generation != w.generation) continue;  // INV-PT-1's case
        for (const TableLink& l : fr.links) {
          const TableSlot* s = slot_of(sc.m, l, w.table);
          if (!s || s->table != w.table || l.seq < w.since) continue;  // a share from before is no reuse
          out.push_back({"INV-PT-4", "cpu " + std::to_string(c) + " may still walk through table page " +
                                         std::to_string(w.table) + " for " +
                                         table_at(sc.m, std::get<0>(k), std::get<2>(k), std::get<1>(k)) +
                                         ", which is now linked as " +
                                         (l.root ? "the root of as " + std::to_string(l.as)
                                                 : table_at(sc.m, l.as, l.level, l.first)) +
                                         " (an upper entry changed without a flush before its old table was reused)"});
        }
      }
}

}  // namespace vmref::model
