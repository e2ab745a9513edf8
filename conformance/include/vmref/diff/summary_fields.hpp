// Reading the --json summaries of a campaign's shards (`vmref fuzz`, a kernel's oracle)
// for `vmref report`'s merges: each error names the file and the field.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "vmref/diff/shard.hpp"

namespace vmref::diff {

/// `j[field]`; throws std::runtime_error "PATH: field 'F' is missing".
const nlohmann::ordered_json& need_field(const nlohmann::ordered_json& j, const char* field, const std::string& path);

/// Adds the object of counts `from` ({name: n}) into `into`, names containing "max"
/// taking the maximum when `max_keys`; throws naming `path` and `field` for anything else.
void add_count_fields(nlohmann::ordered_json& into, const nlohmann::ordered_json& from, bool max_keys, const std::string& path,
                      const char* field);

/// The summary's "shard" field "K/N"; throws naming `path` and the command whose --json
/// writes such summaries (`tool`: "fuzz", "oracle") for a missing or malformed one.
Shard summary_shard(const nlohmann::ordered_json& j, const std::string& path, const char* tool);

}  // namespace vmref::diff
