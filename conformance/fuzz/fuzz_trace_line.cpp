// Fuzz target: one line of a JSON Lines trace (spec/trace-format.md §1-§3), through the
// strict JSON reader (trace::parse_json: depth, duplicate keys, number range) and both
// decoders, the header's and the events' (every operation of the registry). Bad input
// must give trace::TraceError; anything else escaping is a bug. What decodes must
// re-encode canonically and decode again to the same canonical line (no silent change).
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/json_text.hpp"

using namespace vmref;

namespace {

void header_round_trip(const nlohmann::json& j) {
  trace::Header h;
  try {
    h = trace::header_from_json(j, "fuzz", 1);
  } catch (const trace::TraceError&) {
    return;
  }
  std::string once = trace::header_to_json(h).dump();
  trace::Header again;
  try {
    again = trace::header_from_json(trace::parse_json(once, "re-encoded", 1), "re-encoded", 1);
  } catch (const trace::TraceError& e) {
    fuzz::broken("a decoded header does not decode after re-encoding: " + once + ": " + e.what());
  }
  std::string twice = trace::header_to_json(again).dump();
  if (twice != once) fuzz::broken("header re-encoding changed it:\n  " + once + "\n  " + twice);
}

void event_round_trip(const nlohmann::json& j) {
  vocab::Event e;
  try {
    e = trace::event_from_json(j, "fuzz", 2);
  } catch (const trace::TraceError&) {
    return;
  }
  std::string once = trace::event_to_json(e).dump();
  vocab::Event again;
  try {
    again = trace::event_from_json(trace::parse_json(once, "re-encoded", 2), "re-encoded", 2);
  } catch (const trace::TraceError& err) {
    fuzz::broken("a decoded event does not decode after re-encoding: " + once + ": " + err.what());
  }
  std::string twice = trace::event_to_json(again).dump();
  if (twice != once) fuzz::broken("event re-encoding changed it:\n  " + once + "\n  " + twice);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::init();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json j;
  try {
    j = trace::parse_json(text, "fuzz", 1);
  } catch (const trace::TraceError&) {
    return 0;
  }
  header_round_trip(j);
  event_round_trip(j);
  return 0;
}
