// vmref oracle linux : differential testing of the model against the live kernel.
#include <fmt/format.h>

#include <iostream>

#include "commands.hpp"
#include "linux_oracle.hpp"
#include "vmref/conformance/rule_coverage.hpp"

namespace vmref::cli {

namespace {
/// What decides the campaign's episodes (the corpus's and the shard merge's identity):
/// its command without --ops, --time, --shard and --corpus.
std::string episodes_identity(const oracle::OracleOptions& o) {
  std::string c = fmt::format("vmref oracle linux --profile {} --seed {} --processes {} --window-pages {}", o.profile, o.seed,
                              o.processes, o.window_pages);
  if (o.episode) c += fmt::format(" --episode {}", o.episode);
  return c;
}

/// The command that reruns the campaign.
std::string oracle_command(const oracle::OracleOptions& o) {
  std::string c = episodes_identity(o);
  c += o.seconds > 0 ? fmt::format(" --time {}", o.seconds) : fmt::format(" --ops {}", o.ops);
  if (o.shards > 1) c += fmt::format(" --shard {}/{}", o.shard + 1, o.shards);
  if (!o.corpus_dir.empty()) c += " --corpus " + o.corpus_dir;
  return c;
}

nlohmann::ordered_json result_json(const oracle::OracleOptions& o, const oracle::OracleResult& r) {
  nlohmann::ordered_json j{{"vmref_oracle", 1},
                           {"command", oracle_command(o)},
                           {"campaign", o.identity},
                           {"planned", o.seconds > 0 ? fmt::format("--time {}", o.seconds) : fmt::format("--ops {}", o.ops)},
                           {"shard", fmt::format("{}/{}", o.shard + 1, o.shards)},
                           {"verdict", r.diverged ? "findings" : "clean"},
                           {"episodes", r.episodes},
                           {"resumed", r.resumed},
                           {"kernel", "linux"},
                           {"profile", o.profile},
                           {"seed", o.seed},
                           {"processes", o.processes},
                           {"ops", r.ops},
                           {"seconds", r.seconds},
                           {"ops_per_second", r.ops / std::max(r.seconds, 1e-9)},
                           {"comparisons", r.comparisons},
                           {"undetermined", r.undetermined},
                           {"transients", r.transients},
                           {"op_counts", r.op_counts},
                           {"diverged", r.diverged}};
  if (r.diverged) {
    nlohmann::ordered_json fs = nlohmann::ordered_json::array();
    for (const auto& f : r.findings) fs.push_back({{"id", f.id}, {"message", f.message}});
    j["divergent_op"] = r.divergent_op;
    j["divergent_seed"] = r.divergent_seed;
    j["findings"] = fs;
    j["shrunk_ops"] = r.shrunk_ops;
    j["trace"] = r.trace;
    j["reproduced"] = r.reproduced;
  }
  j["rules"] = conformance::rule_coverage_json(r.rules);
  j["rules_not_generated"] = oracle::rules_not_generated();
  j["rules_never_hit"] = conformance::rules_never_hit(r.rules, oracle::rules_not_generated());
  return j;
}
}  // namespace

Runner add_oracle(CLI::App& app) {
  auto o = std::make_shared<oracle::OracleOptions>();
  auto kernel = std::make_shared<std::string>();
  auto no_shrink = std::make_shared<bool>(false);
  auto json_out = std::make_shared<std::string>();
  auto shard = std::make_shared<std::string>();
  auto* c = app.add_subcommand("oracle", "Run random memory operations on the live kernel and the model in lock step, comparing after each (needs root)");
  c->add_option("kernel", *kernel, "Oracle kernel: linux")->required()->check(CLI::IsMember({"linux"}));
  c->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  auto* ops = c->add_option("--ops", o->ops, "Operations to run")->capture_default_str();
  c->add_option("--time", o->seconds, "Run for this many seconds instead of --ops")->excludes(ops);
  c->add_option("--processes", o->processes, "Most worker processes alive at once")->capture_default_str()->check(CLI::Range(1, 16));
  c->add_option("--profile", o->profile, "Model profile, e.g. linux or linux:no-zero-page (a broken variant)")->capture_default_str();
  c->add_option("--window-pages", o->window_pages, "Pages in the reserved window")->capture_default_str()->check(CLI::Range(16, 4096));
  c->add_option("--out", o->out_dir, "Directory for the minimized divergence trace")->capture_default_str();
  c->add_flag("--no-shrink", *no_shrink, "Write the whole divergent sequence instead of shrinking it");
  c->add_option("--episode", o->episode,
                "Operations per episode, each on fresh processes and seeded from --seed and its number (0: one episode)")
      ->capture_default_str();
  c->add_option("--shard", *shard, "Run shard K of N (every N-th episode from the K-th; needs --episode); `vmref report` merges the --json files");
  c->add_option("--corpus", o->corpus_dir,
                "Corpus directory: skip episodes an earlier run of this campaign finished (DIR/progress.json), record "
                "those this run finishes, write the divergence trace there");
  c->add_option("--json", *json_out, "Also write the result as JSON (counts, divergence, rule coverage) to this file");
  return [o, kernel, no_shrink, json_out, shard] {
    o->shrink = !*no_shrink;
    const auto [k, n] = shard_of(*shard);
    o->shard = k - 1, o->shards = n;
    if (!json_out->empty()) need_writable(*json_out);
    o->identity = episodes_identity(*o);
    o->progress = [](const std::string& line) { std::cerr << line << std::endl; };
    oracle::OracleResult r = oracle::run_linux_oracle(*o);
    std::cout << fmt::format("oracle linux (profile {}, seed {}, {} processes): {} ops in {:.1f} s ({:.0f} ops/s), "
                             "{} expectations compared, {} undetermined, {} transient re-reads, {}\n",
                             o->profile, o->seed, o->processes, r.ops, r.seconds, r.ops / std::max(r.seconds, 1e-9),
                             r.comparisons, r.undetermined, r.transients, r.diverged ? "DIVERGED" : "no divergence");
    if (o->episode || o->shards > 1 || !o->corpus_dir.empty())
      std::cout << fmt::format("  {} episodes run (shard {}/{}), {} skipped: finished by an earlier run\n", r.episodes,
                               o->shard + 1, o->shards, r.resumed);
    std::cout << "  ops:";
    for (const auto& [op, n] : r.op_counts) std::cout << " " << op << "=" << n;
    std::cout << "\n" << conformance::format_rule_coverage(r.rules, oracle::rules_not_generated(), oracle::kNotGeneratedWhy);
    if (!json_out->empty()) write_text(*json_out, result_json(*o, r).dump(1) + "\n");
    if (!r.diverged) return kExitClean;
    std::cout << fmt::format("  first divergence at op {}:\n", r.divergent_op);
    for (std::size_t i = 0; i < r.findings.size() && i < 10; ++i)
      std::cout << fmt::format("    {}: {}\n", r.findings[i].id, r.findings[i].message);
    std::cout << fmt::format("  minimized to {} ops: {}\n  replay it: vmref replay {}\n", r.shrunk_ops, r.trace, r.trace);
    if (!r.reproduced)
      std::cout << "  NOTE: the last run of the minimized sequence agreed with the model: the divergence did not\n"
                   "  reproduce (a transient kernel state?); the trace replays clean.\n";
    return kExitFindings;
  };
}

}  // namespace vmref::cli
