// vmref fuzz : differential fuzzing of the model against an optimized implementation.
#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <iostream>

#include "commands.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/mutant.hpp"

namespace vmref::cli {

namespace {
// SIGINT/SIGTERM stop the campaign, which then prints its summary and exits as usual.
std::atomic<bool> g_interrupt{false};
extern "C" void on_interrupt(int) { g_interrupt = true; }

struct InterruptGuard {
  struct sigaction old_int {}, old_term {};
  InterruptGuard() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
};

struct FuzzArgs {
  diff::CampaignOptions o;
  std::string mutant, layer = "both", replay, json, shard;
  std::vector<std::string> params;  // --param NAME=VALUE
  bool list = false, list_profiles = false, list_archs = false;
};

int replay_table_ops(const FuzzArgs& a) {
  auto fs = diff::replay_counterexample(a.replay, impl::find_mutant(a.mutant));
  std::cout << fmt::format("{}: {} findings\n", a.replay, fs.size());
  for (std::size_t i = 0; i < fs.size() && i < 20; ++i) std::cout << fmt::format("  {}: {}\n", fs[i].first, fs[i].second);
  return fs.empty() ? kExitClean : kExitFindings;
}

void print(const FuzzArgs& a, const diff::CampaignResult& r, std::ostream& out) {
  const auto& o = a.o;
  std::string params;
  for (auto it = r.params.begin(); it != r.params.end(); ++it)
    params += " --param " + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
  out << fmt::format("fuzz {} (profile {}{}, seed {}, {} jobs{}): {} ops in {:.1f} s ({:.0f} ops/s): "
                           "{} VMM events, {} table ops, {} findings\n",
                           r.model_only ? std::string("--layer model") : "--impl " + o.impl, o.profile, params, o.seed, o.jobs,
                           o.format.mutant ? std::string(", mutant ") + o.format.mutant->name : "",
                           r.ops, r.seconds, r.ops / std::max(r.seconds, 1e-9), r.vmm_ops, r.table_ops, r.findings);
  out << "  coverage, operation kinds:";
  for (const auto& [k, n] : r.op_kinds) out << " " << k << "=" << n;
  out << "\n  coverage, shapes:";
  for (const auto& [k, n] : r.shapes) out << " " << k << "=" << n;
  out << "\n";
  if (r.model_only)
    out << "  note: the model's invariants alone, with the profile's variant under test\n";
  for (const auto& [id, n] : r.by_id) out << fmt::format("  {:<12} {}\n", id, n);
  if (!r.first_error.empty()) out << "  harness error: " << r.first_error << "\n";
  if (r.interrupted) out << "  interrupted: the summary covers the operations run so far\n";
  if (!o.corpus_dir.empty()) {
    out << fmt::format("  corpus {}: {} counterexamples replayed, {} still failing, {} unusable; {} episodes skipped "
                       "(finished by an earlier run)\n",
                       o.corpus_dir, r.corpus.traces, r.corpus.still_failing, r.corpus.unusable, r.resumed);
    for (const std::string& f : r.corpus.failing) out << "    still failing: " << f << "\n";
    for (const std::string& e : r.corpus.errors) out << "    unusable: " << e << "\n";
  }
  for (const auto& c : r.examples) {
    out << fmt::format("  {}: {}\n    minimized {} -> {} operations{}\n", c.id, c.message, c.original, c.minimized,
                             c.reproduces ? "" : " (did not reproduce after shrinking)");
    if (!c.file.empty())  // the file's header names the implementation and mutant
      out << (c.file.find(".tables.") != std::string::npos
                        ? fmt::format("    replay it: vmref fuzz --replay {}{}\n", c.file,
                                      a.mutant.empty() ? "" : " --mutant " + a.mutant)
                        : fmt::format("    replay it: vmref replay {}\n", c.file));
  }
}
}  // namespace

Runner add_fuzz(CLI::App& app) {
  auto a = std::make_shared<FuzzArgs>();
  auto* c = app.add_subcommand("fuzz", "Differential fuzzing: random operations on the model and an optimized implementation in lock step");
  a->o.impl = default_format();
  a->o.profile = default_profile();
  auto* impl_opt = c->add_option("--impl", a->o.impl, "Page-table format of the implementation (see --list-archs; "
                                                       "with --mutant of a format: that format)")
                       ->capture_default_str()->check(CLI::IsMember(format_choices()));
  auto* profile_opt = c->add_option("--profile", a->o.profile, "Kernel profile, kernel or kernel:variant (see --list-profiles; "
                                                               "with --mutant: the profile whose events reach it)")
                          ->capture_default_str()->check(CLI::IsMember(profile_choices()));
  c->add_option("--seed", a->o.seed, "Random seed")->capture_default_str();
  auto* ops = c->add_option("--ops", a->o.ops, "Operations to run (VMM events plus table operations)")->capture_default_str();
  c->add_option("--time", a->o.seconds, "Run for this many seconds instead of --ops")->excludes(ops);
  c->add_option("--jobs", a->o.jobs, "Parallel jobs")->capture_default_str()->check(CLI::Range(1, 64));
  auto* out = c->add_option("--out", a->o.out_dir, "Directory for minimized counterexamples")->capture_default_str();
  c->add_option("--corpus", a->o.corpus_dir,
                "Corpus directory to resume from and add to: its counterexamples are replayed first, episodes an earlier "
                "run of this campaign finished are skipped, new counterexamples go there (unless --out) and this run's "
                "finished episodes are recorded in DIR/progress.json");
  c->add_option("--cpus", a->o.cpus, "Simulated CPUs")->capture_default_str()->check(CLI::Range(1, 16));
  c->add_option("--episode", a->o.episode, "Events per episode (each starts from a fresh state; longer ones reach older states, "
                                           "shorter ones shrink faster)")
      ->capture_default_str()->check(CLI::Range(10, 1000000));
  c->add_option("--param", a->params,
                 "Set a profile parameter over its variant's, NAME=VALUE (decimal, 0x... hex, true/false; see the "
                 "kernel's spec page, \"Parameters\"; counterexamples carry it in their header); repeatable");
  add_format_options(c, a->o.format.params);
  c->add_option("--layer", a->layer,
                "vmm (model vs VMM core, and the model's invariants), tables (engine vs flat map), both, or model "
                "(the model's invariants alone, fastest)")
      ->capture_default_str()->check(CLI::IsMember({"vmm", "tables", "both", "model"}));
  c->add_option("--mutant", a->mutant, "Run a deliberately broken variant")->check(CLI::IsMember(impl::mutant_names()));
  c->add_option("--replay", a->replay, "Replay a table-op counterexample written by a campaign")->check(CLI::ExistingFile);
  c->add_flag("--list-mutants", a->list, "List the deliberately broken variants of the implementations");
  c->add_flag("--list-profiles", a->list_profiles, "List the kernels and their variants");
  c->add_flag("--list-archs", a->list_archs, "List the page-table formats");
  c->add_flag("--stop-at-first", a->o.stop_at_first, "Stop at the first finding (default: go on and shrink one counterexample per ID)");
  c->add_option("--json", a->json, "Also write the summary as JSON (- for standard output, then the text goes to standard error)");
  c->add_option("--shard", a->shard,
                "Run only shard K of N (K/N): every N-th episode from the K-th, for several machines; `vmref report` "
                "merges the shards' --json summaries into the whole campaign's");
  return [a, out, impl_opt, profile_opt] {
    if (a->list || a->list_profiles || a->list_archs) {
      if (a->list) list_mutants();
      if (a->list_profiles) list_profiles();
      if (a->list_archs) list_formats();
      return kExitClean;
    }
    if (!a->replay.empty()) return replay_table_ops(*a);
    need_writable(a->json);  // a campaign may run for hours: refuse a bad path first
    if (!a->o.corpus_dir.empty() && out->count() == 0) a->o.out_dir.clear();  // counterexamples join the corpus
    const auto [k, n] = shard_of(a->shard);
    a->o.shard = k - 1;
    a->o.shards = n;
    g_interrupt = false;
    a->o.params = parse_params(a->params);
    a->o.format.mutant = impl::find_mutant(a->mutant);
    if (const impl::MutantInfo* m = a->o.format.mutant) {  // where the mutant lives, unless named
      if (impl_opt->count() == 0 && impl::find_format(m->owner)) a->o.impl = m->owner;
      if (profile_opt->count() == 0 && *m->profile) a->o.profile = m->profile;
    }
    a->o.model_only = a->layer == "model";
    a->o.vmm_layer = a->layer == "vmm" || a->layer == "both";
    a->o.table_layer = a->layer == "tables" || a->layer == "both";
    // A terminal gets one line rewritten in place; a log (CI, a pipe) gets whole lines,
    // one every ten seconds, so it stays readable line by line.
    const bool tty = isatty(fileno(stderr)) != 0;
    a->o.progress = [tty, next = std::chrono::steady_clock::time_point{}](std::uint64_t n, double rate,
                                                                          std::uint64_t f) mutable {
      std::string line = fmt::format("  {} ops, {:.0f} ops/s, {} findings", n, rate, f);
      if (tty) {
        std::cerr << "\r" << line << "   " << std::flush;
        return;
      }
      auto now = std::chrono::steady_clock::now();
      if (now < next) return;
      next = now + std::chrono::seconds(10);
      std::cerr << line << std::endl;
    };
    a->o.interrupt = &g_interrupt;
    InterruptGuard guard;
    diff::CampaignResult r = diff::run_campaign(a->o);
    if (tty) std::cerr << "\n";
    print(*a, r, a->json == "-" ? std::cerr : std::cout);
    if (!a->json.empty()) write_text(a->json, diff::campaign_json(a->o, r, kVersion));
    if (!r.first_error.empty() && r.findings == 0) return kExitBadInput;
    return r.findings || r.corpus.still_failing ? kExitFindings : kExitClean;
  };
}

}  // namespace vmref::cli
