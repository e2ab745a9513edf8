// RapidCheck properties of the model alone (random linux-profile sequences).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "helpers.hpp"
#include "vmref/conformance/random_trace.hpp"

using namespace vmref;
using namespace vmref::model;

namespace {

struct Run {
  Model m = test::linux_model(2, 2048);
  std::vector<std::string> pins;
};

/// Applies `n` random events; every invariant must hold after each one, and the
/// incremental checks must agree with whole-state checks.
void random_run(Run& run, std::uint64_t seed, int n) {
  conformance::RandomTrace gen(seed);
  for (int i = 0; i < n; ++i) {
    Event e = gen.next();
    Outcome o = run.m.apply(e);
    gen.feedback(e, o);
    if (e.op == Op::pin && o.err == Err::ok) run.pins.push_back(e.label);
    if (e.op == Op::unpin) std::erase(run.pins, e.label);
    std::vector<Violation> inc, full;
    check_invariants(run.m, false, inc);
    check_invariants(run.m, true, full);
    for (const auto& v : full) RC_FAIL("event " + std::to_string(i) + " (" + to_string(e.op) + "): " + v.id + ": " + v.message);
    RC_ASSERT(inc.empty());
  }
}

void apply(Model& m, Event e) {
  Outcome o = m.apply(e);
  std::vector<Violation> v;
  check_invariants(m, true, v);
  for (const auto& x : v) RC_FAIL(std::string(to_string(e.op)) + ": " + x.id + ": " + x.message);
  (void)o;
}

}  // namespace

RC_GTEST_PROP(ModelProperties, RandomSequencesKeepEveryInvariant, ()) {
  auto seed = *rc::gen::arbitrary<std::uint64_t>();
  auto n = *rc::gen::inRange(1, 300);
  Run run;
  random_run(run, seed, n);
}

RC_GTEST_PROP(ModelProperties, UnmappingEverythingFreesEveryFrame, ()) {
  auto seed = *rc::gen::arbitrary<std::uint64_t>();
  auto n = *rc::gen::inRange(1, 300);
  Run run;
  random_run(run, seed, n);
  for (const auto& p : run.pins) {
    Event e;
    e.op = Op::unpin;
    e.label = p;
    apply(run.m, e);
  }
  std::vector<Asid> spaces;
  for (const auto& [as, s] : run.m.spaces()) spaces.push_back(as);
  for (Asid as : spaces) {
    Event e;
    e.op = Op::munmap;
    e.as = as;
    e.addr = 0x1000;
    e.len = run.m.profile().task_size - 0x1000;
    apply(run.m, e);
  }
  Event flush;
  flush.op = Op::tlb_flush;
  apply(run.m, flush);
  // Only page-cache frames of files may stay, each held by its cache alone.
  for (FrameId f = 1; f < run.m.frames().size(); ++f) {
    const Frame& fr = run.m.frames()[f];
    if (!fr.allocated) continue;
    RC_ASSERT(fr.cached);
    RC_ASSERT(fr.refcount == 1u);
  }
  RC_ASSERT(run.m.pending().empty());
}

RC_GTEST_PROP(ModelProperties, ForkThenExitRestoresCounts, ()) {
  auto seed = *rc::gen::arbitrary<std::uint64_t>();
  auto n = *rc::gen::inRange(1, 300);
  Run run;
  random_run(run, seed, n);
  Event flush;
  flush.op = Op::tlb_flush;
  apply(run.m, flush);  // settle deferred frees first
  std::map<FrameId, std::uint32_t> before;
  for (FrameId f = 1; f < run.m.frames().size(); ++f)
    if (run.m.frames()[f].allocated) before[f] = run.m.frames()[f].refcount;
  Event fork;
  fork.op = Op::fork;
  fork.as = 1;
  fork.child = 999;
  apply(run.m, fork);
  Event exit;
  exit.op = Op::as_destroy;
  exit.as = 999;
  apply(run.m, exit);
  std::map<FrameId, std::uint32_t> after;
  for (FrameId f = 1; f < run.m.frames().size(); ++f)
    if (run.m.frames()[f].allocated) after[f] = run.m.frames()[f].refcount;
  RC_ASSERT(before == after);
}
