// The result file (`vmref replay --report`, read by `vmref report`), written and read
// back strictly: a count must be a non-negative integer, never a float or a negative
// number silently converted (spec/trace-format.md §5).
#include <fstream>

#include "vmref/conformance/proof_result.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/conformance/rule_coverage.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/trace/json_text.hpp"

namespace vmref::conformance {

using nlohmann::json;

namespace {

json findings_json(const std::vector<Finding>& v) {
  json fs = json::array();
  for (const Finding& f : v)
    fs.push_back({{"id", f.id}, {"event", f.event}, {"line", f.line}, {"op", f.op}, {"message", f.message},
                  {"diff", f.diff}});
  return fs;
}

// Typed access to one object of a result file; errors name origin and the field path.
struct Reader {
  const json& j;
  const std::string& origin;
  std::string at;

  [[noreturn]] void fail(const std::string& k, const std::string& msg) const {
    throw std::runtime_error(origin + ": field '" + at + k + "': " + msg);
  }
  const json& need(const std::string& k) const {
    if (!j.is_object()) fail("", "expected an object (not a vmref replay result)");
    if (!j.contains(k)) fail(k, "missing (not a vmref replay result)");
    return j.at(k);
  }
  std::uint64_t count(const json& v, const std::string& k) const {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
    fail(k, "expected a non-negative integer");
  }
  std::uint64_t count(const std::string& k) const { return count(need(k), k); }
  std::string text(const json& v, const std::string& k) const {
    if (!v.is_string()) fail(k, "expected a string");
    return v.get<std::string>();
  }
  std::string text(const std::string& k) const { return text(need(k), k); }
};

std::vector<Finding> findings_from(const Reader& parent, const std::string& key) {
  const json& a = parent.need(key);
  if (!a.is_array()) parent.fail(key, "expected an array");
  std::vector<Finding> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    Reader f{a[i], parent.origin, parent.at + key + "[" + std::to_string(i) + "]."};
    out.push_back({f.text("id"), f.count("event"), f.count("line"), f.text("op"), f.text("message"),
                   f.j.is_object() && f.j.contains("diff") ? f.text("diff") : ""});
  }
  return out;
}

}  // namespace

json result_to_json(const ReplayResult& r) {
  json fs = findings_json(r.findings);
  return {{"vmref_result", 1},
          {"file", r.file},
          {"header", json(trace::header_to_json(r.header))},
          {"verdict", to_string(r.verdict())},
          {"events", r.events},
          {"checks", r.checks},
          {"expectations", r.expectations},
          {"findings_total", r.findings_total},
          {"by_id", r.by_id},
          {"findings", fs},
          {"undetermined_total", r.undetermined_total},
          {"undetermined", findings_json(r.undetermined)},
          {"seconds", r.seconds},
          {"rules", json(rule_coverage_json(r.rules))},
          {"impl", r.impl},
          {"mutant", r.mutant},
          {"format_params", r.format_params},
          {"model_only", r.model_only},
          {"params", r.params},
          {"reproduce", reproduce_command(r)},
          {"error", r.error}};
}

