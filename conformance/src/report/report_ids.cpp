#include "report_ids.hpp"

#include <algorithm>

#include "vmref/vocab/registry.hpp"

namespace vmref::conformance::report_ids {

std::vector<const model::InvariantInfo*> invariants_of(const std::string& profile) {
  std::string kernel;
  try {
    if (!profile.empty()) kernel = vocab::resolve_profile(profile).kernel().name;
  } catch (const std::exception&) {  // an unknown profile is the trace's bad input
  }
  std::vector<const model::InvariantInfo*> out;
  if (kernel.empty()) return out;
  for (const auto& inv : model::invariants())
    if (std::string_view(inv.kernel) == "core" || kernel == inv.kernel) out.push_back(&inv);
  return out;
}

std::vector<std::string> ids_of(const std::vector<ReplayResult>& rs) {
  std::vector<std::string> ids;
  auto add = [&](const std::string& id) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  for (const auto& inv : model::invariants())  // catalogue order, limited to the kernels present
    for (const auto& r : rs)
      if (auto mine = invariants_of(r.header.profile); std::find(mine.begin(), mine.end(), &inv) != mine.end()) {
        add(inv.id);
        break;
      }
  for (const char* x : {"EXPECT-ERRNO", "EXPECT-RET", "EXPECT-ACCESS", "EXPECT-VSL", "EXPECT-VSL-SPLIT", "EXPECT-PAGE"}) add(x);
  for (const auto& r : rs)
    for (const auto& [id, n] : r.by_id) add(id);
  return ids;
}

std::string rule_of(const std::string& id) {
  if (const model::InvariantInfo* inv = model::find_invariant(id)) return inv->rule;
  if (id.rfind("EXPECT-", 0) == 0) return "the recorded outcome matches the model (spec/trace-format.md §5)";
  if (id.rfind("DIFF-", 0) == 0) return "the implementation agrees with the model (spec/differential.md, " + id + ")";
  if (id.rfind("UNDETERMINED-", 0) == 0) return "the trace does not show what decides this (spec/vmm.md §5)";
  return "";
}

}  // namespace vmref::conformance::report_ids
