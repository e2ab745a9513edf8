// Compares an event's `expect` with what the model did (spec/trace-format.md §3.3-§3.5).
#pragma once

#include <vector>

#include "vmref/conformance/finding.hpp"
#include "vmref/model/model.hpp"

namespace vmref::conformance {

/// Appends a Finding per mismatch. Returns the number of expectation fields compared.
/// Throws trace::TraceError (naming "expect.<field>") for a malformed expectation.
std::size_t compare_expect(const model::Model& m, const model::Event& e, const model::Outcome& o,
                           const std::string& file, std::uint64_t index, std::vector<Finding>& out);

}  // namespace vmref::conformance
