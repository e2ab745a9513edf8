// Conformance reports over one or more replay results: Markdown, HTML, JUnit XML.
#pragma once

#include <string>
#include <vector>

#include "vmref/conformance/replay.hpp"

namespace vmref::conformance {

/// Markdown: a verdict table per trace, a table per invariant ID, then the findings.
std::string report_markdown(const std::vector<ReplayResult>& rs);
/// A standalone HTML page with the same content.
std::string report_html(const std::vector<ReplayResult>& rs);
/// JUnit XML: one <testsuite> per trace, one <testcase> per invariant ID plus
/// "expectations" and "input"; a failure lists that ID's findings with event and line.
std::string report_junit(const std::vector<ReplayResult>& rs);

}  // namespace vmref::conformance
