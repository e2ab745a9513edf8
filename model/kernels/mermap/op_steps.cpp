// The mermap allocator's own steps as mechanism events (spec/kernels/mermap.md §9):
// a slot taken or freed, the bump pointer reset, migrate_disable/enable. Applied
// verbatim; INV-MERMAP-* and the core invariants judge what each event group leaves.
#include "mermap_model.hpp"

namespace vmref::mermap {

using namespace vmref::model;

State& MermapModel::step_state(Asid as) {
  space_of(as);
  auto it = states_.find(as);
  if (it == states_.end() || !it->second.prepared)
    throw ModelError("as", "mermap_prepare has not run for address space " + std::to_string(as));
  return it->second;
}

// mermap_alloc's result: the first free tracking slot (a further one when none is free,
// which INV-MERMAP-2 reports) takes the range; a get for INV-MERMAP-1..4 to judge.
Outcome MermapModel::alloc_step(const Event& e) {
  core_.need_cpu(e.cpu);
  const auto& a = e.get<AllocStepArgs>();
  State& st = step_state(a.as);
  if (a.handle.empty() || st.handles.count(a.handle))
    throw ModelError("handle", "a new, non-empty allocation handle is required");
  Cpu& mc = st.cpus[static_cast<std::size_t>(e.cpu)];
  std::size_t i = 0;
  while (i < mc.slots.size() && mc.slots[i].in_use) ++i;
  if (i == mc.slots.size()) {
    if (mc.slots.size() > 4 * p_.slots) throw ModelError("handle", "far more live allocations than tracking slots");
    mc.slots.emplace_back();
  }
  mc.slots[i] = {true, a.reserve, a.base, a.base + a.len, a.handle};
  mc.next_addr = a.base + a.len;
  st.handles[a.handle] = {e.cpu, i};
  CallNote n;
  n.as = a.as;
  n.cpu = e.cpu;
  n.get = true;
  n.reserve = a.reserve;
  n.base = a.base;
  n.end = a.base + a.len;
  n.requested = a.len;
  notes_.push_back(n);
  delta_.spaces.push_back(a.as);
  return {};
}

// mermap_put's slot release, on the CPU that took it; no flush.
Outcome MermapModel::free_step(const Event& e) {
  core_.need_cpu(e.cpu);
  const auto& a = e.get<PutArgs>();
  State& st = step_state(a.as);
  auto h = st.handles.find(a.handle);
  if (h == st.handles.end()) throw ModelError("handle", "no live allocation '" + a.handle + "'");
  if (h->second.first != e.cpu) throw ModelError("cpu", "allocation '" + a.handle + "' belongs to another CPU");
  st.cpus[static_cast<std::size_t>(e.cpu)].slots[h->second.second].in_use = false;
  st.handles.erase(h);
  delta_.spaces.push_back(a.as);
  return {};
}

// The reset path's new bump pointer (its local flush is a tlb_flush event of its own).
Outcome MermapModel::reset_step(const Event& e) {
  core_.need_cpu(e.cpu);
  const auto& a = e.get<ResetStepArgs>();
  step_state(a.as).cpus[static_cast<std::size_t>(e.cpu)].next_addr = a.next;
  return {};
}

Outcome MermapModel::migrate_step(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<MigrateStepArgs>();
  State& st = step_state(a.as);
  if (a.disable) ++st.migrate_disabled;
  else if (st.migrate_disabled == 0) throw ModelError("disable", "migrate_enable without a migrate_disable to undo");
  else --st.migrate_disabled;
  delta_.spaces.push_back(a.as);
  return {};
}

}  // namespace vmref::mermap
