// Transparent huge pages (spec/kernels/linux.md §1.13): the scenario traces on the model
// and on the implementation, the differential campaign with huge leaves, and the
// broken implementations it must catch.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/impl/registry.hpp"

using namespace vmref;

namespace {
std::string scenario(const char* name) { return test::source_dir() + "/traces/scenarios/linux/" + name; }

diff::CampaignOptions thp_campaign(std::uint64_t ops) {
  diff::CampaignOptions o;
  o.profile = "linux:thp";
  o.ops = ops;
  o.seed = 11;
  return o;
}
}  // namespace

TEST(Linux_1_13_Thp, ScenariosReplayCleanAndTheirExpectationsNeedHugeLeaves) {
  for (const char* t : {"thp-fault-cow-split.jsonl", "thp-move-zap-pinned-fork.jsonl"}) {
    conformance::ReplayOptions ro;
    EXPECT_EQ(conformance::replay_file(scenario(t), ro).verdict(), conformance::Verdict::clean) << t;
    ro.profile = "linux";  // base pages only: the observes see 4 KiB leaves and other counts
    conformance::ReplayResult r = conformance::replay_file(scenario(t), ro);
    EXPECT_EQ(r.verdict(), conformance::Verdict::findings) << t;
    EXPECT_TRUE(r.by_id.count("EXPECT-PAGE")) << t;
  }
  conformance::ReplayOptions ro;
  ro.impl = impl::all_formats().front()->name;  // in lock step: its leaves and counts are the model's
  EXPECT_EQ(conformance::replay_file(scenario("thp-fault-cow-split.jsonl"), ro).verdict(), conformance::Verdict::clean);
}

TEST(Linux_1_13_Thp, DifferentialCampaignWithHugeLeavesIsClean) {
  diff::CampaignResult r = diff::run_campaign(thp_campaign(30000));
  EXPECT_EQ(r.findings, 0u) << (r.examples.empty() ? "" : r.examples[0].id + ": " + r.examples[0].message);
  EXPECT_TRUE(r.first_error.empty()) << r.first_error;
  EXPECT_GT(r.shapes["vmm.huge_leaves_compared"], 1000u);   // huge leaves on both sides, compared
  EXPECT_GT(r.shapes["vmm.huge_tlb_entries_compared"], 100u);  // and their 2 MiB TLB entries
  EXPECT_GT(r.op_kinds["fork"], 100u);
}

TEST(Linux_1_13_Thp, ModelCampaignKeepsEveryInvariant) {
  diff::CampaignResult r = test::model_campaign("linux:thp", 100000, true);
  EXPECT_EQ(r.findings, 0u) << (r.examples.empty() ? "" : r.examples[0].id + ": " + r.examples[0].message);
}
