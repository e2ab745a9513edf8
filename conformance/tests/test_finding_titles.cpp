// Finding titles (conformance/src/replay/finding.cpp): findings of one bug share a title
// whatever numbers and addresses they name, and reports list one row per title.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "vmref/conformance/finding.hpp"
#include "vmref/conformance/report.hpp"

using namespace vmref;
using conformance::Finding;

namespace {
Finding finding(const char* id, const char* op, const char* msg, std::uint64_t line) {
  Finding f;
  f.id = id, f.op = op, f.message = msg, f.line = line, f.event = line - 2;
  return f;
}
}  // namespace

TEST(Report_Titles, NumbersAndAddressesAreReplacedIdentifiersKept) {
  Finding f = finding("INV-TLB-3", "fork", "cpu 1 may hold as 12 va 0x10311000 (INV-TLB-3, 4K, sv39_x): 2 mappings", 9);
  EXPECT_EQ(conformance::finding_title(f),
            "INV-TLB-3 in fork: cpu N may hold as N va ADDR (INV-TLB-3, 4K, sv39_x): N mappings");
  f.message = std::string(300, 'x');
  EXPECT_EQ(conformance::finding_title(f).size(), std::string("INV-TLB-3 in fork: ").size() + 100);
}

TEST(Report_Titles, GroupsKeepTheFirstOccurrenceAndCount) {
  std::vector<Finding> fs{finding("INV-FRAME-1", "munmap", "frame 3: reference count 1 but 2", 5),
                          finding("INV-GPT-3", "munmap", "as 1 va 0x1000: PTE maps frame 3, which is free", 5),
                          finding("INV-FRAME-1", "munmap", "frame 17: reference count 4 but 5", 9),
                          finding("INV-FRAME-1", "fork", "frame 17: reference count 4 but 5", 11)};
  auto g = conformance::group_findings(fs);
  ASSERT_EQ(g.size(), 3u);  // the same message under another op is another title
  EXPECT_EQ(g[0].count, 2u);
  EXPECT_EQ(g[0].first.line, 5u);
  EXPECT_EQ(g[1].first.id, "INV-GPT-3");
  EXPECT_EQ(g[2].first.op, "fork");

  conformance::ReplayResult r;
  r.file = "t.jsonl";
  r.findings = fs;
  r.findings_total = fs.size();
  r.by_id = {{"INV-FRAME-1", 3}, {"INV-GPT-3", 1}};
  std::string md = conformance::report_markdown({r});
  EXPECT_NE(md.find("| INV-FRAME-1 in munmap: frame N: reference count N but N | 2 | t.jsonl event 3 (line 5) |"),
            std::string::npos) << md;
  auto sarif = nlohmann::json::parse(conformance::report_sarif({r}, {}, "0"));
  const auto& res = sarif["runs"][0]["results"];
  EXPECT_EQ(res[0]["partialFingerprints"], res[2]["partialFingerprints"]);  // one alert for one bug
  EXPECT_NE(res[0]["partialFingerprints"], res[3]["partialFingerprints"]);
}

// Findings name frames by the trace's labels (spec/trace-format.md §5): "frame N" gains
// the label of a frame the trace labelled; unlabelled frames, other words ending in
// "frame" and numbers that are not frame numbers are left; the title drops the label.
TEST(Report_Titles, FramesNamedByTheTracesLabels) {
  const std::string f3 = "f3", pt = "root-table";
  auto label_of = [&](std::uint64_t f) -> const std::string* { return f == 12 ? &f3 : f == 7 ? &pt : nullptr; };
  EXPECT_EQ(conformance::name_frames("frame 12 was freed with reference count 1", label_of),
            "frame 12 ('f3') was freed with reference count 1");
  EXPECT_EQ(conformance::name_frames("as 1 va 0x1000: PTE maps frame 12, but the PTE now maps frame 5", label_of),
            "as 1 va 0x1000: PTE maps frame 12 ('f3'), but the PTE now maps frame 5");
  EXPECT_EQ(conformance::name_frames("frame 7 links frame 120; subframe 12; frame 12x; frame x", label_of),
            "frame 7 ('root-table') links frame 120; subframe 12; frame 12x; frame x");
  EXPECT_EQ(conformance::name_frames("frame 99999999999999999999999 is odd", label_of), "frame 99999999999999999999999 is odd");
  Finding a = finding("INV-FRAME-2", "frame_free", "frame 12 ('f3') was freed with reference count 1", 4);
  Finding b = finding("INV-FRAME-2", "frame_free", "frame 40 ('g') was freed with reference count 1", 9);
  EXPECT_EQ(conformance::finding_title(a), "INV-FRAME-2 in frame_free: frame N ('L') was freed with reference count N");
  EXPECT_EQ(conformance::finding_title(a), conformance::finding_title(b));
}
