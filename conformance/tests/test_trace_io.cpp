// Trace format: strict decoding with file/line/field errors, zstd round trip, and
// replay's handling of bad input (spec/trace-format.md), on the core's operations; each
// kernel's tests cover its own operations' fields.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "helpers.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/line_io.hpp"
#include "vmref/vocab/registry.hpp"

using namespace vmref;

namespace {
/// A header of the default profile, one CPU.
std::string header() { return R"({"vmref_trace":1,"profile":")" + vocab::kernel_names().front() + R"(","cpus":1})"; }

std::string write_tmp(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / ("vmref-test-" + name);
  std::ofstream(p) << text;
  return p.string();
}

/// Replays `body` under header() and returns the error text (empty if none).
std::string replay_error(const std::string& name, const std::string& body) {
  auto r = conformance::replay_file(write_tmp(name, header() + "\n" + body), {});
  EXPECT_EQ(r.verdict(), conformance::Verdict::bad_input);
  return r.error;
}
}  // namespace

TEST(TraceFormat_3_1_Codec, UnknownFieldIsNamed) {
  try {
    trace::event_from_json(nlohmann::json::parse(R"({"op":"pte_clear","as":1,"va":"0x1000","tbl":"none"})"), "t.jsonl", 7);
    FAIL();
  } catch (const trace::TraceError& e) {
    EXPECT_EQ(e.line, 7u);
    EXPECT_EQ(e.field, "tbl");
    EXPECT_NE(std::string(e.what()).find("t.jsonl:7"), std::string::npos);
  }
}

TEST(TraceFormat_3_1_Codec, BadHexAndMissingFieldsAreNamed) {
  auto field_of = [](const char* line) -> std::string {
    try {
      trace::event_from_json(nlohmann::json::parse(line), "t", 1);
    } catch (const trace::TraceError& e) {
      return e.field;
    }
    return "(accepted)";
  };
  EXPECT_EQ(field_of(R"({"op":"pte_clear","as":1,"va":"0xZZ"})"), "va");
  EXPECT_EQ(field_of(R"({"op":"pte_clear","as":1})"), "va");
  EXPECT_EQ(field_of(R"({"op":"pte_set","as":1,"va":"0x1000","frame":"F","prot":"rwz"})"), "prot");
  EXPECT_EQ(field_of(R"({"op":"teleport"})"), "op");
  EXPECT_EQ(field_of(R"({"op":"pte_clear","as":1,"va":"0x11112222333344445"})"), "va");
}

TEST(TraceFormat_3_1_Codec, EventsRoundTripThroughJson) {
  for (const char* line : {
           R"({"op":"vseg_insert","as":3,"start":"0x10000","end":"0x13000","prot":"r-x","kind":"file","file":{"id":"8:1:9","path":"/bin/x","writable":false},"offset":"0x2000"})",
           R"({"op":"tlb_flush","scope":"range","broadcast":false,"cpu":1,"as":2,"va":"0x5000","len":"0x1000","global":true})",
           R"({"op":"pte_set","as":1,"va":"0x1000","frame":"F","prot":"r--","cow":true,"cont":true})"}) {
    vocab::Event e = test::ev(line);
    EXPECT_EQ(nlohmann::json(trace::event_to_json(e)), nlohmann::json::parse(line)) << line;
  }
}

TEST(TraceFormat_5_Replay, MalformedLinesAreBadInputNamingLineAndField) {
  EXPECT_NE(replay_error("json", "{\"op\":\"as_create\",\"as\":1}\n{not json\n").find(":3:"), std::string::npos);
  std::string e = replay_error("field", "{\"op\":\"as_create\",\"as\":1}\n{\"op\":\"pte_set\",\"as\":1,\"va\":\"0x1000\",\"frame\":\"F\",\"prot\":\"rw\"}\n");
  EXPECT_NE(e.find(":3: field 'prot'"), std::string::npos) << e;
  std::string imp = replay_error("impossible", "{\"op\":\"access\",\"cpu\":0,\"va\":\"0x1000\"}\n");
  EXPECT_NE(imp.find("field 'cpu'"), std::string::npos) << imp;
  std::string exp = replay_error("expect", "{\"op\":\"as_create\",\"as\":1,\"expect\":{\"errno\":\"EWHAT\"}}\n");
  EXPECT_NE(exp.find("field 'expect.errno'"), std::string::npos) << exp;
}

TEST(TraceFormat_5_Replay, MissingOrWrongHeaderIsBadInput) {
  auto r = conformance::replay_file(write_tmp("nohdr", "{\"op\":\"as_create\",\"as\":1}\n"), {});
  EXPECT_NE(r.error.find("vmref_trace"), std::string::npos) << r.error;
  auto r2 = conformance::replay_file(write_tmp("empty", ""), {});
  EXPECT_NE(r2.error.find("empty trace"), std::string::npos) << r2.error;
  auto r3 = conformance::replay_file("/nonexistent/trace.jsonl", {});
  EXPECT_NE(r3.error.find("cannot open"), std::string::npos) << r3.error;
}

TEST(TraceFormat_4_Storage, ZstdRoundTripAndTruncation) {
  auto p = (std::filesystem::temp_directory_path() / "vmref-test-rt.jsonl.zst").string();
  {
    trace::LineWriter w(p, true);
    for (int i = 0; i < 50000; ++i) w.write("{\"line\":" + std::to_string(i) + "}");
    w.close();
  }
  trace::LineReader r(p);
  EXPECT_TRUE(r.compressed());
  std::string line;
  int n = 0;
  while (r.next(line)) EXPECT_EQ(line, "{\"line\":" + std::to_string(n++) + "}");
  EXPECT_EQ(n, 50000);
  // Cut the file short: reading must fail loudly, not stop silently.
  auto size = std::filesystem::file_size(p);
  std::filesystem::resize_file(p, size / 2);
  trace::LineReader cut(p);
  EXPECT_THROW({ while (cut.next(line)) {} }, trace::TraceError);
}

TEST(TraceFormat_5_Replay, DeclaredVerdictIsChecked) {
  auto r = conformance::replay_file(test::source_dir() + "/traces/violations/core/INV-COW-1.jsonl", {});
  EXPECT_EQ(conformance::check_declared_verdict(r), "");
  EXPECT_EQ(r.verdict(), conformance::Verdict::findings);
  std::string h = header();
  h.insert(h.size() - 1, R"(,"provenance":{"expected":{"verdict":"clean"}})");
  auto clean = conformance::replay_file(write_tmp("clean", h + "\n{\"op\":\"as_create\",\"as\":1}\n"), {});
  EXPECT_EQ(clean.verdict(), conformance::Verdict::clean);
  EXPECT_EQ(conformance::check_declared_verdict(clean), "");
  // A trace that declares findings it does not give is refused.
  h = header();
  h.insert(h.size() - 1, R"(,"provenance":{"expected":{"verdict":"findings","ids":["INV-COW-1"]}})");
  auto wrong = conformance::replay_file(write_tmp("wrong", h + "\n{\"op\":\"as_create\",\"as\":1}\n"), {});
  EXPECT_NE(conformance::check_declared_verdict(wrong), "");
}
