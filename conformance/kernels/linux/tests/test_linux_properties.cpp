// RapidCheck properties of the model alone on random linux sequences: every invariant
// of spec/vmm.md §4 holds after every event, and incremental checks agree with
// whole-state checks.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "linux_generator.hpp"
#include "linux_helpers.hpp"

using namespace vmref;
using namespace vmref::model;
using vocab::Event;
namespace ops = linux_mm::ops;

namespace {

struct Run {
  Model m = test::linux_model(2, 2048);
  std::vector<std::string> pins;
};

/// Applies `n` random events; every invariant must hold after each one, and the
/// incremental checks must agree with whole-state checks.
void random_run(Run& run, std::uint64_t seed, int n) {
  linux_mm::LinuxGenerator gen(seed);
  for (int i = 0; i < n; ++i) {
    Event e = gen.next();
    Outcome o = run.m.apply(e);
    gen.feedback(e, o);
    if (e.op == &ops::pin && o.err == Err::ok) run.pins.push_back(e.get<linux_mm::PinArgs>().handle);
    if (e.op == &ops::unpin) std::erase(run.pins, e.get<linux_mm::UnpinArgs>().handle);
    std::vector<Violation> inc, full;
    check_invariants(run.m, false, inc);
    check_invariants(run.m, true, full);
    for (const auto& v : full) RC_FAIL("event " + std::to_string(i) + " (" + e.op_name() + "): " + v.id + ": " + v.message);
    RC_ASSERT(inc.empty());
  }
}

void apply(Model& m, Event e) {
  Outcome o = m.apply(e);
  std::vector<Violation> v;
  check_invariants(m, true, v);
  for (const auto& x : v) RC_FAIL(std::string(e.op_name()) + ": " + x.id + ": " + x.message);
  (void)o;
}

}  // namespace

RC_GTEST_PROP(Vmm_4_InvariantsOnLinux, RandomSequencesKeepEveryInvariant, ()) {
  auto seed = *rc::gen::arbitrary<std::uint64_t>();
  auto n = *rc::gen::inRange(1, 300);
  Run run;
  random_run(run, seed, n);
}

RC_GTEST_PROP(Vmm_4_InvariantsOnLinux, UnmappingEverythingFreesEveryFrame, ()) {
  auto seed = *rc::gen::arbitrary<std::uint64_t>();
  auto n = *rc::gen::inRange(1, 300);
  Run run;
  random_run(run, seed, n);
  for (const auto& p : run.pins) {
    linux_mm::UnpinArgs a;
    a.handle = p;
    apply(run.m, vocab::make_event(ops::unpin, a));
  }
  std::vector<Asid> spaces;
  for (const auto& [as, s] : run.m.spaces()) spaces.push_back(as);
  for (Asid as : spaces) {
    linux_mm::MunmapArgs a;
    a.as = as;
    a.addr = 0x1000;
    a.len = run.m.core().config.task_size - 0x1000;
    apply(run.m, vocab::make_event(ops::munmap, a));
  }
  apply(run.m, vocab::make_event(vocab::ops::tlb_flush, vocab::TlbFlushArgs{}));
  // Only page-cache frames of files may stay, each held by its cache alone.
  for (FrameId f = 1; f < run.m.frames().size(); ++f) {
    const Frame& fr = run.m.frames()[f];
    if (!fr.allocated) continue;
    RC_ASSERT(fr.cached);
    RC_ASSERT(fr.refcount == 1u);
  }
  RC_ASSERT(run.m.pending().empty());
}

RC_GTEST_PROP(Vmm_4_InvariantsOnLinux, ForkThenExitRestoresCounts, ()) {
  auto seed = *rc::gen::arbitrary<std::uint64_t>();
  auto n = *rc::gen::inRange(1, 300);
  Run run;
  random_run(run, seed, n);
  apply(run.m, vocab::make_event(vocab::ops::tlb_flush, vocab::TlbFlushArgs{}));  // settle deferred frees first
  std::map<FrameId, std::uint32_t> before;
  for (FrameId f = 1; f < run.m.frames().size(); ++f)
    if (run.m.frames()[f].allocated) before[f] = run.m.frames()[f].refcount;
  linux_mm::ForkArgs fork;
  fork.as = 1;
  fork.child = 999;
  apply(run.m, vocab::make_event(ops::fork, fork));
  vocab::SpaceArgs exit;
  exit.as = 999;
  apply(run.m, vocab::make_event(vocab::ops::as_destroy, exit));
  std::map<FrameId, std::uint32_t> after;
  for (FrameId f = 1; f < run.m.frames().size(); ++f)
    if (run.m.frames()[f].allocated) after[f] = run.m.frames()[f].refcount;
  RC_ASSERT(before == after);
}
