// The reproduce command beside every finding (conformance/src/replay/reproduce.cpp): it
// names the profile in full and every option that changes the verdict, quotes what a
// shell would split, and survives the result file's round trip.
#include <gtest/gtest.h>

#include "vmref/conformance/replay.hpp"
#include "vmref/conformance/report.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/vocab/registry.hpp"

using namespace vmref;

namespace {
conformance::ReplayResult with_finding() {
  conformance::ReplayResult r;
  r.file = "my traces/it's.jsonl";
  const vocab::KernelInfo& k = *vocab::kernels().front();
  r.header.profile = k.name;
  r.findings = {{"INV-TLB-1", 3, 5, "munmap", "stale", ""}};
  r.by_id = {{"INV-TLB-1", 1}};
  r.findings_total = 1;
  return r;
}
}  // namespace

TEST(Reproduce, NamesTheFullProfileAndQuotesTheFile) {
  conformance::ReplayResult r = with_finding();
  const vocab::KernelInfo& k = *vocab::kernels().front();
  EXPECT_EQ(conformance::reproduce_command(r),
            "vmref replay 'my traces/it'\\''s.jsonl' --profile " + k.name + ":" + k.variants.front().name);
}

TEST(Reproduce, CarriesImplementationMutantAndFormatParameters) {
  conformance::ReplayResult r = with_finding();
  r.file = "t.jsonl";
  r.header.profile = "no-such-kernel";  // printed as given: a bad-input trace's profile
  r.impl = impl::all_formats().front()->name;
  r.mutant = "some-mutant";
  r.format_params = {{"levels", 5}};
  r.model_only = false;
  EXPECT_EQ(conformance::reproduce_command(r),
            "vmref replay t.jsonl --profile no-such-kernel --impl " + r.impl + " --mutant some-mutant --levels 5");
  r.impl.clear(), r.mutant.clear(), r.format_params.clear(), r.model_only = true;
  r.params = {{"vm_pages", 64}, {"vm_start", "0x40000000"}};
  EXPECT_EQ(conformance::reproduce_command(r),
            "vmref replay t.jsonl --profile no-such-kernel --model-only --param vm_pages=64 --param vm_start=0x40000000");
  r.params = nlohmann::json::object();
  EXPECT_EQ(conformance::reproduce_command(r), "vmref replay t.jsonl --profile no-such-kernel --model-only");
}

TEST(Reproduce, SurvivesTheResultFileAndReachesEveryReport) {
  conformance::ReplayResult r = with_finding();
  r.impl = impl::all_formats().front()->name;
  r.format_params = {{"levels", 4}};
  r.params = {{"slots", 3}};
  const nlohmann::json j = conformance::result_to_json(r);
  EXPECT_EQ(j["reproduce"], conformance::reproduce_command(r));
  conformance::ReplayResult back = conformance::result_from_json(j, "r.json");
  EXPECT_EQ(conformance::reproduce_command(back), conformance::reproduce_command(r));
  nlohmann::json bad = j;
  bad["format_params"]["levels"] = -1;
  EXPECT_THROW(conformance::result_from_json(bad, "r.json"), std::runtime_error);
  const std::string cmd = conformance::reproduce_command(r);
  EXPECT_NE(conformance::report_markdown({r}).find(cmd), std::string::npos);
  EXPECT_NE(conformance::report_junit({r}).find(cmd), std::string::npos);
  EXPECT_NE(conformance::report_sarif({r}, {}, "t").find("\"reproduce\""), std::string::npos);
  EXPECT_NE(conformance::report_ktap({r}).find("# reproduce: vmref replay"), std::string::npos);
  // HTML escapes the quote in the file name; the command is there as the browser shows it.
  EXPECT_NE(conformance::report_html({r}).find("code class=\"cmd\">vmref replay"), std::string::npos);
}
