#include "vmref/conformance/report.hpp"

#include <fmt/format.h>

#include "report_ids.hpp"
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

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < s.size()) {
    std::size_t nl = s.find('\n', at);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
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

using report_ids::rule_of;

/// One line of totals: traces by verdict, findings and undetermined cases.
std::string totals(const std::vector<ReplayResult>& rs) {
  std::uint64_t clean = 0, findings = 0, bad = 0, nf = 0, nu = 0;
  for (const auto& r : rs) {
    Verdict v = r.verdict();
    ++(v == Verdict::clean ? clean : v == Verdict::findings ? findings : bad);
    nf += r.findings_total, nu += r.undetermined_total;
  }
  return fmt::format("{} trace(s): {} clean, {} with findings, {} bad input; {} finding(s), {} undetermined", rs.size(),
                     clean, findings, bad, nf, nu);
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
  std::string o = "# vmref conformance report\n\n" + totals(rs) +
                  "\n\n| trace | profile | verdict | events | checks | expectations | findings | undetermined |\n"
                  "|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rs)
    o += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", md_escape(r.file), md_escape(r.header.profile),
                     to_string(r.verdict()), r.events, r.checks, r.expectations, r.findings_total, r.undetermined_total);
  o += "\n## By invariant\n\n| ID | rule | findings | traces |\n|---|---|---|---|\n";
  for (const auto& id : report_ids::ids_of(rs)) {
    std::uint64_t n = 0, t = 0;
    for (const auto& r : rs)
      if (auto it = r.by_id.find(id); it != r.by_id.end()) n += it->second, ++t;
    o += fmt::format("| {} | {} | {} | {} |\n", id, md_escape(rule_of(id)), n, t);
  }
  o += "\n## Findings\n\n";
  auto item = [&](const ReplayResult& r, const Finding& f) {
    o += fmt::format("- **{}** {} event {} (line {}, {}): {}\n", f.id, md_escape(r.file), f.event, f.line, f.op,
                     md_escape(f.message));
    if (f.diff.empty()) return;
    o += "\n  ```\n";
    for (const std::string& l : split_lines(f.diff)) o += "  " + l + "\n";
    o += "  ```\n";
  };
  for (const auto& r : rs) {
    if (!r.error.empty()) o += fmt::format("- **{}**: bad input: {}\n", md_escape(r.file), md_escape(r.error));
    for (const auto& f : r.findings) item(r, f);
    if (r.findings.size() < r.findings_total)
      o += fmt::format("- {} more findings in {} not listed\n", r.findings_total - r.findings.size(), md_escape(r.file));
  }
  o += "\n## Undetermined (never a finding, never a pass: spec/vmm.md §5)\n\n";
  for (const auto& r : rs) {
    for (const auto& f : r.undetermined) item(r, f);
    if (r.undetermined.size() < r.undetermined_total)
      o += fmt::format("- {} more undetermined in {} not listed\n", r.undetermined_total - r.undetermined.size(), md_escape(r.file));
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
      "<h1>vmref conformance report</h1><p>" + xml_escape(totals(rs)) + "</p><table><tr><th>trace</th><th>profile</th>"
      "<th>verdict</th><th>events</th><th>checks</th><th>expectations</th><th>findings</th><th>undetermined</th></tr>";
  for (const auto& r : rs)
    o += fmt::format("<tr class=\"{0}\"><td>{1}</td><td>{2}</td><td>{0}</td><td>{3}</td><td>{4}</td><td>{5}</td><td>{6}</td><td>{7}</td></tr>",
                     to_string(r.verdict()), xml_escape(r.file), xml_escape(r.header.profile), r.events, r.checks,
                     r.expectations, r.findings_total, r.undetermined_total);
  o += "</table><h2>By invariant</h2><table><tr><th>ID</th><th>rule</th><th>findings</th></tr>";
  for (const auto& id : report_ids::ids_of(rs)) {
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
  o += "</table><h2>Undetermined</h2><p>Never a finding, never a pass (spec/vmm.md §5).</p><table><tr><th>ID</th>"
       "<th>trace</th><th>event</th><th>line</th><th>op</th><th>message</th></tr>";
  for (const auto& r : rs)
    for (const auto& f : r.undetermined)
      o += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", f.id, xml_escape(r.file),
                       f.event, f.line, f.op, xml_escape(f.message));
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

}  // namespace vmref::conformance
