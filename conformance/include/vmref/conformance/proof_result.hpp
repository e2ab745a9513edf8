// `vmref prove --report` results as `vmref report` reads them (spec/prove.md §1): one row
// per obligation. Plain data, so that the report needs neither Z3 nor the prover.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vmref::conformance {

struct ProofRow {
  std::string kind, owner, profile, id, op, cite;
  std::string status;  ///< "proved", "counterexample" or "unknown"
  std::string detail, trace, replay;
  bool confirmed = false;
  double seconds = 0;
};

/// A prove report: the request's `bounds`, `depth` and `timeout_ms`, and one object per
/// row under "obligations" (what proofs_from_json reads back).
nlohmann::json proofs_to_json(const std::vector<ProofRow>& rows, const nlohmann::json& request);

/// Whether `j` is a `vmref prove --report` file (an object with "obligations").
bool is_proof_report(const nlohmann::json& j);
/// The rows of a prove report; throws std::runtime_error naming `origin` and the field
/// (e.g. "obligations[3].status") when it is malformed.
std::vector<ProofRow> proofs_from_json(const nlohmann::json& j, const std::string& origin);


}  // namespace vmref::conformance
