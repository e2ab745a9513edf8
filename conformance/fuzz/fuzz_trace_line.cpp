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
  fuzz::check_round_trip(
      "header", h, [](const trace::Header& x) { return trace::header_to_json(x).dump(); },
      [](const std::string& t) { return trace::header_from_json(trace::parse_json(t, "re-encoded", 1), "re-encoded", 1); });
}

void event_round_trip(const nlohmann::json& j) {
  vocab::Event e;
  try {
    e = trace::event_from_json(j, "fuzz", 2);
  } catch (const trace::TraceError&) {
    return;
  }
  fuzz::check_round_trip(
      "event", e, [](const vocab::Event& x) { return trace::event_to_json(x).dump(); },
      [](const std::string& t) { return trace::event_from_json(trace::parse_json(t, "re-encoded", 2), "re-encoded", 2); });
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
