// Every deliberately broken variant of the implementations (spec/differential.md §3, the
// mutant registry) is caught by a campaign of at most 50,000 operations (a bound in
// operations, not seconds: sanitizer builds and shared machines vary), and its minimized
// counterexample fails again with the mutant and passes without it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "vmref/conformance/replay.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/mutant.hpp"

using namespace vmref;

class Differential_3_Mutant : public ::testing::TestWithParam<std::string> {};

TEST_P(Differential_3_Mutant, IsCaughtWithin50000OpsAndItsCounterexampleReplays) {
  const impl::MutantInfo* m = impl::find_mutant(GetParam());
  ASSERT_NE(m, nullptr);
  diff::CampaignOptions o;
  o.ops = 50000;
  o.seed = 3;
  o.stop_at_first = true;  // the operations to the first finding are what "caught" costs
  o.format.mutant = m;
  o.profile = m->profile;  // the kernel whose events reach the broken code ("" = the default)
  if (impl::find_format(m->owner)) o.impl = m->owner;  // a format's own mutant runs on that format
  o.out_dir = (std::filesystem::temp_directory_path() / ("vmref-mutant-" + GetParam())).string();
  diff::CampaignResult r = diff::run_campaign(o);
  ASSERT_GT(r.findings, 0u) << GetParam() << " was not caught within " << o.ops << " operations";
  ASSERT_FALSE(r.examples.empty());
  const diff::Counterexample& c = r.examples[0];
  EXPECT_TRUE(c.reproduces);
  EXPECT_LE(c.minimized, c.original);
  if (c.file.find(".tables.") != std::string::npos) {
    EXPECT_FALSE(diff::replay_counterexample(c.file, m).empty());
    EXPECT_TRUE(diff::replay_counterexample(c.file, nullptr).empty()) << "clean without the mutant";
  } else {
    conformance::ReplayOptions ro;
    ro.impl = o.impl.empty() ? impl::all_formats().front()->name : o.impl;
    ro.mutant = GetParam();
    EXPECT_EQ(conformance::replay_file(c.file, ro).verdict(), conformance::Verdict::findings);
    ro.mutant.clear();
    EXPECT_EQ(conformance::replay_file(c.file, ro).verdict(), conformance::Verdict::clean) << "clean without the mutant";
  }
  std::filesystem::remove_all(o.out_dir);
}

INSTANTIATE_TEST_SUITE_P(Registry, Differential_3_Mutant, ::testing::ValuesIn(impl::mutant_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });
