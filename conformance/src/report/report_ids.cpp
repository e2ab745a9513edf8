#include "report_ids.hpp"

#include <algorithm>
#include <set>

#include "vmref/vocab/registry.hpp"

namespace vmref::conformance::report_ids {

namespace {

/// The kernel `profile` names; empty when it is empty or unknown (the trace's bad input).
std::string kernel_of(const std::string& profile) {
  try {
    if (!profile.empty()) return vocab::resolve_profile(profile).kernel().name;
  } catch (const std::exception&) {
  }
  return "";
}

}  // namespace

std::vector<const model::InvariantInfo*> invariants_of(const std::string& profile) {
  const std::string kernel = kernel_of(profile);
  std::vector<const model::InvariantInfo*> out;
  if (kernel.empty()) return out;
  for (const auto& inv : model::invariants())
    if (std::string_view(inv.kernel) == "core" || kernel == inv.kernel) out.push_back(&inv);
  return out;
}

std::vector<std::string> ids_of(const std::vector<ReplayResult>& rs) {
  std::set<std::string> kernels;  // of the traces present, each resolved once
  for (const auto& r : rs)
    if (std::string k = kernel_of(r.header.profile); !k.empty()) kernels.insert(k);
  std::vector<std::string> ids;
  auto add = [&](const std::string& id) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  for (const auto& inv : model::invariants())  // catalogue order
    if (!kernels.empty() && (std::string_view(inv.kernel) == "core" || kernels.count(inv.kernel))) add(inv.id);
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

std::string proof_name(const ProofRow& p) { return p.id + (p.op.empty() ? "" : " " + p.op); }

std::string proof_text(const ProofRow& p) {
  if (p.status == "proved") return "";
  std::string t = p.detail;
  if (!p.trace.empty()) t += "\ntrace: " + p.trace + " (vmref replay --expect-declared " + p.trace + ")";
  if (!p.replay.empty()) t += "\n" + p.replay;
  return t;
}

}  // namespace vmref::conformance::report_ids
