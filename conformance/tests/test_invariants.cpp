// Every registered invariant has a trace that violates it, in the folder of the kernel
// that owns it (traces/violations/<kernel or core>/<ID>.jsonl), and replay names that ID
// (spec/vmm.md §4: "covered by a test that shows it can fail").
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "helpers.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/model/registry.hpp"

using namespace vmref;

namespace {
std::string violations_dir() { return test::source_dir() + "/traces/violations"; }
std::string violation_trace(const model::InvariantInfo& inv) {
  return violations_dir() + "/" + inv.kernel + "/" + inv.id + ".jsonl";
}
}  // namespace

class Vmm_4_Invariant : public ::testing::TestWithParam<std::string> {};

TEST_P(Vmm_4_Invariant, ViolatingTraceIsCaughtByThisId) {
  const std::string id = GetParam();
  const model::InvariantInfo* inv = model::find_invariant(id);
  ASSERT_NE(inv, nullptr);
  for (bool full : {false, true}) {
    conformance::ReplayOptions opt;
    opt.full_checks = full;
    auto r = conformance::replay_file(violation_trace(*inv), opt);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.by_id.count(id)) << id << " not reported (full=" << full << ")";
    bool named = false;
    for (const auto& f : r.findings) named = named || (f.id == id && f.line > 1 && !f.message.empty());
    EXPECT_TRUE(named) << "no finding line names " << id;
  }
}

static std::vector<std::string> registered_ids() {
  std::vector<std::string> ids;
  for (const auto& inv : model::invariants()) ids.push_back(inv.id);
  return ids;
}

INSTANTIATE_TEST_SUITE_P(Registry, Vmm_4_Invariant, ::testing::ValuesIn(registered_ids()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

TEST(Vmm_4_Invariants, EveryViolationTraceNamesAnInvariantOfItsFolder) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(violations_dir())) {
    if (!e.is_regular_file()) continue;
    ++n;
    const model::InvariantInfo* inv = model::find_invariant(e.path().stem().string());
    ASSERT_NE(inv, nullptr) << e.path() << " names no registered invariant";
    EXPECT_EQ(e.path().parent_path().filename().string(), inv->kernel) << e.path();
  }
  EXPECT_EQ(n, model::invariants().size());
}

TEST(Vmm_4_Invariants, EachIsDefinedOnceWithRuleSectionAndChecker) {
  std::set<std::string> ids;
  for (const auto& inv : model::invariants()) {
    EXPECT_TRUE(ids.insert(inv.id).second) << inv.id << " registered twice";
    EXPECT_NE(std::string(inv.rule), "") << inv.id;
    EXPECT_NE(std::string(inv.section).find("spec/"), std::string::npos) << inv.id;
    EXPECT_NE(inv.check, nullptr) << inv.id;
  }
}

// Incremental checks reach a PTE both through the touched range and through its freed
// frame; each violated PTE is still one finding per event (issue 14's third hole).
TEST(Vmm_4_2_Gpt, Gpt3IsReportedOncePerPteAndEvent) {
  for (bool full : {false, true}) {
    conformance::ReplayOptions opt;
    opt.full_checks = full;
    auto r = conformance::replay_file(test::source_dir() + "/conformance/tests/data/gpt3-set-then-free-in-one-group.jsonl", opt);
    ASSERT_TRUE(r.error.empty()) << r.error;
    std::size_t n = 0;
    for (const auto& f : r.findings) n += f.id == "INV-GPT-3";
    EXPECT_EQ(n, 1u) << "full=" << full;
  }
}

// spec/vmm.md §3.4: the lock rule is judged at the release, so a flush later in the same
// event group does not hide it; a pending mark does.
TEST(Vmm_3_4_Locks, ReleaseIsJudgedWhenItHappens) {
  auto r = conformance::replay_file(test::source_dir() + "/conformance/tests/data/ptl-unlock-then-flush-in-one-group.jsonl", {});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.by_id.count("INV-TLB-4"));
  EXPECT_FALSE(r.by_id.count("INV-TLB-3")) << "the flush ends the group, so the rights cut itself is in order";
}
