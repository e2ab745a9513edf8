// Rule coverage as the CLI prints it and writes it into JSON results: how often each
// counted rule of the profile's kernels ran (model/rule_coverage.hpp), and which never did.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "vmref/model/rule_coverage.hpp"

namespace vmref::conformance {

/// A table, one rule per line ("id  hits  section"), then "never hit: ..." listing the
/// rules with no hit, except those in `not_generated` (a source that cannot reach them,
/// listed on a line of their own with `why`). Empty when `rules` is.
std::string format_rule_coverage(const std::vector<model::RuleCount>& rules,
                                 const std::set<std::string>& not_generated = {}, const std::string& why = "");

/// {"<id>": hits, ...} in table order (nlohmann::ordered_json keeps it).
nlohmann::ordered_json rule_coverage_json(const std::vector<model::RuleCount>& rules);

/// The rules of `rules` with no hit, leaving out `not_generated`.
std::vector<std::string> rules_never_hit(const std::vector<model::RuleCount>& rules,
                                         const std::set<std::string>& not_generated = {});

}  // namespace vmref::conformance
