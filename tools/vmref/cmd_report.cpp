// vmref report RESULT.json... : merge replay (and prove) results into one conformance report.
#include <iostream>

#include "commands.hpp"
#include "vmref/conformance/report.hpp"
#include "vmref/trace/output_file.hpp"

namespace vmref::cli {

namespace {
struct ReportArgs {
  std::vector<std::string> inputs;
  std::string html, junit, md;
};

}  // namespace

Runner add_report(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  auto* c = app.add_subcommand("report", "Merge replay and prove results (`vmref replay --report`, `vmref prove --report`) into a conformance report");
  c->add_option("results", a->inputs, "Result JSON files of vmref replay or vmref prove")->required()->check(CLI::ExistingFile);
  c->add_option("--html", a->html, "Write an HTML report");
  c->add_option("--junit", a->junit, "Write a JUnit XML report");
  c->add_option("--md", a->md, "Write a Markdown report (default: Markdown on standard output)");
  return [a] {
    for (const std::string* out : {&a->html, &a->junit, &a->md})
      if (!out->empty()) trace::refuse_same_file(*out, a->inputs);
    std::vector<conformance::ReplayResult> rs;
    std::vector<conformance::ProofRow> proofs;
    for (const auto& p : a->inputs) conformance::load_report_input(p, rs, proofs);
    if (!a->html.empty()) write_text(a->html, conformance::report_html(rs, proofs));
    if (!a->junit.empty()) write_text(a->junit, conformance::report_junit(rs, proofs));
    if (!a->md.empty()) write_text(a->md, conformance::report_markdown(rs, proofs));
    if (a->html.empty() && a->junit.empty() && a->md.empty()) std::cout << conformance::report_markdown(rs, proofs);
    int rc = kExitClean;
    for (const auto& r : rs)
      rc = std::max(rc, exit_code(r.verdict()));
    for (const auto& p : proofs)
      if (p.status != "proved") rc = std::max(rc, kExitFindings);  // an unknown is never a pass
    return rc;
  };
}

}  // namespace vmref::cli
