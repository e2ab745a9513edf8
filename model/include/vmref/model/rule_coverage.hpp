// How often each rule of a kernel's spec page ran (spec/kernels/<kernel>.md, "Rule
// coverage"): replay, fuzz and the oracle print it so a campaign shows which rules it
// exercised and which it never reached.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vmref::model {

/// One counted rule: `id` as the spec page lists it (e.g. "merge.mremap-grow"), the
/// section that defines it ("spec/kernels/linux.md §1.2") and what one hit means.
struct RuleInfo {
  const char* id;
  const char* section;
  const char* what;
};

/// A rule and how many times it ran.
struct RuleCount {
  std::string id;
  std::string section;
  std::string what;
  std::uint64_t hits = 0;
};

/// Counters over a fixed table of rules, indexed by the kernel's own enum. Counting is
/// observation, not model state, hence callable from const decision functions.
class RuleCoverage {
 public:
  explicit RuleCoverage(std::span<const RuleInfo> rules) : rules_(rules), hits_(rules.size(), 0) {}
  /// Counts one run of rule `index` (an index into the table given at construction).
  void hit(std::size_t index) const { ++hits_[index]; }
  /// Every rule of the table, in table order, with its count (zero when never hit).
  std::vector<RuleCount> counts() const;

 private:
  std::span<const RuleInfo> rules_;
  mutable std::vector<std::uint64_t> hits_;
};

}  // namespace vmref::model
