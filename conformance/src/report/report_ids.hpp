// Which IDs a report lists for a trace, the rule text each cites, and how a proof row is
// named and explained: shared by the Markdown, HTML and JUnit writers.
#pragma once

#include <string>
#include <vector>

#include "vmref/conformance/proof_result.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/model/registry.hpp"

namespace vmref::conformance::report_ids {

/// The invariants a trace of `profile` is checked against: the core's and its kernel's
/// (none when the profile is empty or unknown: the trace is bad input).
std::vector<const model::InvariantInfo*> invariants_of(const std::string& profile);

/// The IDs a report over `rs` lists: every invariant of the traces' kernels, then the
/// expectation kinds, then any other ID seen (DIFF-* with --impl).
std::vector<std::string> ids_of(const std::vector<ReplayResult>& rs);

/// The rule an ID stands for: an invariant's one-line rule, or what an EXPECT-*, DIFF-*
/// or UNDETERMINED-* result means, with its spec section.
std::string rule_of(const std::string& id);

/// "ID op" (op only for an inductive step).
std::string proof_name(const ProofRow& p);
/// What a proof row says beyond its status: the detail, the counterexample's trace with
/// the command that replays it, and the replay verdict; empty when proved.
std::string proof_text(const ProofRow& p);

}  // namespace vmref::conformance::report_ids
