// Trace format: strict decoding with file/line/field errors, zstd round trip, and
// replay's handling of bad input (spec/trace-format.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "helpers.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/line_io.hpp"

using namespace vmref;

namespace {
const char* kHeader = R"({"vmref_trace":1,"profile":"linux","cpus":1})";

std::string write_tmp(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / ("vmref-test-" + name);
  std::ofstream(p) << text;
  return p.string();
}

/// Replays `body` under kHeader and returns the error text (empty if none).
std::string replay_error(const std::string& name, const std::string& body) {
  auto r = conformance::replay_file(write_tmp(name, std::string(kHeader) + "\n" + body), {});
  EXPECT_EQ(r.verdict(), conformance::Verdict::bad_input);
  return r.error;
}
}  // namespace

TEST(TraceCodec, UnknownFieldIsNamed) {
  try {
    trace::event_from_json(nlohmann::json::parse(R"({"op":"munmap","as":1,"addr":"0x1000","len":"0x1000","tbl":"none"})"), "t.jsonl", 7);
    FAIL();
  } catch (const trace::TraceError& e) {
    EXPECT_EQ(e.line, 7u);
    EXPECT_EQ(e.field, "tbl");
    EXPECT_NE(std::string(e.what()).find("t.jsonl:7"), std::string::npos);
  }
}

TEST(TraceCodec, BadHexAndMissingFieldsAreNamed) {
  EXPECT_THROW(trace::event_from_json(nlohmann::json::parse(R"({"op":"munmap","as":1,"addr":"0xZZ","len":"0x1"})"), "t", 1), trace::TraceError);
  EXPECT_THROW(trace::event_from_json(nlohmann::json::parse(R"({"op":"munmap","as":1,"len":"0x1"})"), "t", 1), trace::TraceError);
  EXPECT_THROW(trace::event_from_json(nlohmann::json::parse(R"({"op":"mmap","as":1,"len":"0x1000","prot":"rwz"})"), "t", 1), trace::TraceError);
  EXPECT_THROW(trace::event_from_json(nlohmann::json::parse(R"({"op":"teleport"})"), "t", 1), trace::TraceError);
  EXPECT_THROW(trace::event_from_json(nlohmann::json::parse(R"({"op":"munmap","as":1,"addr":"0x11112222333344445","len":"0x1"})"), "t", 1), trace::TraceError);
}

TEST(TraceCodec, EventsRoundTripThroughJson) {
  for (const char* line : {
           R"({"op":"mmap","as":3,"addr":"0x10000","len":"0x3000","prot":"r-x","flags":["private","fixed"],"file":{"id":"8:1:9","path":"/bin/x","writable":false},"offset":"0x2000"})",
           R"({"op":"tlb_flush","scope":"range","broadcast":false,"cpu":1,"as":2,"va":"0x5000","len":"0x1000","global":true})",
           R"({"op":"pte_set","as":1,"va":"0x1000","frame":"F","prot":"r--","cow":true,"cont":true})"}) {
    model::Event e = test::ev(line);
    EXPECT_EQ(nlohmann::json(trace::event_to_json(e)), nlohmann::json::parse(line)) << line;
  }
}

TEST(Replay, MalformedLinesAreBadInputNamingLineAndField) {
  EXPECT_NE(replay_error("json", "{\"op\":\"as_create\",\"as\":1}\n{not json\n").find(":3:"), std::string::npos);
  std::string e = replay_error("field", "{\"op\":\"as_create\",\"as\":1}\n{\"op\":\"mprotect\",\"as\":1,\"addr\":\"0x1000\",\"len\":\"0x1000\",\"prot\":\"rw\"}\n");
  EXPECT_NE(e.find(":3: field 'prot'"), std::string::npos) << e;
  std::string imp = replay_error("impossible", "{\"op\":\"access\",\"cpu\":0,\"va\":\"0x1000\"}\n");
  EXPECT_NE(imp.find("field 'cpu'"), std::string::npos) << imp;
  std::string exp = replay_error("expect", "{\"op\":\"as_create\",\"as\":1,\"expect\":{\"errno\":\"EWHAT\"}}\n");
  EXPECT_NE(exp.find("field 'expect.errno'"), std::string::npos) << exp;
}

TEST(Replay, MissingOrWrongHeaderIsBadInput) {
  auto r = conformance::replay_file(write_tmp("nohdr", "{\"op\":\"as_create\",\"as\":1}\n"), {});
  EXPECT_NE(r.error.find("vmref_trace"), std::string::npos) << r.error;
  auto r2 = conformance::replay_file(write_tmp("empty", ""), {});
  EXPECT_NE(r2.error.find("empty trace"), std::string::npos) << r2.error;
  auto r3 = conformance::replay_file("/nonexistent/trace.jsonl", {});
  EXPECT_NE(r3.error.find("cannot open"), std::string::npos) << r3.error;
}

TEST(LineIo, ZstdRoundTripAndTruncation) {
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

TEST(Replay, DeclaredVerdictIsChecked) {
  auto r = conformance::replay_file(test::source_dir() + "/traces/violations/INV-COW-1.jsonl", {});
  EXPECT_EQ(conformance::check_declared_verdict(r), "");
  auto clean = conformance::replay_file(test::source_dir() + "/traces/scenarios/linux/three-way-split.jsonl", {});
  EXPECT_EQ(conformance::check_declared_verdict(clean), "");
  EXPECT_EQ(clean.verdict(), conformance::Verdict::clean);
}
