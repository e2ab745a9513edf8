// Fuzz target: the report JSON (`vmref replay --report`, read by `vmref report`): the
// strict JSON reader on a whole file, conformance::result_from_json on the object or on
// each element of an array (as load_results does), then the three report writers on
// what was accepted. Bad input must give std::runtime_error (trace::TraceError is one)
// naming the field; anything else escaping is a bug. An accepted result must survive
// result_to_json -> result_from_json unchanged.
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/conformance/report.hpp"
#include "vmref/trace/json_text.hpp"

using namespace vmref;

namespace {

void round_trip(const conformance::ReplayResult& r) {
  fuzz::check_round_trip(
      "result", r, [](const conformance::ReplayResult& x) { return conformance::result_to_json(x).dump(); },
      [](const std::string& t) { return conformance::result_from_json(trace::parse_json(t, "re-encoded", 1), "re-encoded"); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::init();
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size), std::ios::binary);
  std::vector<conformance::ReplayResult> rs;
  try {
    nlohmann::json j = trace::parse_json(in, "fuzz.json");
    if (!j.is_array()) {
      rs.push_back(conformance::result_from_json(j, "fuzz.json"));
    } else {
      for (std::size_t i = 0; i < j.size(); ++i)
        rs.push_back(conformance::result_from_json(j[i], "fuzz.json[" + std::to_string(i) + "]"));
    }
  } catch (const std::runtime_error&) {
    return 0;
  }
  for (const auto& r : rs) round_trip(r);
  (void)conformance::report_markdown(rs);
  (void)conformance::report_html(rs);
  (void)conformance::report_junit(rs);
  return 0;
}
