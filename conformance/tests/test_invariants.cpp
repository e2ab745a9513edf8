// Every invariant ID has a trace that violates it, and replay names that ID
// (spec/vmm.md §4: "covered by a test that shows it can fail").
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "helpers.hpp"
#include "vmref/conformance/replay.hpp"

using namespace vmref;

namespace {
std::string violation_trace(const std::string& id) { return test::source_dir() + "/traces/violations/" + id + ".jsonl"; }
}  // namespace

class EachInvariant : public ::testing::TestWithParam<std::string> {};

TEST_P(EachInvariant, ViolatingTraceIsCaughtByThisId) {
  const std::string id = GetParam();
  for (bool full : {false, true}) {
    conformance::ReplayOptions opt;
    opt.full_checks = full;
    auto r = conformance::replay_file(violation_trace(id), opt);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.by_id.count(id)) << id << " not reported (full=" << full << ")";
    bool named = false;
    for (const auto& f : r.findings) named = named || (f.id == id && f.line > 1 && !f.message.empty());
    EXPECT_TRUE(named) << "no finding line names " << id;
  }
}

static std::vector<std::string> catalog_ids() {
  std::vector<std::string> ids;
  for (const auto& inv : model::invariant_catalog()) ids.push_back(inv.id);
  return ids;
}

INSTANTIATE_TEST_SUITE_P(Catalog, EachInvariant, ::testing::ValuesIn(catalog_ids()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

TEST(Invariants, EveryViolationTraceNamesACatalogId) {
  std::set<std::string> ids;
  for (const auto& inv : model::invariant_catalog()) ids.insert(inv.id);
  for (const auto& e : std::filesystem::directory_iterator(test::source_dir() + "/traces/violations"))
    EXPECT_TRUE(ids.count(e.path().stem().string())) << e.path();
}

TEST(Invariants, CatalogAndCheckersAgree) {
  EXPECT_EQ(model::invariant_catalog().size(), model::invariant_checkers().size());
}
