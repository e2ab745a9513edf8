// Conformance reports over one or more replay results: Markdown, HTML, JUnit XML.
#pragma once

#include <string>
#include <vector>

#include "vmref/conformance/proof_result.hpp"
#include "vmref/conformance/replay.hpp"

namespace vmref::conformance {

/// Markdown: a verdict table per trace, a table per invariant ID, the findings, then the
/// proof obligations (`vmref prove --report` results), if any.
std::string report_markdown(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs = {});
/// A standalone HTML page with the same content.
std::string report_html(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs = {});
/// JUnit XML: one <testsuite> per trace, one <testcase> per invariant ID plus
/// "expectations" and "input"; a failure lists that ID's findings with event and line.
/// Proofs form one more <testsuite>: a counterexample is a <failure>, an unknown an <error>.
std::string report_junit(const std::vector<ReplayResult>& rs, const std::vector<ProofRow>& proofs = {});

}  // namespace vmref::conformance
