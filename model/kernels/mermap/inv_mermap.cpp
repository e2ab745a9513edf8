// INV-MERMAP-*: the mermap allocator's guarantees (spec/kernels/mermap.md §8).
// State invariants read each prepared address space; call invariants (3, 4, 6) judge
// the mermap event the delta records.
#include "mermap_model.hpp"
#include "vmref/model/invariants.hpp"

namespace vmref::mermap {

using namespace vmref::model;

namespace {
const MermapModel& layer(const CheckScope& sc) { return *sc.m.layer<MermapModel>(); }
template <class Fn> void each_prepared(const CheckScope& sc, Fn fn) {
  for (Asid as : sc.spaces())
    if (const State* st = layer(sc).state(as); st && st->prepared && sc.m.space(as)) fn(as, *sc.m.space(as), *st);
}
std::string where(Asid as, std::size_t cpu) { return "as " + std::to_string(as) + " cpu " + std::to_string(cpu); }
std::string range(Va a, Va b) { return "[" + hex(a) + ", " + hex(b) + ")"; }
}  // namespace

void check_mermap_1(const CheckScope& sc, std::vector<Violation>& out) {
  const MermapParams& r = layer(sc).params();
  std::uint64_t region = r.region_pages * sc.m.page_size();
  each_prepared(sc, [&](Asid as, const AddressSpace&, const State& st) {
    for (std::size_t c = 0; c < st.cpus.size(); ++c) {
      Va lo = r.base + c * region, hi = lo + region;
      for (const Slot& sl : st.cpus[c].slots) {
        if (!sl.in_use) continue;
        Va top = sl.reserve ? hi : hi - sc.m.page_size();
        if (sl.base < lo || sl.end > top || sl.end < sl.base)
          out.push_back({"INV-MERMAP-1", where(as, c) + ": " + (sl.reserve ? "reserved" : "normal") + " allocation " +
                                             range(sl.base, sl.end) + " outside " + range(lo, top)});
      }
    }
  });
}

void check_mermap_2(const CheckScope& sc, std::vector<Violation>& out) {
  each_prepared(sc, [&](Asid as, const AddressSpace&, const State& st) {
    for (std::size_t c = 0; c < st.cpus.size(); ++c) {
      const auto& sl = st.cpus[c].slots;
      for (std::size_t i = 0; i < sl.size(); ++i)
        for (std::size_t j = i + 1; j < sl.size(); ++j)
          if (sl[i].in_use && sl[j].in_use && sl[i].base < sl[i].end && sl[j].base < sl[j].end &&
              sl[i].base < sl[j].end && sl[j].base < sl[i].end)  // empty ranges overlap nothing
            out.push_back({"INV-MERMAP-2", where(as, c) + ": live allocations " + range(sl[i].base, sl[i].end) + " and " +
                                               range(sl[j].base, sl[j].end) + " overlap"});
      if (sl.size() > layer(sc).params().slots)
        out.push_back({"INV-MERMAP-2", where(as, c) + ": more tracking slots than the profile allows"});
    }
  });
}

void check_mermap_3(const CheckScope& sc, std::vector<Violation>& out) {
  // Flush before reuse: the CPU the range was handed out on must not still cache a
  // translation of it from before (put leaves stale entries until the local flush).
  for (const CallNote& n : layer(sc).notes()) {
    if (!n.get || n.failed) continue;
    const CpuTlb& t = sc.m.cpus()[static_cast<std::size_t>(n.cpu)];
    const AddressSpace* s = sc.m.space(n.as);
    for (Vpn v = n.base / sc.m.page_size(); s && v < n.end / sc.m.page_size(); ++v) {
      auto it = t.stale().find({n.as, v});
      if (it == t.stale().end()) continue;
      out.push_back({"INV-MERMAP-3", where(n.as, static_cast<std::size_t>(n.cpu)) + ": va " + hex(v * sc.m.page_size()) +
                                         " handed out again while the CPU may still cache its previous mapping (no flush since its put)"});
      break;
    }
  }
}

void check_mermap_4(const CheckScope& sc, std::vector<Violation>& out) {
  // The contract covers mermap_get_reserved: one page (a larger reserved request is the
  // caller's error, refused with a WARN), and the allocator (an injected page-table
  // failure is outside it).
  std::uint64_t page = sc.m.page_size();
  for (const CallNote& n : layer(sc).notes())
    if (n.get && n.reserve && n.failed && !n.write_failed && !n.reserve_held && n.requested > 0 && n.requested <= page &&
        layer(sc).state(n.as) && layer(sc).state(n.as)->prepared)
      out.push_back({"INV-MERMAP-4", where(n.as, static_cast<std::size_t>(n.cpu)) +
                                         ": mermap_get_reserved returned NULL though no other reserved allocation was held"});
}

void check_mermap_5(const CheckScope& sc, std::vector<Violation>& out) {
  each_prepared(sc, [&](Asid as, const AddressSpace&, const State& st) {
    std::uint64_t live = st.handles.size();
    if (st.migrate_disabled != live)
      out.push_back({"INV-MERMAP-5", "as " + std::to_string(as) + ": migrate-disable depth " +
                                         std::to_string(st.migrate_disabled) + " with " + std::to_string(live) +
                                         " live allocations (a get or put left migration unbalanced)"});
  });
}

void check_mermap_6(const CheckScope& sc, std::vector<Violation>& out) {
  for (const CallNote& n : layer(sc).notes())
    if (n.teardown && n.live_anywhere && !n.warned)
      out.push_back({"INV-MERMAP-6", where(n.as, static_cast<std::size_t>(n.cpu)) +
                                         ": teardown missed a live allocation on another CPU"});
}

void check_mermap_7(const CheckScope& sc, std::vector<Violation>& out) {
  const MermapParams& r = layer(sc).params();
  std::uint64_t region = r.region_pages * sc.m.page_size();
  each_prepared(sc, [&](Asid as, const AddressSpace& s, const State& st) {
    Vpn first = r.base / sc.m.page_size(), last = (r.base + region * st.cpus.size()) / sc.m.page_size();
    for (auto it = s.gpt.lower_bound(first); it != s.gpt.end() && it->first < last; ++it) {
      Va va = it->first * sc.m.page_size();
      std::size_t c = (va - r.base) / region;
      bool live = false;
      for (const Slot& sl : st.cpus[c].slots) live = live || (sl.in_use && va >= sl.base && va < sl.end);
      if (!live) {
        out.push_back({"INV-MERMAP-7", where(as, c) + ": va " + hex(va) + " maps frame " + std::to_string(it->second.frame) +
                                           " outside every live allocation (sentinel not restored)"});
        return;
      }
    }
  });
}

}  // namespace vmref::mermap
