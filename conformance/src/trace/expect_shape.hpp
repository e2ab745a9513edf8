// Shape checks of the user-supplied JSON a codec keeps as-is (an event's `expect`, the
// header's `provenance.expected`), done when the line is read, so a malformed value is an
// error naming its line and field (spec/trace-format.md §2, §3.3-§3.5) in every command,
// `convert` included, and never a library exception later.
#pragma once

#include <nlohmann/json.hpp>

#include "vmref/trace/fields.hpp"

namespace vmref::trace {

/// `expect`: known keys with the types §3.3 gives; vsl entries and pages as §3.5.
void check_expect_shape(const nlohmann::json& x, const Fields& f);
/// `provenance.expected`: {"verdict": "clean"|"findings"|"bad-input", "ids": [string],
/// "undetermined": integer, "error": string}.
void check_declared_shape(const nlohmann::json& x, const Fields& f);
/// `provenance.replay`: {"impl": format, "mutant": name, "params": {name: integer}}, what
/// a plain replay runs in lock step (a fuzz counterexample's reproduction).
void check_replay_shape(const nlohmann::json& x, const Fields& f);

}  // namespace vmref::trace
