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

using report_ids::proof_name;
using report_ids::proof_text;
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
  o += "\n## Findings by title\n\nOne row per bug: findings whose messages differ only in numbers and addresses.\n\n"
       "| title | findings | first | reproduce |\n|---|---|---|---|\n";
  for (const auto& r : rs)
    for (const FindingGroup& g : group_findings(r.findings))
      o += fmt::format("| {} | {} | {} event {} (line {}) | `{}` |\n", md_escape(g.title), g.count, md_escape(r.file),
                       g.first.event, g.first.line, md_escape(reproduce_command(r)));
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
    if (!r.findings.empty()) o += fmt::format("- {}: reproduce with `{}`\n", md_escape(r.file), md_escape(reproduce_command(r)));
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

std::string report_html(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs,
                        const std::string& generator) {
  // Anchors: #trace-N (a trace's findings), #id-ID (an ID's rule); every cell that names
  // one links to it. Long text wraps instead of squeezing the message column.
  std::string o =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>vmref conformance report</title>"
      "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;"
      "vertical-align:top}.clean{background:#cfc}.findings{background:#fcc}.bad-input{background:#fc9}"
      ".undetermined{background:#eef}td.msg{min-width:30em}code.cmd{white-space:pre-wrap;word-break:break-all}pre{margin:0;white-space:pre-wrap}</style></head><body>"
      "<h1>vmref conformance report</h1><p>" + xml_escape(totals(rs)) + "</p>";
  if (!generator.empty()) o += "<p><small>" + xml_escape(generator) + "</small></p>";
  o += "<table><tr><th>trace</th><th>profile</th><th>verdict</th><th>events</th><th>checks</th><th>expectations</th>"
       "<th>findings</th><th>undetermined</th></tr>";
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const ReplayResult& r = rs[i];
    o += fmt::format("<tr class=\"{0}\"><td><a href=\"#trace-{8}\">{1}</a></td><td>{2}</td><td>{0}</td><td>{3}</td><td>{4}</td>"
                     "<td>{5}</td><td>{6}</td><td>{7}</td></tr>",
                     to_string(r.verdict()), xml_escape(r.file), xml_escape(r.header.profile), r.events, r.checks,
                     r.expectations, r.findings_total, r.undetermined_total, i);
  }
  o += "</table><h2>By ID</h2><table><tr><th>ID</th><th>rule</th><th>findings</th><th>traces</th></tr>";
  for (const auto& id : report_ids::ids_of(rs)) {
    std::uint64_t n = 0, t = 0;
    for (const auto& r : rs)
      if (auto it = r.by_id.find(id); it != r.by_id.end()) n += it->second, ++t;
    o += fmt::format("<tr id=\"id-{0}\" class=\"{1}\"><td>{0}</td><td>{2}</td><td>{3}</td><td>{4}</td></tr>", xml_escape(id),
                     n ? "findings" : "clean", xml_escape(rule_of(id)), n, t);
  }
  o += "</table><h2>Findings by title</h2><table><tr><th>title</th><th>findings</th><th>first</th><th>reproduce</th></tr>";
  for (std::size_t i = 0; i < rs.size(); ++i)
    for (const FindingGroup& g : group_findings(rs[i].findings))
      o += fmt::format("<tr class=\"findings\"><td class=\"msg\">{}</td><td>{}</td><td><a href=\"#trace-{}\">{}</a> event {} "
                       "(line {})</td><td><code class=\"cmd\">{}</code></td></tr>",
                       xml_escape(g.title), g.count, i, xml_escape(rs[i].file), g.first.event, g.first.line,
                       xml_escape(reproduce_command(rs[i])));
  o += "</table><h2>Findings and undetermined cases, by trace</h2>";
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const ReplayResult& r = rs[i];
    o += fmt::format("<h3 id=\"trace-{}\">{} <small>({}, {})</small></h3>", i, xml_escape(r.file), xml_escape(r.header.profile),
                     to_string(r.verdict()));
    if (!r.error.empty()) o += "<p class=\"bad-input\">bad input: " + xml_escape(r.error) + "</p>";
    if (r.findings.empty() && r.undetermined.empty()) continue;
    o += "<p>reproduce: <code class=\"cmd\">" + xml_escape(reproduce_command(r)) + "</code></p>";
    o += "<table><tr><th>ID</th><th>event</th><th>line</th><th>op</th><th>message</th><th>diff</th></tr>";
    auto row = [&](const Finding& f, const char* cls) {
      o += fmt::format("<tr class=\"{}\"><td><a href=\"#id-{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td class=\"msg\">{}</td>"
                       "<td><pre>{}</pre></td></tr>",
                       cls, xml_escape(f.id), xml_escape(f.id), f.event, f.line, xml_escape(f.op), xml_escape(f.message),
                       xml_escape(f.diff));
    };
    for (const auto& f : r.findings) row(f, "findings");
    for (const auto& f : r.undetermined) row(f, "undetermined");
    o += "</table>";
    if (r.findings.size() < r.findings_total)
      o += fmt::format("<p>{} more findings not listed.</p>", r.findings_total - r.findings.size());
  }
  if (!proofs.empty()) {
    o += "<h2>Proofs (vmref prove)</h2><table><tr><th>status</th><th>kind</th><th>profile</th><th>obligation</th><th>seconds</th>"
         "<th>counterexample</th></tr>";
    for (const ProofRow& p : proofs)
      o += fmt::format("<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td><td class=\"msg\"><pre>{}</pre></td></tr>",
                       p.status == "proved" ? "clean" : p.status == "unknown" ? "bad-input" : "findings", p.status, p.kind,
                       xml_escape(p.profile), xml_escape(proof_name(p)), p.seconds, xml_escape(proof_text(p)));
    o += "</table>";
  }
  return o + "</body></html>\n";
}

}  // namespace vmref::conformance
