// Observable state of the model as JSON, in the shape of observe expectations
// (spec/trace-format.md §3.5).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "vmref/model/model.hpp"

namespace vmref::conformance {

/// The VSL of `as`: [{"start","end","prot","shared","kind","file","offset","name"}...].
/// `name` follows Linux /proc/PID/maps: "[heap]" for a vseg overlapping the brk area.
nlohmann::json vsl_snapshot(const model::Model& m, model::Asid as);
/// One page: {"va","present","frame","prot","cow","zero","refcount","mapcount"} (frame = model id).
nlohmann::json page_snapshot(const model::Model& m, model::Asid as, model::Va va);
/// One VSL entry as a maps-like text line, for diffs.
std::string vseg_line(const nlohmann::json& entry);

}  // namespace vmref::conformance
