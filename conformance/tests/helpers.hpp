// Test helpers shared by every kernel's tests: events written as JSON lines, models
// checked after each event, model-only campaigns.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "vmref/model/invariants.hpp"
#include "vmref/model/model.hpp"
#include "vmref/prove/obligation.hpp"
#include "vmref/trace/codec.hpp"

namespace vmref::diff {
struct CampaignResult;
}

namespace vmref::test {

/// One event from its JSON line (as a trace writes it).
inline vocab::Event ev(const std::string& json_line) {
  return trace::event_from_json(nlohmann::json::parse(json_line), "<test>", 1);
}

/// Applies the event and returns its outcome; fails the test on any invariant violation.
vocab::Outcome apply_clean(model::Model& m, const std::string& json_line);

/// A model-only fuzz campaign of `ops` events, seed 7 (the profile's variant is under test).
diff::CampaignResult model_campaign(const std::string& profile, std::uint64_t ops, bool stop_at_first);
/// IDs of the violations after applying `json_line` (full-state checks).
std::vector<std::string> violations_after(model::Model& m, const std::string& json_line);

inline const model::Pte* pte(const model::Model& m, model::Asid as, model::Va va) {
  const auto* s = m.space(as);
  if (!s) return nullptr;
  auto it = s->gpt.find(va >> 12);
  return it == s->gpt.end() ? nullptr : &it->second;
}

inline std::string source_dir() { return VMREF_SOURCE_DIR; }

/// Writes `text` as the trace file `name` in the temporary directory and replays it; the
/// replay's error (empty when the trace was well formed and applicable).
std::string replay_error(const std::string& name, const std::string& text);

/// Whether that error names `field` (the message's "field 'F'" part).
inline bool names_field(const std::string& error, const std::string& field) {
  return error.find("field '" + field + "'") != std::string::npos;
}

/// Runs every proof obligation `owner` (a kernel profile or a format) registers with the
/// default request: there must be `count` of them, each proved (spec/prove.md).
void expect_every_obligation_proved(const std::string& owner, std::size_t count);
/// Every BMC obligation of `ids` on `owner`'s `profile` finds a counterexample that the
/// model confirms by replay, with its trace written (spec/prove.md §5).
void expect_bmc_found(const std::string& owner, const std::string& profile, const std::set<std::string>& ids);
/// Each bound (name, value) alone is refused by `owner`'s obligations on `profile` with
/// std::invalid_argument naming the bound (spec/prove.md §6).
void expect_bounds_refused(const std::string& owner, const std::string& profile,
                           const std::vector<std::pair<std::string, unsigned>>& bounds);

/// A prove request for a test: depth 5, 120 s per solver call, counterexample traces in
/// the temporary directory's `vmref-test-prove-NAME`.
prove::Request prove_request(const std::string& name);
/// Runs the obligations of `owner` on `profile` that `keep` selects, with their results.
std::vector<std::pair<prove::Obligation, prove::Result>> run_obligations(
    const std::string& owner, const std::string& profile, const prove::Request& req,
    const std::function<bool(const prove::Obligation&)>& keep);

}  // namespace vmref::test