ReplayResult result_from_json(const json& j, const std::string& origin) {
  Reader in{j, origin, ""};
  ReplayResult r;
  if (in.count("vmref_result") != 1) in.fail("vmref_result", "unsupported version");
  r.file = in.text("file");
  const json& h = in.need("header");
  Reader hr{h, origin, "header."};
  r.header.profile = h.is_object() && h.contains("profile") ? hr.text("profile") : "?";
  r.events = in.count("events");
  r.checks = in.count("checks");
  r.expectations = in.count("expectations");
  r.findings_total = in.count("findings_total");
  const json& by = in.need("by_id");
  if (!by.is_object()) in.fail("by_id", "expected an object {ID: count}");
  for (auto it = by.begin(); it != by.end(); ++it) r.by_id[it.key()] = in.count(*it, "by_id." + it.key());
  r.findings = findings_from(in, "findings");
  if (j.contains("undetermined_total")) r.undetermined_total = in.count("undetermined_total");
  if (j.contains("undetermined")) r.undetermined = findings_from(in, "undetermined");
  const json& sec = in.need("seconds");
  if (!sec.is_number() || !(sec.get<double>() >= 0) || sec.get<double>() > 1e9)
    in.fail("seconds", "expected a duration in seconds");
  r.seconds = sec.get<double>();
  if (j.contains("rules")) {
    const json& rules = in.need("rules");
    if (!rules.is_object()) in.fail("rules", "expected an object {rule: hits}");
    for (auto it = rules.begin(); it != rules.end(); ++it)
      r.rules.push_back({it.key(), "", "", in.count(*it, "rules." + it.key())});
  }
  if (j.contains("impl")) r.impl = in.text("impl");
  if (j.contains("mutant")) r.mutant = in.text("mutant");
  if (j.contains("format_params")) {
    const json& fp = in.need("format_params");
    if (!fp.is_object()) in.fail("format_params", "expected an object {name: value}");
    for (auto it = fp.begin(); it != fp.end(); ++it) {
      const std::uint64_t v = in.count(*it, "format_params." + it.key());
      if (v > UINT32_MAX) in.fail("format_params." + it.key(), "value out of range");
      r.format_params[it.key()] = static_cast<unsigned>(v);
    }
  }
  if (j.contains("params")) {
    const json& pr = in.need("params");
    if (!pr.is_object()) in.fail("params", "expected an object {name: value}");
    for (auto it = pr.begin(); it != pr.end(); ++it)
      if (!it->is_primitive() || it->is_null()) in.fail("params." + it.key(), "expected a number, string or boolean");
    r.params = pr;
  }
  if (j.contains("model_only")) {
    if (!j["model_only"].is_boolean()) in.fail("model_only", "expected true or false");
    r.model_only = j["model_only"].get<bool>();
  }
  r.error = in.text("error");
  return r;
}

std::vector<ReplayResult> load_results(const std::string& path) {
  std::vector<ReplayResult> out;
  std::vector<ProofRow> proofs;
  load_report_input(path, out, proofs);
  if (!proofs.empty()) throw std::runtime_error(path + ": a vmref prove report, not replay results");
  return out;
}

void load_report_input(const std::string& path, std::vector<ReplayResult>& results, std::vector<ProofRow>& proofs) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open");
  json j = trace::parse_json(f, path);
  if (is_proof_report(j)) {
    for (ProofRow& p : proofs_from_json(j, path)) proofs.push_back(std::move(p));
    return;
  }
  if (!j.is_array()) {
    results.push_back(result_from_json(j, path));
    return;
  }
  for (std::size_t i = 0; i < j.size(); ++i) results.push_back(result_from_json(j[i], path + "[" + std::to_string(i) + "]"));
}

json proofs_to_json(const std::vector<ProofRow>& rows, const json& request) {
  json out = request;
  out["obligations"] = json::array();
  for (const ProofRow& p : rows)
    out["obligations"].push_back({{"kind", p.kind}, {"owner", p.owner}, {"profile", p.profile}, {"id", p.id}, {"op", p.op},
                                  {"cite", p.cite}, {"status", p.status}, {"detail", p.detail}, {"trace", p.trace},
                                  {"replay", p.replay}, {"confirmed", p.confirmed}, {"seconds", p.seconds}});
  return out;
}

bool is_proof_report(const json& j) { return j.is_object() && j.contains("obligations"); }

std::vector<ProofRow> proofs_from_json(const json& j, const std::string& origin) {
  const json& a = j.at("obligations");
  if (!a.is_array()) throw std::runtime_error(origin + ": field 'obligations': expected an array");
  std::vector<ProofRow> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    Reader r{a[i], origin, "obligations[" + std::to_string(i) + "]."};
    ProofRow p{r.text("kind"), r.text("owner"), r.text("profile"), r.text("id"), r.text("op"), r.text("cite"),
               r.text("status"), r.text("detail"), r.text("trace"), r.text("replay")};
    if (p.status != "proved" && p.status != "counterexample" && p.status != "unknown")
      r.fail("status", "expected proved, counterexample or unknown");
    const json& c = r.need("confirmed");
    if (!c.is_boolean()) r.fail("confirmed", "expected true or false");
    p.confirmed = c.get<bool>();
    const json& s = r.need("seconds");
    if (!s.is_number() || s.get<double>() < 0) r.fail("seconds", "expected a non-negative number");
    p.seconds = s.get<double>();
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace vmref::conformance
