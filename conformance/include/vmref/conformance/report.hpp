// Conformance reports over one or more replay results: Markdown, HTML, JUnit XML.
#pragma once

#include <string>
#include <vector>

#include "vmref/conformance/proof_result.hpp"
#include "vmref/conformance/replay.hpp"

namespace vmref::conformance {

/// Markdown: totals, a verdict table per trace (with undetermined counts), a table per ID
/// (the invariants of the traces' kernels, the expectation kinds, any other ID seen), the
/// findings with their diffs, the undetermined cases, then the proof obligations
/// (`vmref prove --report` results), if any.
std::string report_markdown(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs = {});
/// A standalone HTML page with the same content: traces link to their findings
/// (#trace-N), finding IDs to their rule (#id-ID); `generator` (tool version and time,
/// say) is printed under the totals when given.
std::string report_html(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs = {},
                        const std::string& generator = "");
struct JunitOptions {
  /// As `vmref replay --expect-declared`: each trace passes when it gives the verdict its
  /// header declares, so declared findings and bad input are output, not failures.
  bool expect_declared = false;
};
/// JUnit XML (valid against the Jenkins xunit plugin's junit-10.xsd): one <testsuite>
/// per trace, named by its path; classname "<profile>.<trace name>"; one <testcase> for
/// "input" (bad input is an <error>), one per invariant of the trace's kernel (core and
/// its own; a <failure> lists that ID's findings with event and line), "expectations"
/// (EXPECT-*), one per other ID seen (DIFF-*), "undetermined" as <skipped> when the model
/// could not decide, and "declared verdict" under `expect_declared`. Proofs form one
/// more <testsuite>: a counterexample is a <failure>, an unknown an <error>. Text that
/// XML cannot carry (control characters, bytes outside UTF-8) is written as "\xNN".
std::string report_junit(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs = {},
                         const JunitOptions& opt = {});
/// SARIF 2.1.0 (what GitHub and GitLab code scanning read): one run of tool "vmref"
/// `version`; a rule per ID cited (its one-line rule as shortDescription); a result per
/// kept finding (ruleId = the ID, kind "fail", level "error", located at the trace file
/// and line), per undetermined case (kind "review", level "none"), per bad input
/// (ruleId "BAD-INPUT" at the line the error names) and per proof counterexample (at its
/// trace) or unknown (kind "open").
std::string report_sarif(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs,
                         const std::string& version);
/// KTAP version 1 (Linux Documentation/dev-tools/ktap.rst, as kunit.py reads it): one test
/// per trace with subtests "input", one per ID a report lists for it (findings as
/// diagnostic lines), and "undetermined" (# SKIP when the model could not decide); proofs
/// as one more test (an unknown is # SKIP).
std::string report_ktap(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs = {});

}  // namespace vmref::conformance
