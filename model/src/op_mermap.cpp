// The mermap (profiles.md §4): a per-CPU, in-order allocator of short-lived kernel
// mappings whose freed space is reused only after a local TLB flush. The control flow
// and the unsigned arithmetic follow the RFC as posted (seed linux-mermap-rfc-review);
// each place where `fixed` differs is a MermapRules flag named after the review finding.
#include "vmref/model/model.hpp"

namespace vmref::model {

namespace {
std::uint64_t page_align(std::uint64_t n, std::uint64_t page) { return (n + page - 1) & ~(page - 1); }

void need_cpu(const Event& e, std::size_t cpus) {
  if (e.cpu < 0 || static_cast<std::size_t>(e.cpu) >= cpus)
    throw ModelError("cpu", "cpu " + std::to_string(e.cpu) + " out of range");
}
}  // namespace

// mermap_mm_prepare: per-CPU state for every possible CPU, idempotent. The sentinel
// PTEs it writes are modelled as "no PTE" inside a kernel vseg covering all regions.
Outcome Model::mermap_prepare(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  const MermapRules& r = profile_.mermap;
  if (!r.enabled) throw ModelError("op", "mermap events need the mermap profile");
  if (s.mermap.prepared) return {};
  s.mermap.prepared = true;
  s.mermap.cpus.assign(cpus_.size(), MermapCpu{});
  Va region = r.region_pages * page_size_;
  for (std::size_t c = 0; c < cpus_.size(); ++c) {
    s.mermap.cpus[c].next_addr = r.base + c * region;
    s.mermap.cpus[c].slots.assign(r.slots, MermapSlot{});
  }
  if (!s.vsl.find(r.base)) {
    Vseg v;
    v.start = r.base;
    v.end = r.base + cpus_.size() * region;
    v.prot = {true, true, false};
    v.kind = Kind::kernel;
    v.name = "[mermap]";
    v.pgoff = r.base >> page_shift_;
    s.vsl.insert(v);
  }
  delta_.spaces.push_back(s.asid);
  return {};
}

std::optional<std::size_t> Model::mermap_alloc(AddressSpace& s, int cpu, std::uint64_t size, bool reserve) {
  const MermapRules& r = profile_.mermap;
  MermapCpu& mc = s.mermap.cpus[static_cast<std::size_t>(cpu)];
  Va cpu_base = r.base + static_cast<std::uint64_t>(cpu) * r.region_pages * page_size_;
  Va cpu_end = cpu_base + r.region_pages * page_size_;
  if (reserve) {
    if (size != page_size_) return std::nullopt;  // WARN_ON_ONCE(size != PAGE_SIZE)
  } else if (r.keep_last_page) {
    cpu_end -= page_size_;  // the last page is held back for use_reserve
  }
  if (mc.next_addr + size > cpu_end) {  // out of already-available space?
    Va new_next = cpu_base;
    for (const MermapSlot& sl : mc.slots)
      if (sl.in_use && r.reset_after_live) new_next = std::max(new_next, sl.end);
    // Unsigned, as posted: when a live reserved page lies above cpu_end, cpu_end -
    // new_next wraps and the test passes (R5); `fixed` checks the order first.
    if (r.bound_fix && new_next > cpu_end) return std::nullopt;
    if (size > cpu_end - new_next) return std::nullopt;
    if (r.flush_on_reset) {  // arch_mermap_flush_tlb: a local __flush_tlb_all()
      cpus_[static_cast<std::size_t>(cpu)].flush_all(held_index_);
      ++s.mermap.flushes;
      release_pending();
    }
    mc.next_addr = new_next;
  }
  std::size_t free_slots = 0;
  for (const MermapSlot& sl : mc.slots) free_slots += !sl.in_use;
  if (free_slots == 0 || (r.reserve_slot_fix && !reserve && free_slots == 1)) return std::nullopt;
  for (std::size_t i = 0; i < mc.slots.size(); ++i) {
    if (mc.slots[i].in_use) continue;
    mc.slots[i] = {true, reserve, mc.next_addr, mc.next_addr + size, ""};
    mc.next_addr += size;
    return i;
  }
  return std::nullopt;
}

// __mermap_get: allocate, then write PTEs for consecutive frames. ret = the address,
// or 0 for NULL.
Outcome Model::mermap_get(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  need_cpu(e, cpus_.size());
  const MermapRules& r = profile_.mermap;
  if (!r.enabled) throw ModelError("op", "mermap events need the mermap profile");
  if (cpus_[e.cpu].current != s.asid) throw ModelError("cpu", "mermap_get runs in a task of the mm: switch the cpu to it first");
  if (e.label.empty() || s.mermap.handles.count(e.label)) throw ModelError("handle", "missing or reused mermap handle '" + e.label + "'");
  Delta::Mermap note{s.asid, e.cpu, true, false, e.reserve, true};
  note.requested = e.len;
  for (const MermapCpu& c : s.mermap.cpus)
    for (const MermapSlot& sl : c.slots) note.reserve_held = note.reserve_held || (sl.in_use && sl.reserve);
  auto fail = [&](const char* why) {
    delta_.mermap.push_back(note);
    delta_.spaces.push_back(s.asid);
    Outcome o;
    o.note = why;
    return o;
  };
  if (!s.mermap.prepared) return fail("not prepared");
  if (e.len > r.region_pages * page_size_) return fail("larger than a CPU region");
  std::uint64_t size = page_align(e.len, page_size_);
  ++s.mermap.migrate_disabled;  // migrate_disable()
  auto slot = mermap_alloc(s, e.cpu, size, e.reserve);
  if (!slot) {
    --s.mermap.migrate_disabled;
    return fail("no space or no tracking slot");
  }
  MermapSlot& sl = s.mermap.cpus[e.cpu].slots[*slot];
  std::uint64_t pages = size >> page_shift_;
  for (std::uint64_t i = 0; i < pages; ++i) {
    if (e.fail_after && i == *e.fail_after) {  // apply_to_existing_page_range failed
      sl.in_use = false;
      note.write_failed = true;
      if (r.error_path_fix) {  // restore the sentinels written so far, then migrate_enable()
        unmap_ptes(s, sl.base, sl.base + i * page_size_, TlbMode::deferred);
        --s.mermap.migrate_disabled;
      }
      return fail("PTE write failed");
    }
    auto f = frames_.alloc(Content::data);  // the caller's page (it owns it; we model it fresh)
    if (!f) throw ModelError("len", "no free frame to stand for the caller's page");
    Pte p;
    p.frame = *f;
    p.prot = e.prot;
    p.user = false;
    p.local_cpu = static_cast<std::int16_t>(e.cpu);
    install_pte(s, (sl.base >> page_shift_) + i, p);
  }
  sl.handle = e.label;
  s.mermap.handles[e.label] = {e.cpu, *slot};
  note.failed = false;
  note.base = sl.base;
  note.end = sl.end;
  delta_.mermap.push_back(note);
  delta_.spaces.push_back(s.asid);
  return {Err::ok, sl.base};
}

// mermap_put: sentinels back, slot free, migrate_enable(). No flush: the space is now
// flush-pending, and the frames wait for the flush that covers them (spec §3.3).
Outcome Model::mermap_put(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  need_cpu(e, cpus_.size());
  auto h = s.mermap.handles.find(e.label);
  if (h == s.mermap.handles.end()) throw ModelError("handle", "unknown mermap handle '" + e.label + "'");
  auto [cpu, idx] = h->second;
  if (cpu != e.cpu) throw ModelError("cpu", "mermap_put on another CPU than its get: migration was disabled");
  MermapSlot& sl = s.mermap.cpus[cpu].slots[idx];
  unmap_ptes(s, sl.base, sl.end, TlbMode::deferred);
  sl.in_use = false;
  sl.handle.clear();
  s.mermap.handles.erase(h);
  if (s.mermap.migrate_disabled) --s.mermap.migrate_disabled;
  delta_.spaces.push_back(s.asid);
  return {};
}

// mermap_mm_teardown: warn on any live allocation, then free the per-CPU state. As
// posted, the loop reads this CPU's state on every iteration (R3). ret = 1 if it warned.
Outcome Model::mermap_teardown(const Event& e) {
  AddressSpace& s = space_of(e, e.as);
  need_cpu(e, cpus_.size());
  if (!s.mermap.prepared) return {};
  Delta::Mermap note{s.asid, e.cpu};
  note.teardown = true;
  for (std::size_t c = 0; c < s.mermap.cpus.size(); ++c) {
    const MermapCpu& seen = s.mermap.cpus[profile_.mermap.teardown_fix ? c : static_cast<std::size_t>(e.cpu)];
    for (const MermapSlot& sl : seen.slots) note.warned = note.warned || sl.in_use;
    for (const MermapSlot& sl : s.mermap.cpus[c].slots) note.live_anywhere = note.live_anywhere || sl.in_use;
  }
  s.mermap.prepared = false;
  s.mermap.cpus.clear();
  s.mermap.handles.clear();
  delta_.mermap.push_back(note);
  delta_.spaces.push_back(s.asid);
  return {Err::ok, note.warned ? 1u : 0u};
}

}  // namespace vmref::model
