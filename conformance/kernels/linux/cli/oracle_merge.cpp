// `vmref report` over the --json summaries of one oracle campaign's shards (`vmref oracle
// linux --episode E --shard K/N`): the summary of the whole campaign. Each shard runs a
// fixed set of numbered episodes, so sums over the shards are the campaign's counts.
#include <fmt/format.h>

#include <set>
#include <stdexcept>

#include "commands.hpp"
#include "vmref/diff/summary_fields.hpp"

namespace vmref::cli {

namespace {

using nlohmann::ordered_json;
using diff::need_field;
using Shards = std::vector<std::pair<std::string, ordered_json>>;

bool is_oracle_summary(const ordered_json& j) {
  return j.is_object() && j.contains("vmref_oracle") && j.contains("shard") && j.contains("campaign");
}

std::uint64_t count(const ordered_json& j, const std::string& field, const std::string& path) {
  if (!j.is_number_unsigned()) throw std::runtime_error(path + ": field '" + field + "': expected a count");
  return j.get<std::uint64_t>();
}

diff::Shard shard_field(const ordered_json& j, const std::string& path) { return diff::summary_shard(j, path, "oracle"); }

ordered_json merge(const Shards& shards) {
  const auto& [first_path, first] = shards.front();
  const std::string campaign = need_field(first, "campaign", first_path).dump() + " " + need_field(first, "planned", first_path).dump();
  const unsigned n = shard_field(first, first_path).n;
  ordered_json out = first;
  for (const char* f : {"ops", "episodes", "resumed", "comparisons", "undetermined", "transients"}) out[f] = 0;
  out["op_counts"] = ordered_json::object();
  out["rules"] = ordered_json::object();
  out["seconds"] = 0.0;
  out["diverged"] = false;
  std::set<unsigned> seen;
  std::set<std::string> never_hit;
  bool first_never = true;
  const ordered_json* diverged = nullptr;
  unsigned diverged_k = 0;
  for (const auto& [path, j] : shards) {
    const diff::Shard s = shard_field(j, path);
    if (s.n != n || j["campaign"].dump() + " " + need_field(j, "planned", path).dump() != campaign)
      throw std::runtime_error(fmt::format("{}: shard {}/{} of another campaign than {} ({})", path, s.k, s.n, first_path,
                                           first["campaign"].dump()));
    if (!seen.insert(s.k).second) throw std::runtime_error(fmt::format("{}: shard {}/{} given twice", path, s.k, n));
    for (const char* f : {"ops", "episodes", "resumed", "comparisons", "undetermined", "transients"})
      out[f] = out[f].get<std::uint64_t>() + count(need_field(j, f, path), f, path);
    diff::add_count_fields(out["op_counts"], need_field(j, "op_counts", path), false, path, "op_counts");
    diff::add_count_fields(out["rules"], need_field(j, "rules", path), false, path, "rules");
    out["seconds"] = std::max(out["seconds"].get<double>(), j.value("seconds", 0.0));  // side by side
    // A rule no shard hit is one the whole campaign never hit.
    std::set<std::string> mine;
    for (const auto& r : need_field(j, "rules_never_hit", path))
      if (r.is_string()) mine.insert(r.get<std::string>());
    if (first_never) never_hit = mine, first_never = false;
    else
      for (auto it = never_hit.begin(); it != never_hit.end();) it = mine.count(*it) ? std::next(it) : never_hit.erase(it);
    if (need_field(j, "diverged", path) == true && (!diverged || s.k < diverged_k)) diverged = &j, diverged_k = s.k;
  }
  for (unsigned k = 1; k <= n; ++k)
    if (!seen.count(k))  // a partial merge would read as the whole campaign
      throw std::runtime_error(fmt::format("shard {}/{} of {} is missing", k, n, first["campaign"].get<std::string>()));
  for (const char* f : {"divergent_op", "divergent_seed", "findings", "shrunk_ops", "trace", "reproduced"}) out.erase(f);
  if (diverged) {  // the lowest shard's divergence: what the campaign reports
    out["diverged"] = true;
    for (const char* f : {"divergent_op", "divergent_seed", "findings", "shrunk_ops", "trace", "reproduced"})
      if (diverged->contains(f)) out[f] = (*diverged)[f];
  }
  out["rules_never_hit"] = never_hit;
  out["command"] = out["campaign"].get<std::string>() + " " + out["planned"].get<std::string>();
  out["shard"] = "1/1";
  out["shards"] = n;
  out["verdict"] = diverged ? "findings" : "clean";
  const double secs = out["seconds"].get<double>();
  out["ops_per_second"] = secs > 0 ? static_cast<double>(out["ops"].get<std::uint64_t>()) / secs : 0.0;
  return out;
}

std::string text(const ordered_json& m) {
  std::string t = fmt::format("{} ({} shards): {} episodes, {} ops, {} expectations compared, {}\n", m["command"].get<std::string>(),
                              m["shards"].get<unsigned>(), m["episodes"].get<std::uint64_t>(), m["ops"].get<std::uint64_t>(),
                              m["comparisons"].get<std::uint64_t>(), m["diverged"] == true ? "DIVERGED" : "no divergence");
  if (m.contains("trace")) t += "  replay it: vmref replay " + m["trace"].get<std::string>() + "\n";
  return t;
}

}  // namespace

void register_oracle_merge() { add_summary_merger({"oracle campaign summaries", is_oracle_summary, merge, text}); }

}  // namespace vmref::cli
