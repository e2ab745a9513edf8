// The linux operations' trace fields (spec/trace-format.md, spec/kernels/linux.md §2):
// each defect names its field, and every field survives a JSON round trip.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "vmref/trace/error.hpp"

using namespace vmref;

namespace {
/// The field a decoding error names, or "(accepted)".
std::string field_of(const char* line) {
  try {
    trace::event_from_json(nlohmann::json::parse(line), "t", 1);
  } catch (const trace::TraceError& e) {
    return e.field;
  }
  return "(accepted)";
}
}  // namespace

TEST(Linux_Codec, DefectsNameTheirField) {
  EXPECT_EQ(field_of(R"({"op":"munmap","as":1,"addr":"0x1000","len":"0x1000","tbl":"none"})"), "tbl");
  EXPECT_EQ(field_of(R"({"op":"munmap","as":1,"addr":"0xZZ","len":"0x1"})"), "addr");
  EXPECT_EQ(field_of(R"({"op":"munmap","as":1,"len":"0x1"})"), "addr");
  EXPECT_EQ(field_of(R"({"op":"mmap","as":1,"len":"0x1000","prot":"rwz"})"), "prot");
  EXPECT_EQ(field_of(R"({"op":"mprotect","as":1,"addr":"0x1000","len":"0x1000","prot":"rw"})"), "prot");
  EXPECT_EQ(field_of(R"({"op":"munmap","as":1,"addr":"0x11112222333344445","len":"0x1"})"), "addr");
  EXPECT_EQ(field_of(R"({"op":"munmap","as":1,"addr":"0x1000","len":"0x1000"})"), "(accepted)");
}

TEST(Linux_Codec, EventsRoundTripThroughJson) {
  for (const char* line : {
           R"({"op":"mmap","as":3,"addr":"0x10000","len":"0x3000","prot":"r-x","flags":["private","fixed"],"file":{"id":"8:1:9","path":"/bin/x","writable":false},"offset":"0x2000"})",
           R"({"op":"mprotect","as":1,"addr":"0x1000","len":"0x2000","prot":"rw-"})",
           R"({"op":"fork","as":1,"child":2})"}) {
    vocab::Event e = test::ev(line);
    EXPECT_EQ(nlohmann::json(trace::event_to_json(e)), nlohmann::json::parse(line)) << line;
  }
}
