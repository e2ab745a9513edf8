// Fuzz target: a whole trace replayed through the model, as conformance::replay_file
// does it (conformance/src/replay/replay.cpp): TraceReader from memory, the model the
// header asks for, then per event apply, the invariant checks and the comparison of
// `expect`, up to kMaxEvents events so one input stays fast; then one full check. Bad
// input is trace::TraceError, model::ModelError or std::invalid_argument (an event or a
// header the model refuses); anything else escaping, a crash, a leak or a hang is a bug.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "vmref/conformance/expect.hpp"
#include "vmref/model/invariants.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/trace_reader.hpp"

using namespace vmref;

namespace {

constexpr std::uint64_t kMaxEvents = 2000;

void replay(trace::TraceReader& in) {
  model::Model m = trace::model_for(in.header());
  std::vector<model::Violation> viol;
  std::vector<conformance::Finding> found, undetermined;
  conformance::FrameLabels labels;
  vocab::Event e;
  for (std::uint64_t index = 0; index < kMaxEvents && in.next(e); ++index) {
    vocab::Outcome o = m.apply(e);
    viol.clear();
    if (!e.cont) model::check_invariants(m, false, viol);
    found.clear();
    undetermined.clear();
    conformance::compare_expect(m, e, o, "fuzz", index, found, undetermined, labels);
  }
  viol.clear();
  model::check_invariants(m, true, viol);
  (void)m.rule_coverage();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::init();
  try {
    trace::TraceReader in(fuzz::open_input(data, size), "fuzz");
    replay(in);
  } catch (const trace::TraceError&) {
  } catch (const model::ModelError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
