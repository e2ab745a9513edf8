// The mermap (spec/kernels/mermap.md): a per-CPU, in-order allocator of short-lived kernel
// mappings whose freed space is reused only after a local TLB flush. The control flow
// and the unsigned arithmetic follow the RFC as posted (seed linux-mermap-rfc-review);
// each place where `fixed` differs is a MermapParams flag named after the review finding.
#include "mermap_arith.hpp"
#include "mermap_model.hpp"

namespace vmref::mermap {

using namespace vmref::model;

// mermap_mm_prepare: per-CPU state for every possible CPU, idempotent. The sentinel
// PTEs it writes are modelled as "no PTE" inside a kernel vseg covering all regions.
Outcome MermapModel::prepare(const Event& e) {
  AddressSpace& s = space_of(e.get<PrepareArgs>().as);
  State& st = states_[s.asid];
  const MermapParams& r = p_;
  if (st.prepared) return {};
  st.prepared = true;
  st.cpus.assign(cpus_.size(), Cpu{});
  Va region = r.region_pages * page_size_;
  for (std::size_t c = 0; c < cpus_.size(); ++c) {
    st.cpus[c].next_addr = r.base + c * region;
    st.cpus[c].slots.assign(r.slots, Slot{});
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

std::optional<std::size_t> MermapModel::alloc(State& st, int cpu, std::uint64_t size, bool reserve) {
  const MermapParams& r = p_;
  Cpu& mc = st.cpus[static_cast<std::size_t>(cpu)];
  const std::uint64_t region = r.region_pages * page_size_;
  Va cpu_base = arith::cpu_base<std::uint64_t>(r.base, static_cast<std::uint64_t>(cpu), region);
  Va cpu_end = cpu_base + region;
  if (reserve) {
    if (size != page_size_) return std::nullopt;  // WARN_ON_ONCE(size != PAGE_SIZE)
  } else if (r.keep_last_page) {
    cpu_end -= page_size_;  // the last page is held back for use_reserve
  }
  if (arith::bump_exhausted(mc.next_addr, size, cpu_end)) {  // out of already-available space?
    Va new_next = cpu_base;
    for (const Slot& sl : mc.slots)
      if (sl.in_use && r.reset_after_live) new_next = std::max(new_next, sl.end);
    // Unsigned, as posted: when a live reserved page lies above cpu_end, cpu_end -
    // new_next wraps and the test passes (R5); `fixed` checks the order first.
    if (arith::reset_refuses(size, cpu_end, new_next, r.bound_fix)) return std::nullopt;
    if (r.flush_on_reset) {  // arch_mermap_flush_tlb: a local __flush_tlb_all()
      cpus_[static_cast<std::size_t>(cpu)].flush_all(held_index_);
      ++st.flushes;
      release_pending();
    }
    mc.next_addr = new_next;
  }
  std::size_t free_slots = 0;
  for (const Slot& sl : mc.slots) free_slots += !sl.in_use;
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
Outcome MermapModel::get(const Event& e) {
  const auto& a = e.get<GetArgs>();
  AddressSpace& s = space_of(a.as);
  State& st = states_[s.asid];
  core_.need_cpu(e.cpu);
  const MermapParams& r = p_;
  if (cpus_[e.cpu].current != s.asid) throw ModelError("cpu", "mermap_get runs in a task of the mm: switch the cpu to it first");
  if (a.handle.empty() || st.handles.count(a.handle)) throw ModelError("handle", "missing or reused mermap handle '" + a.handle + "'");
  CallNote note{s.asid, e.cpu, true, false, a.reserve, true};
  note.requested = a.len;
  for (const Cpu& c : st.cpus)
    for (const Slot& sl : c.slots) note.reserve_held = note.reserve_held || (sl.in_use && sl.reserve);
  st.diverged.erase(a.handle);
  auto fail = [&](const char* why) {
    if (a.recorded.value_or(0) != 0) st.diverged.insert(a.handle);
    notes_.push_back(note);
    delta_.spaces.push_back(s.asid);
    Outcome o;
    o.note = why;
    return o;
  };
  if (!st.prepared) return fail("not prepared");
  if (a.len > r.region_pages * page_size_) return fail("larger than a CPU region");
  std::uint64_t size = arith::page_align(a.len, page_size_);
  ++st.migrate_disabled;  // migrate_disable()
  auto slot = alloc(st, e.cpu, size, a.reserve);
  if (!slot) {
    --st.migrate_disabled;
    return fail("no space or no tracking slot");
  }
  Slot& sl = st.cpus[e.cpu].slots[*slot];
  std::uint64_t pages = size >> page_shift_;
  for (std::uint64_t i = 0; i < pages; ++i) {
    if (a.fail_after && i == *a.fail_after) {  // apply_to_existing_page_range failed
      sl.in_use = false;
      note.write_failed = true;
      if (r.error_path_fix) {  // restore the sentinels written so far, then migrate_enable()
        unmap_ptes(s, sl.base, sl.base + i * page_size_, TlbMode::deferred);
        --st.migrate_disabled;
      }
      return fail("PTE write failed");
    }
    auto f = frames_.alloc(Content::data);  // the caller's page (it owns it; we model it fresh)
    if (!f) throw ModelError("len", "no free frame to stand for the caller's page");
    Pte p;
    p.frame = *f;
    p.prot = a.prot;
    p.user = false;
    p.local_cpu = static_cast<std::int16_t>(e.cpu);
    install_pte(s, (sl.base >> page_shift_) + i, p);
  }
  sl.handle = a.handle;
  st.handles[a.handle] = {e.cpu, *slot};
  note.failed = false;
  note.base = sl.base;
  note.end = sl.end;
  notes_.push_back(note);
  delta_.spaces.push_back(s.asid);
  return {Err::ok, sl.base};
}

// mermap_put: sentinels back, slot free, migrate_enable(). No flush: the space is now
// flush-pending, and the frames wait for the flush that covers them (spec/vmm.md §3.3).
Outcome MermapModel::put(const Event& e) {
  const auto& a = e.get<PutArgs>();
  AddressSpace& s = space_of(a.as);
  State& st = states_[s.asid];
  core_.need_cpu(e.cpu);
  auto h = st.handles.find(a.handle);
  if (h == st.handles.end() && st.diverged.erase(a.handle)) {
    Outcome o;
    o.note = "its get failed in the model where the kernel's succeeded (reported there): nothing to put";
    return o;
  }
  if (h == st.handles.end()) throw ModelError("handle", "unknown mermap handle '" + a.handle + "'");
  auto [cpu, idx] = h->second;
  if (cpu != e.cpu) throw ModelError("cpu", "mermap_put on another CPU than its get: migration was disabled");
  Slot& sl = st.cpus[cpu].slots[idx];
  unmap_ptes(s, sl.base, sl.end, TlbMode::deferred);
  sl.in_use = false;
  sl.handle.clear();
  st.handles.erase(h);
  if (st.migrate_disabled) --st.migrate_disabled;
  delta_.spaces.push_back(s.asid);
  return {};
}

// mermap_mm_teardown: warn on any live allocation, then free the per-CPU state. As
// posted, the loop reads this CPU's state on every iteration (R3). ret = 1 if it warned.
Outcome MermapModel::teardown(const Event& e) {
  AddressSpace& s = space_of(e.get<TeardownArgs>().as);
  State& st = states_[s.asid];
  core_.need_cpu(e.cpu);
  if (!st.prepared) return {};
  CallNote note{s.asid, e.cpu};
  note.teardown = true;
  for (std::size_t c = 0; c < st.cpus.size(); ++c) {
    const Cpu& seen = st.cpus[p_.teardown_fix ? c : static_cast<std::size_t>(e.cpu)];
    for (const Slot& sl : seen.slots) note.warned = note.warned || sl.in_use;
    for (const Slot& sl : st.cpus[c].slots) note.live_anywhere = note.live_anywhere || sl.in_use;
  }
  st.prepared = false;
  st.cpus.clear();
  st.handles.clear();
  st.diverged.clear();
  notes_.push_back(note);
  delta_.spaces.push_back(s.asid);
  return {Err::ok, note.warned ? 1u : 0u};
}

}  // namespace vmref::mermap

namespace vmref::mermap {

const State* MermapModel::state(Asid as) const {
  auto it = states_.find(as);
  return it == states_.end() ? nullptr : &it->second;
}

}  // namespace vmref::mermap
