// `vmref report` over the --json summaries of one campaign's shards (`vmref fuzz --shard
// K/N`): the summary the unsharded campaign would have written. Every shard runs a fixed
// set of numbered episodes, so sums over the shards are the whole campaign's counts.
#include <set>
#include <stdexcept>

#include "vmref/diff/campaign.hpp"
#include "vmref/diff/summary_fields.hpp"
#include "command_words.hpp"

namespace vmref::diff {

using nlohmann::ordered_json;

namespace {

/// The campaign a summary belongs to: its command without --shard, --jobs and --corpus
/// (machines may run their shard with different jobs and corpora; the episodes are the same).
std::string campaign_of(const std::string& command) {
  return without_options(command, {"--shard", "--jobs", "--corpus"});
}

/// (K, N) of a summary's "shard" field "K/N".
std::pair<unsigned, unsigned> shard_field(const ordered_json& j, const std::string& path) {
  const Shard sh = summary_shard(j, path, "fuzz");
  return {sh.k, sh.n};
}

}  // namespace

bool is_campaign_summary(const nlohmann::ordered_json& j) {
  return j.is_object() && j.contains("command") && j["command"].is_string() &&
         j["command"].get<std::string>().rfind("vmref fuzz ", 0) == 0;
}

ordered_json merge_campaign_summaries(const std::vector<std::pair<std::string, ordered_json>>& shards) {
  if (shards.empty()) throw std::runtime_error("no campaign summary to merge");
  const auto& [first_path, first] = shards.front();
  const std::string campaign = campaign_of(need_field(first, "command", first_path).get<std::string>());
  const unsigned n = shard_field(first, first_path).second;
  std::set<unsigned> seen;
  ordered_json out = first;
  for (const char* f : {"ops", "vmm_ops", "table_ops", "findings"}) out[f] = 0;
  for (const char* f : {"by_id", "op_kinds", "shapes"}) out[f] = ordered_json::object();
  out["examples"] = ordered_json::array();
  out["seconds"] = 0.0;
  out["harness_error"] = "";
  out["interrupted"] = false;
  std::set<std::string> example_ids;
  for (const auto& [path, j] : shards) {
    if (!is_campaign_summary(j)) throw std::runtime_error(path + ": not a `vmref fuzz --json` summary");
    const auto [k, m] = shard_field(j, path);
    if (m != n || campaign_of(j["command"].get<std::string>()) != campaign)
      throw std::runtime_error(path + ": shard " + std::to_string(k) + "/" + std::to_string(m) + " of another campaign than " +
                               first_path + " (" + campaign + ")");
    if (!seen.insert(k).second) throw std::runtime_error(path + ": shard " + std::to_string(k) + "/" + std::to_string(n) + " given twice");
    for (const char* f : {"ops", "vmm_ops", "table_ops", "findings"}) {
      const ordered_json& v = need_field(j, f, path);
      if (!v.is_number_unsigned()) throw std::runtime_error(path + ": field '" + f + "': expected a count");
      out[f] = out[f].get<std::uint64_t>() + v.get<std::uint64_t>();
    }
    add_count_fields(out["by_id"], need_field(j, "by_id", path), false, path, "by_id");
    add_count_fields(out["op_kinds"], need_field(j, "op_kinds", path), false, path, "op_kinds");
    add_count_fields(out["shapes"], need_field(j, "shapes", path), true, path, "shapes");
    for (const ordered_json& e : need_field(j, "examples", path))  // one counterexample per ID, as one campaign keeps
      if (e.is_object() && e.contains("id") && example_ids.insert(e["id"].dump()).second) out["examples"].push_back(e);
    out["seconds"] = std::max(out["seconds"].get<double>(), j.value("seconds", 0.0));  // the shards run side by side
    if (out["harness_error"].get<std::string>().empty()) out["harness_error"] = j.value("harness_error", std::string());
    out["interrupted"] = out["interrupted"].get<bool>() || j.value("interrupted", false);
    if (j.contains("resumed") && j["resumed"].is_number_unsigned())
      out["resumed"] = (k == 1 ? 0 : out.value("resumed", std::uint64_t{0})) + j["resumed"].get<std::uint64_t>();
  }
  for (unsigned k = 1; k <= n; ++k)
    if (!seen.count(k))  // a partial merge would read as the whole campaign
      throw std::runtime_error("shard " + std::to_string(k) + "/" + std::to_string(n) + " of " + campaign + " is missing");
  const std::uint64_t findings = out["findings"].get<std::uint64_t>();
  out["command"] = campaign;
  out["shard"] = "1/1";
  out["shards"] = n;
  out["verdict"] = findings ? "findings" : !out["harness_error"].get<std::string>().empty() ? "bad-input" : "clean";
  const double secs = out["seconds"].get<double>();
  out["ops_per_second"] = secs > 0 ? static_cast<double>(out["ops"].get<std::uint64_t>()) / secs : 0.0;
  return out;
}

}  // namespace vmref::diff
