// The mermap kernel's layer of the model (spec/kernels/mermap.md): per address space,
// the per-CPU bump allocator of short-lived kernel mappings, its tracking slots and the
// task's migrate-disable depth; and per event group, what each call did (for the
// invariants that judge calls rather than states).
#pragma once

#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "mermap_events.hpp"
#include "vmref/model/layer.hpp"

namespace vmref::mermap {

using model::AddressSpace;
using model::Outcome;
using vocab::Event;

/// One live (or free) tracking slot (struct mermap_alloc, §2).
struct Slot {
  bool in_use = false, reserve = false;
  Va base = 0, end = 0;    ///< bytes
  std::string handle;
};
/// A CPU's state (struct mermap_cpu): the bump pointer and the tracking slots.
struct Cpu {
  Va next_addr = 0;
  std::vector<Slot> slots;
};
/// The mm's mermap: per-CPU state once prepared, and the task's migrate-disable depth.
struct State {
  bool prepared = false;
  std::vector<Cpu> cpus;
  std::uint64_t migrate_disabled = 0;   ///< migrate_disable() calls not yet undone
  std::uint64_t flushes = 0;            ///< local TLB flushes on the reset path
  std::map<std::string, std::pair<int, std::size_t>> handles;  ///< live handle -> (cpu, slot)
  /// Handles of gets the recorded kernel says succeeded (expect.ret != 0) and the model
  /// failed: a finding at the get; their put is then a no-op, not bad input (§3).
  std::set<std::string> diverged;
};

/// What one call did, for INV-MERMAP-3/4/6 (which judge the call, not the state).
struct CallNote {
  Asid as = 0;
  int cpu = 0;
  bool get = false, teardown = false;
  bool reserve = false, failed = false, reserve_held = false;  ///< get
  Va base = 0, end = 0;                                          ///< get: the range handed out
  std::uint64_t requested = 0;                                   ///< get: the length asked for, bytes
  bool write_failed = false;                                     ///< get: an injected PTE-write failure
  bool warned = false, live_anywhere = false;                    ///< teardown
};

class MermapModel : public model::KernelLayer {
 public:
  MermapModel(model::Core& core, const MermapParams& params) : KernelLayer(core), p_(params) {}
  Outcome prepare(const Event& e);
  Outcome get(const Event& e);
  Outcome put(const Event& e);
  Outcome teardown(const Event& e);
  // op_steps.cpp (§9): the allocator's own steps
  Outcome alloc_step(const Event& e);
  Outcome free_step(const Event& e);
  Outcome reset_step(const Event& e);
  Outcome migrate_step(const Event& e);
  void begin_group() override { notes_.clear(); }
  void before_destroy(Asid as) override { states_.erase(as); }

  const MermapParams& params() const { return p_; }
  /// The mermap of `as`, or nullptr before its first prepare.
  const State* state(Asid as) const;
  /// The calls of the last event group.
  const std::vector<CallNote>& notes() const { return notes_; }

 private:
  /// mermap_alloc: the in-order bump allocator; nullopt = NULL. Returns the slot index.
  std::optional<std::size_t> alloc(State& st, int cpu, std::uint64_t size, bool reserve);
  /// The prepared mermap of `as` a step acts on (ModelError "as" before mermap_prepare).
  State& step_state(Asid as);
  MermapParams p_;
  std::map<Asid, State> states_;
  std::vector<CallNote> notes_;
};

/// Registers the mermap layer and INV-MERMAP-1..7.
void register_model();

}  // namespace vmref::mermap
