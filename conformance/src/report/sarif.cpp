// SARIF 2.1.0 (OASIS "Static Analysis Results Interchange Format", the format GitHub and
// GitLab code scanning read) for replay and prove results: one run, one rule per ID
// reported, one result per finding located at its trace file and line.
#include <nlohmann/json.hpp>

#include "report_ids.hpp"
#include "vmref/conformance/report.hpp"

namespace vmref::conformance {

namespace {
using json = nlohmann::ordered_json;

json location(const std::string& file, std::uint64_t line) {
  json region = json::object();
  if (line) region["startLine"] = line;
  json phys{{"artifactLocation", {{"uri", file}}}};
  if (line) phys["region"] = region;
  return json::array({{{"physicalLocation", phys}}});
}

/// The line of a bad-input error "file:line: ...", 0 when it names none.
std::uint64_t error_line(const std::string& file, const std::string& error) {
  if (error.rfind(file + ":", 0) != 0) return 0;
  std::uint64_t n = 0;
  for (std::size_t i = file.size() + 1; i < error.size() && error[i] >= '0' && error[i] <= '9'; ++i)
    n = n * 10 + static_cast<std::uint64_t>(error[i] - '0');
  return n;
}

/// Rules are listed once, in the order results first cite them.
struct Rules {
  json list = json::array();
  std::map<std::string, std::size_t> index;
  std::size_t of(const std::string& id) {
    auto [it, fresh] = index.emplace(id, list.size());
    if (fresh) list.push_back({{"id", id}, {"shortDescription", {{"text", report_ids::rule_of(id)}}}});
    return it->second;
  }
};

json result(Rules& rules, const std::string& id, const std::string& level, const std::string& kind,
            const std::string& text, const std::string& file, std::uint64_t line) {
  return {{"ruleId", id},  {"ruleIndex", rules.of(id)}, {"kind", kind},
          {"level", level}, {"message", {{"text", text}}}, {"locations", location(file, line)}};
}
}  // namespace

std::string report_sarif(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs,
                         const std::string& version) {
  Rules rules;
  json results = json::array();
  bool ok = true;
  for (const ReplayResult& r : rs) {
    if (!r.error.empty()) {
      ok = false;
      results.push_back(result(rules, "BAD-INPUT", "error", "fail", r.error, r.file, error_line(r.file, r.error)));
      continue;
    }
    for (const Finding& f : r.findings) {
      results.push_back(result(rules, f.id, "error", "fail",
                               "event " + std::to_string(f.event) + " (" + f.op + "): " + f.message +
                                   (f.diff.empty() ? "" : "\n" + f.diff),
                               r.file, f.line));
      // Code scanning merges results with equal fingerprints: one alert per bug and trace.
      results.back()["partialFingerprints"] = {{"vmrefTitle/v1", finding_title(f)}};
      results.back()["properties"] = {{"reproduce", reproduce_command(r)}};
    }
    // Undetermined cases are neither a pass nor a failure: a human (or the kernel's
    // next view) decides them, which SARIF calls "review".
    for (const Finding& u : r.undetermined)
      results.push_back(result(rules, u.id, "none", "review", u.message, r.file, u.line));
  }
  for (const ProofRow& p : proofs) {
    if (p.status == "proved") continue;
    bool cex = p.status == "counterexample";
    results.push_back(result(rules, p.id, cex ? "error" : "warning", cex ? "fail" : "open",
                             report_ids::proof_name(p) + " (" + p.profile + "): " + report_ids::proof_text(p),
                             cex && !p.trace.empty() ? p.trace : p.cite, cex && !p.trace.empty() ? 1 : 0));
  }
  json run{{"tool", {{"driver", {{"name", "vmref"},
                                 {"version", version},
                                 {"rules", rules.list}}}}},
           {"invocations", json::array({{{"executionSuccessful", ok}}})},
           {"results", results}};
  json doc{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"}, {"version", "2.1.0"}, {"runs", json::array({run})}};
  return doc.dump(1) + "\n";
}

}  // namespace vmref::conformance
