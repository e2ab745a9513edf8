#include "helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "vmref/conformance/replay.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/prove/obligation.hpp"

namespace vmref::test {

vocab::Outcome apply_clean(model::Model& m, const std::string& json_line) {
  vocab::Outcome o = m.apply(ev(json_line));
  std::vector<model::Violation> v;
  model::check_invariants(m, true, v);
  for (const auto& x : v) ADD_FAILURE() << json_line << " -> " << x.id << ": " << x.message;
  return o;
}

std::vector<std::string> violations_after(model::Model& m, const std::string& json_line) {
  m.apply(ev(json_line));
  std::vector<model::Violation> v;
  model::check_invariants(m, true, v);
  std::vector<std::string> ids;
  for (const auto& x : v) ids.push_back(x.id);
  return ids;
}

diff::CampaignResult model_campaign(const std::string& profile, std::uint64_t ops, bool stop_at_first) {
  diff::CampaignOptions o;
  o.ops = ops;
  o.seed = 7;
  o.profile = profile;
  o.model_only = true;
  o.table_layer = false;
  o.stop_at_first = stop_at_first;
  return diff::run_campaign(o);
}

std::string replay_error(const std::string& name, const std::string& text) {
  std::string path = (std::filesystem::temp_directory_path() / ("vmref-test-" + name)).string();
  std::ofstream(path, std::ios::binary) << text;
  return conformance::replay_file(path, {}).error;
}

void expect_every_obligation_proved(const std::string& owner, std::size_t count) {
  const prove::ProverInfo* p = prove::find_prover(owner);
  ASSERT_NE(p, nullptr) << owner;
  prove::Request req;
  auto obs = p->obligations(owner, req);
  ASSERT_EQ(obs.size(), count) << owner;
  for (prove::Obligation& ob : obs) {
    prove::Result r = ob.run(req);
    EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
  }
}

prove::Request prove_request(const std::string& name) {
  prove::Request r;
  r.depth = 5;
  r.timeout_ms = 120000;
  r.out_dir = (std::filesystem::temp_directory_path() / ("vmref-test-prove-" + name)).string();
  return r;
}

std::vector<std::pair<prove::Obligation, prove::Result>> run_obligations(
    const std::string& owner, const std::string& profile, const prove::Request& req,
    const std::function<bool(const prove::Obligation&)>& keep) {
  const prove::ProverInfo* p = prove::find_prover(owner);
  EXPECT_NE(p, nullptr) << owner;
  std::vector<std::pair<prove::Obligation, prove::Result>> out;
  if (!p) return out;
  for (prove::Obligation& ob : p->obligations(profile, req))
    if (keep(ob)) out.emplace_back(ob, ob.run(req));
  return out;
}

void expect_bmc_found(const std::string& owner, const std::string& profile, const std::set<std::string>& ids) {
  std::string name = profile;
  std::replace(name.begin(), name.end(), ':', '-');
  std::size_t n = 0;
  for (auto& [ob, r] : run_obligations(owner, profile, prove_request(name), [&](const prove::Obligation& o) {
         return o.kind == prove::Kind::bmc && ids.count(o.id);
       })) {
    ++n;
    EXPECT_EQ(r.status, prove::Status::counterexample) << profile << " " << ob.id << ": " << r.detail;
    EXPECT_TRUE(r.confirmed) << profile << " " << ob.id << ": " << r.replay;
    EXPECT_TRUE(std::filesystem::exists(r.trace)) << r.trace;
  }
  EXPECT_EQ(n, ids.size()) << profile;
}

void expect_bounds_refused(const std::string& owner, const std::string& profile,
                           const std::vector<std::pair<std::string, unsigned>>& bounds) {
  const prove::ProverInfo* p = prove::find_prover(owner);
  ASSERT_NE(p, nullptr) << owner;
  for (const auto& [name, value] : bounds) {
    prove::Request req;
    req.bounds[name] = value;
    try {
      p->obligations(profile, req);
      ADD_FAILURE() << name << "=" << value << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}

}  // namespace vmref::test
