#include "vmref/diff/summary_fields.hpp"

#include <algorithm>
#include <stdexcept>

namespace vmref::diff {

using nlohmann::ordered_json;

const ordered_json& need_field(const ordered_json& j, const char* field, const std::string& path) {
  if (!j.contains(field)) throw std::runtime_error(path + ": field '" + field + "' is missing");
  return j[field];
}

void add_count_fields(ordered_json& into, const ordered_json& from, bool max_keys, const std::string& path, const char* field) {
  if (!from.is_object()) throw std::runtime_error(path + ": field '" + field + "': expected an object of counts");
  for (const auto& [k, v] : from.items()) {
    if (!v.is_number_unsigned()) throw std::runtime_error(path + ": field '" + field + "." + k + "': expected a count");
    const std::uint64_t x = v.get<std::uint64_t>(), y = into.value(k, std::uint64_t{0});
    into[k] = max_keys && k.find("max") != std::string::npos ? std::max(x, y) : x + y;
  }
}

Shard summary_shard(const ordered_json& j, const std::string& path, const char* tool) {
  const std::string s = j.contains("shard") && j["shard"].is_string() ? j["shard"].get<std::string>() : "";
  const std::string bad = path + ": field 'shard': expected \"K/N\" (a summary of `vmref " + tool + " --json`)";
  if (s.empty()) throw std::runtime_error(bad);  // parse_shard reads "" as the whole job
  try {
    return parse_shard(s);
  } catch (const std::invalid_argument&) {
    throw std::runtime_error(bad);
  }
}

}  // namespace vmref::diff
