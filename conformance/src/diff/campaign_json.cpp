// The machine-readable summary of a campaign (`vmref fuzz --json`): what the text summary
// prints, as one JSON object a CI job or a script can read.
#include <nlohmann/json.hpp>

#include "vmref/diff/campaign.hpp"

namespace vmref::diff {

std::string campaign_json(const CampaignOptions& o, const CampaignResult& r, const std::string& version) {
  nlohmann::ordered_json j;
  j["tool"] = "vmref " + version;
  CampaignOptions ran = o;  // with the parameters the campaign ran with (the format's implied ones)
  ran.params = r.params;
  j["command"] = campaign_command(ran);
  j["profile"] = o.profile;
  j["params"] = r.params;
  j["impl"] = r.model_only ? "" : o.impl;
  j["mutant"] = o.format.mutant ? o.format.mutant->name : "";
  j["seed"] = o.seed;
  j["jobs"] = o.jobs;
  j["shard"] = std::to_string(o.shard + 1) + "/" + std::to_string(o.shards);
  j["verdict"] = r.findings || r.corpus.still_failing ? "findings" : !r.first_error.empty() ? "bad-input" : "clean";
  j["ops"] = r.ops;
  j["vmm_ops"] = r.vmm_ops;
  j["table_ops"] = r.table_ops;
  j["seconds"] = r.seconds;
  j["ops_per_second"] = r.seconds > 0 ? static_cast<double>(r.ops) / r.seconds : 0.0;
  j["findings"] = r.findings;
  j["by_id"] = r.by_id;
  j["op_kinds"] = r.op_kinds;
  j["shapes"] = r.shapes;
  j["examples"] = nlohmann::ordered_json::array();
  for (const Counterexample& c : r.examples) {
    bool tables = c.file.find(".tables.") != std::string::npos;
    std::string replay = c.file.empty() ? ""
                         : tables      ? "vmref fuzz --replay " + c.file +
                                        (o.format.mutant ? std::string(" --mutant ") + o.format.mutant->name : "")
                                       : "vmref replay " + c.file;
    j["examples"].push_back({{"id", c.id},
                             {"message", c.message},
                             {"file", c.file},
                             {"replay", replay},
                             {"original", c.original},
                             {"minimized", c.minimized},
                             {"reproduces", c.reproduces}});
  }
  j["harness_error"] = r.first_error;
  j["model_only"] = r.model_only;
  j["interrupted"] = r.interrupted;
  if (!o.corpus_dir.empty()) {
    j["resumed"] = r.resumed;
    j["corpus"] = {{"dir", o.corpus_dir},
                   {"traces", r.corpus.traces},
                   {"still_failing", r.corpus.still_failing},
                   {"unusable", r.corpus.unusable},
                   {"by_id", r.corpus.by_id},
                   {"failing", r.corpus.failing},
                   {"errors", r.corpus.errors}};
  }
  return j.dump(1) + "\n";
}

}  // namespace vmref::diff
