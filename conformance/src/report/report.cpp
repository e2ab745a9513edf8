#include "vmref/conformance/report.hpp"

#include <fmt/format.h>

#include "vmref/model/invariants.hpp"

namespace vmref::conformance {

namespace {

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string md_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else if (c == '\n') o += "<br>";
    else o += c;
  }
  return o;
}

/// IDs reported: the catalog, then any other ID seen (expectation mismatches).
std::vector<std::string> all_ids(const std::vector<ReplayResult>& rs) {
  std::vector<std::string> ids;
  for (const auto& inv : model::invariants()) ids.push_back(inv.id);
  for (const char* x : {"EXPECT-ERRNO", "EXPECT-RET", "EXPECT-ACCESS", "EXPECT-VSL", "EXPECT-VSL-SPLIT", "EXPECT-PAGE"})
    ids.push_back(x);
  for (const auto& r : rs)
    for (const auto& [id, n] : r.by_id)
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  return ids;
}

const char* rule_of(const std::string& id) {
  for (const auto& inv : model::invariants())
    if (id == inv.id) return inv.rule;
  return "the recorded outcome matches the model (spec/trace-format.md §5)";
}

/// What a proof row says beyond its status: the detail, the trace and the replay verdict.
std::string proof_text(const ProofRow& p) {
  if (p.status == "proved") return "";
  std::string t = p.detail;
  if (!p.trace.empty()) t += "\ntrace: " + p.trace + " (vmref replay --expect-declared " + p.trace + ")";
  if (!p.replay.empty()) t += "\n" + p.replay;
  return t;
}

std::string proof_name(const ProofRow& p) { return p.id + (p.op.empty() ? "" : " " + p.op); }

}  // namespace

std::string report_markdown(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs) {
  std::string o = "# vmref conformance report\n\n| trace | profile | verdict | events | checks | expectations | findings |\n|---|---|---|---|---|---|---|\n";
  for (const auto& r : rs)
    o += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", md_escape(r.file), r.header.profile,
                     to_string(r.verdict()), r.events, r.checks, r.expectations, r.findings_total);
  o += "\n## By invariant\n\n| ID | rule | findings | traces |\n|---|---|---|---|\n";
  for (const auto& id : all_ids(rs)) {
    std::uint64_t n = 0, t = 0;
    for (const auto& r : rs)
      if (auto it = r.by_id.find(id); it != r.by_id.end()) n += it->second, ++t;
    o += fmt::format("| {} | {} | {} | {} |\n", id, md_escape(rule_of(id)), n, t);
  }
  o += "\n## Findings\n\n";
  for (const auto& r : rs) {
    if (!r.error.empty()) o += fmt::format("- **{}**: bad input: {}\n", md_escape(r.file), md_escape(r.error));
    for (const auto& f : r.findings)
      o += fmt::format("- **{}** {} event {} (line {}, {}): {}\n", f.id, md_escape(r.file), f.event, f.line, f.op,
                       md_escape(f.message));
    if (r.findings.size() < r.findings_total)
      o += fmt::format("- {} more findings in {} not listed\n", r.findings_total - r.findings.size(), md_escape(r.file));
  }
  if (proofs.empty()) return o;
  o += "\n## Proofs (vmref prove)\n\n| status | kind | profile | obligation | seconds | counterexample |\n|---|---|---|---|---|---|\n";
  for (const ProofRow& p : proofs)
    o += fmt::format("| {} | {} | {} | {} | {:.2f} | {} |\n", p.status, p.kind, md_escape(p.profile), md_escape(proof_name(p)),
                     p.seconds, md_escape(proof_text(p)));
  return o;
}

