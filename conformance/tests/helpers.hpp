// Test helpers: events written as JSON lines, applied to a linux-profile model.
#pragma once

#include <string>
#include <vector>

#include "vmref/model/invariants.hpp"
#include "vmref/model/model.hpp"
#include "vmref/trace/codec.hpp"

namespace vmref::diff {
struct CampaignResult;
}

namespace vmref::test {

inline model::Model linux_model(unsigned cpus = 2, std::uint64_t frames = 4096) {
  return model::Model(model::profile_by_name("linux"), cpus, frames, 4096);
}

inline model::Event ev(const std::string& json_line) {
  return trace::event_from_json(nlohmann::json::parse(json_line), "<test>", 1);
}

/// Applies the event and returns its outcome; fails the test on any invariant violation.
model::Outcome apply_clean(model::Model& m, const std::string& json_line);

/// A linux-profile model with address space 1 created and running on CPU 0.
inline model::Model linux_model_running_as1(unsigned cpus = 2) {
  model::Model m = linux_model(cpus);
  apply_clean(m, R"({"op":"as_create","as":1})");
  apply_clean(m, R"({"op":"switch","cpu":0,"as":1})");
  return m;
}


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

}  // namespace vmref::test
