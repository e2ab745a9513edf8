#include "vmref/conformance/rule_coverage.hpp"

#include <fmt/format.h>

namespace vmref::conformance {

std::vector<std::string> rules_never_hit(const std::vector<model::RuleCount>& rules,
                                         const std::set<std::string>& not_generated) {
  std::vector<std::string> out;
  for (const auto& r : rules)
    if (!r.hits && !not_generated.count(r.id)) out.push_back(r.id);
  return out;
}

std::string format_rule_coverage(const std::vector<model::RuleCount>& rules, const std::set<std::string>& not_generated,
                                 const std::string& why) {
  if (rules.empty()) return "";
  std::size_t hit = 0;
  for (const auto& r : rules) hit += r.hits != 0;
  std::string out = fmt::format("  rule coverage: {} of {} rules hit\n", hit, rules.size());
  for (const auto& r : rules) out += fmt::format("    {:<32} {:>10}  {}\n", r.id, r.hits, r.section);
  auto join = [](const std::vector<std::string>& ids) {
    std::string s;
    for (const auto& id : ids) s += (s.empty() ? "" : ", ") + id;
    return s;
  };
  std::vector<std::string> skipped;
  for (const auto& r : rules)
    if (!r.hits && not_generated.count(r.id)) skipped.push_back(r.id);
  std::vector<std::string> never = rules_never_hit(rules, not_generated);
  if (!skipped.empty()) out += "  not generated here (" + why + "): " + join(skipped) + "\n";
  out += "  never hit: " + (never.empty() ? std::string("none") : join(never)) + "\n";
  return out;
}

nlohmann::ordered_json rule_coverage_json(const std::vector<model::RuleCount>& rules) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& r : rules) j[r.id] = r.hits;
  return j;
}

}  // namespace vmref::conformance
