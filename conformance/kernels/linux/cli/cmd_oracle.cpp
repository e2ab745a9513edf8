// vmref oracle linux : differential testing of the model against the live kernel.
#include <fmt/format.h>

#include <iostream>

#include "commands.hpp"
#include "linux_oracle.hpp"
#include "vmref/conformance/rule_coverage.hpp"

namespace vmref::cli {

namespace {
nlohmann::ordered_json result_json(const oracle::OracleOptions& o, const oracle::OracleResult& r) {
  nlohmann::ordered_json j{{"vmref_oracle", 1},
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
  c->add_option("--json", *json_out, "Also write the result as JSON (counts, divergence, rule coverage) to this file");
  return [o, kernel, no_shrink, json_out] {
    o->shrink = !*no_shrink;
    o->progress = [](const std::string& line) { std::cerr << line << std::endl; };
    oracle::OracleResult r = oracle::run_linux_oracle(*o);
    std::cout << fmt::format("oracle linux (profile {}, seed {}, {} processes): {} ops in {:.1f} s ({:.0f} ops/s), "
                             "{} expectations compared, {} undetermined, {} transient re-reads, {}\n",
                             o->profile, o->seed, o->processes, r.ops, r.seconds, r.ops / std::max(r.seconds, 1e-9),
                             r.comparisons, r.undetermined, r.transients, r.diverged ? "DIVERGED" : "no divergence");
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
