// JUnit output (conformance/src/report/junit.cpp): text XML cannot carry is written as
// "\xNN" so the file always parses, and the counts agree with the test cases.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "vmref/conformance/proof_result.hpp"
#include "vmref/conformance/report.hpp"
#include "vmref/vocab/registry.hpp"

using namespace vmref;

namespace {
/// Any registered kernel's profile: the report does not depend on which.
std::string some_profile() { return vocab::kernels().front()->name; }
}  // namespace

TEST(Report_Junit, ControlCharactersAndBrokenUtf8StayParseable) {
  conformance::ReplayResult r;
  r.file = "weird\x01name.jsonl";
  r.header.profile = some_profile();
  r.error = std::string("line 2: field 'op': unknown op \"a\x02\xff\xc3\" after \xc3\xa9t\xc3\xa9");
  std::string xml = conformance::report_junit({r});
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str())) << xml;
  pugi::xml_node suite = doc.child("testsuites").child("testsuite");
  EXPECT_STREQ(suite.attribute("name").value(), "weird\\x01name.jsonl");
  std::string err = suite.find_child_by_attribute("testcase", "name", "input").child("error").text().get();
  EXPECT_NE(err.find("a\\x02\\xff\\xc3\""), std::string::npos) << err;
  EXPECT_NE(err.find("\xc3\xa9t\xc3\xa9"), std::string::npos) << "valid UTF-8 is kept: " << err;
}

TEST(Report_Junit, CountsMatchTheCasesAndProofsFailOrError) {
  conformance::ReplayResult r;
  r.file = "/abs/dir/t.jsonl";
  r.header.profile = some_profile();
  r.by_id = {{"INV-TLB-1", 2}, {"EXPECT-RET", 1}};
  r.findings_total = 3;
  conformance::ProofRow proved, cex, unknown;
  proved.status = "proved", proved.id = "INV-A", proved.kind = "inductive", proved.profile = "k";
  cex = proved, cex.status = "counterexample", cex.trace = "x.jsonl";
  unknown = proved, unknown.status = "unknown", unknown.detail = "timeout";
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(conformance::report_junit({r}, {proved, cex, unknown}).c_str()));
  pugi::xml_node root = doc.child("testsuites");
  std::uint64_t cases = 0, failures = 0, errors = 0;
  for (pugi::xml_node s : root.children("testsuite")) {
    std::uint64_t n = 0;
    for (pugi::xml_node t : s.children("testcase")) {
      ++n;
      failures += !t.child("failure").empty();
      errors += !t.child("error").empty();
    }
    EXPECT_EQ(s.attribute("tests").as_ullong(), n) << s.attribute("name").value();
    cases += n;
  }
  EXPECT_EQ(root.attribute("tests").as_ullong(), cases);
  EXPECT_EQ(root.attribute("failures").as_ullong(), failures);
  EXPECT_EQ(failures, 3u) << "INV-TLB-1, expectations, the counterexample";
  EXPECT_EQ(errors, 1u) << "the unknown proof";
  pugi::xml_node first = root.child("testsuite").child("testcase");
  EXPECT_EQ(std::string(first.attribute("classname").value()), some_profile() + ".t") << "no absolute path in classname";
}
