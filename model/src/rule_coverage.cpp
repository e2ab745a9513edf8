#include "vmref/model/rule_coverage.hpp"

namespace vmref::model {

std::vector<RuleCount> RuleCoverage::counts() const {
  std::vector<RuleCount> out;
  out.reserve(rules_.size());
  for (std::size_t i = 0; i < rules_.size(); ++i) out.push_back({rules_[i].id, rules_[i].section, rules_[i].what, hits_[i]});
  return out;
}

}  // namespace vmref::model
