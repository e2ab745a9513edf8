// SARIF 2.1.0 and KTAP output (conformance/src/report/sarif.cpp, ktap.cpp): every result
// kind lands where the format puts it, located at its trace file and line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "vmref/conformance/proof_result.hpp"
#include "vmref/conformance/report.hpp"
#include "vmref/vocab/registry.hpp"

using namespace vmref;

namespace {
conformance::Finding finding(const char* id, std::uint64_t line, const char* msg) {
  conformance::Finding f;
  f.id = id, f.line = line, f.event = line - 2, f.op = "munmap", f.message = msg;
  return f;
}

/// A trace with two findings of one ID and an undetermined case, and one that is bad input.
std::vector<conformance::ReplayResult> results() {
  conformance::ReplayResult a, b;
  a.file = "dir/a.jsonl";
  a.header.profile = vocab::kernels().front()->name;
  a.findings = {finding("INV-TLB-1", 7, "cpu 0 may hold\na freed frame # here"), finding("INV-TLB-1", 9, "again")};
  a.by_id = {{"INV-TLB-1", 2}};
  a.findings_total = 2;
  a.undetermined = {finding("UNDETERMINED-VSL-SPLIT", 5, "hidden owners")};
  a.undetermined_total = 1;
  b.file = "dir/b.jsonl";
  b.error = "dir/b.jsonl:3: field 'op': unknown op";
  return {a, b};
}
}  // namespace

TEST(Report_Sarif, FindingsUndeterminedBadInputAndProofsAreResultsAtTheirLines) {
  conformance::ProofRow cex, proved;
  cex.status = "counterexample", cex.id = "INV-A", cex.kind = "bmc", cex.profile = "k", cex.trace = "cex/a.jsonl";
  proved.status = "proved", proved.id = "INV-B", proved.kind = "inductive", proved.profile = "k";
  auto j = nlohmann::json::parse(conformance::report_sarif(results(), {cex, proved}, "9.9"));
  ASSERT_EQ(j["version"], "2.1.0");
  const auto& run = j["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["version"], "9.9");
  EXPECT_FALSE(run["invocations"][0]["executionSuccessful"].get<bool>());  // one trace was bad input
  const auto& res = run["results"];
  ASSERT_EQ(res.size(), 5u);  // 2 findings, 1 undetermined, 1 bad input, 1 counterexample (not the proof)
  EXPECT_EQ(res[0]["ruleId"], "INV-TLB-1");
  EXPECT_EQ(res[0]["kind"], "fail");
  EXPECT_EQ(res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "dir/a.jsonl");
  EXPECT_EQ(res[1]["locations"][0]["physicalLocation"]["region"]["startLine"], 9);
  EXPECT_EQ(res[2]["kind"], "review");
  EXPECT_EQ(res[2]["level"], "none");
  EXPECT_EQ(res[3]["ruleId"], "BAD-INPUT");
  EXPECT_EQ(res[3]["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
  EXPECT_EQ(res[4]["ruleId"], "INV-A");
  EXPECT_EQ(res[4]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "cex/a.jsonl");
  // Each rule once, and every result's ruleIndex points at its rule.
  const auto& rules = run["tool"]["driver"]["rules"];
  for (const auto& r : res) EXPECT_EQ(rules[r["ruleIndex"].get<std::size_t>()]["id"], r["ruleId"]);
  EXPECT_EQ(rules.size(), 4u);
  EXPECT_FALSE(rules[0]["shortDescription"]["text"].get<std::string>().empty());
}

TEST(Report_Ktap, PlansMatchTheTestsAndFailuresCarryTheirLines) {
  std::string k = conformance::report_ktap(results());
  ASSERT_EQ(k.rfind("KTAP version 1\n1..2\n", 0), 0u) << k;
  EXPECT_NE(k.find("not ok 1 a.jsonl\n"), std::string::npos) << k;
  EXPECT_NE(k.find("not ok 2 b.jsonl\n"), std::string::npos) << k;
  EXPECT_NE(k.find("    # line 7 event 5 (munmap): cpu 0 may hold a freed frame   here\n"), std::string::npos)
      << "one line, no '#' inside a diagnostic: " << k;
  EXPECT_NE(k.find("undetermined # SKIP the model could not decide 1 of its cases"), std::string::npos) << k;
  EXPECT_NE(k.find("    not ok 1 input\n    # dir/b.jsonl:3: field 'op': unknown op\n"), std::string::npos) << k;
  // Each subtest's plan counts its result lines (indented ones up to the parent's line).
  std::istringstream in(k);
  std::string line;
  std::vector<std::pair<std::size_t, std::size_t>> plans;  // (planned, seen)
  while (std::getline(in, line)) {
    if (line.rfind("    1..", 0) == 0) plans.push_back({std::stoul(line.substr(7)), 0});
    else if (!plans.empty() && (line.rfind("    ok ", 0) == 0 || line.rfind("    not ok ", 0) == 0)) ++plans.back().second;
  }
  ASSERT_EQ(plans.size(), 2u);
  for (auto [planned, seen] : plans) EXPECT_EQ(planned, seen);
}
