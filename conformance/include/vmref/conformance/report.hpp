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

}  // namespace vmref::conformance
