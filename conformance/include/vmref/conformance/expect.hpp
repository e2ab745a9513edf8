// Compares an event's `expect` with what the model did (spec/trace-format.md §3.3-§3.5).
#pragma once

#include <map>
#include <vector>

#include "vmref/conformance/finding.hpp"
#include "vmref/model/model.hpp"

namespace vmref::conformance {

/// What earlier observes established, for the rest of the trace: frame labels
/// (label -> (frame, allocation generation)) and the frame each observed page had
/// ((as, va) -> (frame, generation)), which `kept` expectations compare against.
/// Entries whose frame allocation has ended are dropped (spec/trace-format.md §3.5), so
/// the state is bounded by the live frames, not by the trace's length.
struct ObserveState {
  std::map<std::string, std::pair<model::FrameId, std::uint64_t>> labels;
  std::map<std::pair<model::Asid, model::Va>, std::pair<model::FrameId, std::uint64_t>> last;
  std::size_t sweep_at = 4096;  ///< entries at which the next sweep runs (doubles: amortized O(1))
};
using FrameLabels = ObserveState;

/// Appends a Finding per mismatch to `out`, and to `undetermined` one entry per vseg
/// boundary whose merge depended on state the trace hides (the model then adopts the
/// kernel's answer, so `m` may change). Returns the number of expectation fields compared.
/// Throws trace::TraceError (naming "expect.<field>") for a malformed expectation.
std::size_t compare_expect(model::Model& m, const vocab::Event& e, const vocab::Outcome& o,
                           const std::string& file, std::uint64_t index, std::vector<Finding>& out,
                           std::vector<Finding>& undetermined, FrameLabels& labels);

}  // namespace vmref::conformance