std::string report_html(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs) {
  std::string o =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>vmref conformance report</title>"
      "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}"
      ".clean{background:#cfc}.findings{background:#fcc}.bad-input{background:#fc9}pre{margin:0}</style></head><body>"
      "<h1>vmref conformance report</h1><table><tr><th>trace</th><th>profile</th><th>verdict</th><th>events</th>"
      "<th>checks</th><th>expectations</th><th>findings</th></tr>";
  for (const auto& r : rs)
    o += fmt::format("<tr class=\"{0}\"><td>{1}</td><td>{2}</td><td>{0}</td><td>{3}</td><td>{4}</td><td>{5}</td><td>{6}</td></tr>",
                     to_string(r.verdict()), xml_escape(r.file), xml_escape(r.header.profile), r.events, r.checks,
                     r.expectations, r.findings_total);
  o += "</table><h2>By invariant</h2><table><tr><th>ID</th><th>rule</th><th>findings</th></tr>";
  for (const auto& id : all_ids(rs)) {
    std::uint64_t n = 0;
    for (const auto& r : rs)
      if (auto it = r.by_id.find(id); it != r.by_id.end()) n += it->second;
    o += fmt::format("<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td></tr>", n ? "findings" : "clean", id,
                     xml_escape(rule_of(id)), n);
  }
  o += "</table><h2>Findings</h2><table><tr><th>ID</th><th>trace</th><th>event</th><th>line</th><th>op</th><th>message</th><th>diff</th></tr>";
  for (const auto& r : rs) {
    if (!r.error.empty())
      o += fmt::format("<tr class=\"bad-input\"><td>bad input</td><td>{}</td><td colspan=5>{}</td></tr>", xml_escape(r.file), xml_escape(r.error));
    for (const auto& f : r.findings)
      o += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>", f.id,
                       xml_escape(r.file), f.event, f.line, f.op, xml_escape(f.message), xml_escape(f.diff));
  }
  o += "</table>";
  if (!proofs.empty()) {
    o += "<h2>Proofs (vmref prove)</h2><table><tr><th>status</th><th>kind</th><th>profile</th><th>obligation</th><th>seconds</th>"
         "<th>counterexample</th></tr>";
    for (const ProofRow& p : proofs)
      o += fmt::format("<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td><td><pre>{}</pre></td></tr>",
                       p.status == "proved" ? "clean" : p.status == "unknown" ? "bad-input" : "findings", p.status, p.kind,
                       xml_escape(p.profile), xml_escape(proof_name(p)), p.seconds, xml_escape(proof_text(p)));
    o += "</table>";
  }
  return o + "</body></html>\n";
}

std::string report_junit(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs) {
  std::uint64_t tests = 0, failures = 0;
  std::string body;
  for (const auto& r : rs) {
    std::string cases;
    std::uint64_t t = 0, fl = 0;
    auto add_case = [&](const std::string& name, const std::string& failure) {
      ++t;
      cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\">", xml_escape(r.file), xml_escape(name));
      if (!failure.empty()) {
        ++fl;
        cases += fmt::format("<failure message=\"{} finding(s)\">{}</failure>", name == "input" ? 1 : r.by_id.count(name) ? r.by_id.at(name) : 0,
                             xml_escape(failure));
      }
      cases += "</testcase>\n";
    };
    add_case("input", r.error);
    for (const auto& id : all_ids(rs)) {
      std::string msg;
      for (const auto& f : r.findings)
        if (f.id == id) msg += fmt::format("event {} line {} ({}): {}\n{}", f.event, f.line, f.op, f.message, f.diff);
      if (msg.empty() && r.by_id.count(id)) msg = fmt::format("{} findings (details beyond the kept ones)\n", r.by_id.at(id));
      add_case(id, msg);
    }
    tests += t;
    failures += fl;
    body += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n{}  </testsuite>\n",
                        xml_escape(r.file), t, fl, r.seconds, cases);
  }
  if (!proofs.empty()) {
    std::string cases;
    std::uint64_t fl = 0, err = 0;
    double total = 0;
    for (const ProofRow& p : proofs) {
      total += p.seconds;
      cases += fmt::format("    <testcase classname=\"prove.{}.{}\" name=\"{}\" time=\"{:.3f}\">", xml_escape(p.profile), p.kind,
                           xml_escape(proof_name(p)), p.seconds);
      if (p.status != "proved") {
        const char* tag = p.status == "counterexample" ? "failure" : "error";
        (p.status == "counterexample" ? fl : err)++;
        cases += fmt::format("<{0} type=\"{1}\" message=\"{2}\">{3}</{0}>", tag, p.status, xml_escape(p.id),
                             xml_escape(proof_text(p)));
      }
      cases += "</testcase>\n";
    }
    tests += proofs.size();
    failures += fl;
    body += fmt::format("  <testsuite name=\"vmref prove\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\">\n{}  </testsuite>\n",
                        proofs.size(), fl, err, total, cases);
  }
  return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"{}\" failures=\"{}\">\n{}</testsuites>\n",
                     tests, failures, body);
}

}  // namespace vmref::conformance
