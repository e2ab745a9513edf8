// `vmref fuzz`: differential fuzzing campaigns of the model against an implementation,
// with minimized counterexamples written as replayable traces.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vmref/conformance/draw.hpp"
#include "vmref/conformance/finding.hpp"
#include "vmref/diff/corpus.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/mutant.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::diff {

struct CampaignOptions {
  std::string impl;                 ///< a page-table format; "" for the first registered
  std::string profile;              ///< "" for the first registered kernel
  /// The profile's parameters over its variant's (`--param`), as a trace header's
  /// `params` object (spec/trace-format.md §2): the model, the implementation and the
  /// generator all run with them, and counterexamples carry them in their header.
  nlohmann::json params = nlohmann::json::object();
  std::uint64_t seed = 1;
  /// Total operations over both layers and all jobs, as ceil(ops / episode) episodes: the
  /// last one shorter, every one numbered and seeded from `seed` and its number, so the
  /// same episodes run whatever `jobs` (a finding ends its episode early: fewer ops).
  std::uint64_t ops = 100000;
  double seconds = 0;               ///< when > 0: run this long instead of `ops`
  unsigned jobs = 1;
  /// `--shard K/N` (shard = K - 1, shards = N): only the episodes whose number is K - 1
  /// modulo N, so N machines split one campaign and `vmref report` merges their summaries
  /// into the unsharded campaign's findings.
  unsigned shard = 0, shards = 1;
  unsigned cpus = 2;
  /// The format's parameters (levels...) and the deliberately broken variant, if any.
  impl::FormatConfig format;
  std::string out_dir;              ///< counterexamples go here (none written if empty)
  /// `--corpus DIR` (diff/corpus.hpp): replay its counterexamples first, skip the episodes
  /// an earlier run of this campaign finished, write new counterexamples there (unless
  /// `out_dir` says otherwise) and record the episodes this run finishes.
  std::string corpus_dir;
  bool vmm_layer = true, table_layer = true;
  /// The model alone, its invariants checked after every event (`--layer model`).
  bool model_only = false;
  /// Events per episode: each starts from a fresh state, so a counterexample is at most
  /// this long before minimization.
  std::uint64_t episode = 2000;
  unsigned shrink_runs = 400;
  /// Stop at the first finding; otherwise each finding ends its episode and the campaign
  /// goes on, shrinking one counterexample per distinct ID.
  bool stop_at_first = false;
  /// When it becomes true (a SIGINT/SIGTERM handler sets it) the campaign stops at the
  /// next event and returns what it has, marked `interrupted`.
  const std::atomic<bool>* interrupt = nullptr;
  /// Called about once a second from the calling thread (ops, ops/s, findings).
  std::function<void(std::uint64_t ops, double ops_per_s, std::uint64_t findings)> progress;
};

struct Counterexample {
  std::string id, message, file;
  std::uint64_t original = 0, minimized = 0;  ///< events before / after ddmin
  bool reproduces = false;                   ///< the written file fails again on replay
};

struct CampaignResult {
  std::uint64_t ops = 0, vmm_ops = 0, table_ops = 0;
  std::uint64_t findings = 0;  ///< episodes that ended in a finding (each counts its event's findings)
  double seconds = 0;
  std::map<std::string, std::uint64_t> op_kinds;   ///< coverage: events per operation kind
  std::map<std::string, std::uint64_t> shapes;     ///< coverage: table and TLB shapes reached
  std::map<std::string, std::uint64_t> by_id;      ///< findings per DIFF-* ID
  std::vector<Counterexample> examples;
  std::string first_error;                         ///< a harness error (unsupported event...), if any
  /// `--layer model`: the model's invariants alone, with the profile's variant under test.
  bool model_only = false;
  /// The kernel parameters the campaign ran with: --param and the format's implied ones.
  nlohmann::json params = nlohmann::json::object();
  bool interrupted = false;                        ///< stopped early by `interrupt`
  std::uint64_t resumed = 0;                       ///< episodes skipped: finished by an earlier run (--corpus)
  CorpusReplay corpus;                             ///< the corpus's counterexamples replayed (--corpus)
};

/// Fills what `o` leaves empty as run_campaign does (the first registered format and
/// kernel) and checks the rest: throws std::invalid_argument for an unknown format or
/// profile, no layer, a bad shard or episode, a mutant on the model layer, or a format
/// too narrow for the profile's addresses.
void resolve_defaults(CampaignOptions& o);

/// The `vmref fuzz` command line that runs this campaign again (recorded in every
/// counterexample's header as provenance.command).
std::string campaign_command(const CampaignOptions& o);

/// The campaign's summary as a JSON object (`vmref fuzz --json`): tool `version`, the
/// command that reruns it, verdict ("clean", "findings", "bad-input"), operation counts and
/// rate (ops per second), findings per ID, coverage, and each counterexample with the
/// command that replays it. Text ends with a newline.
std::string campaign_json(const CampaignOptions& o, const CampaignResult& r, const std::string& version);

/// Whether `j` is a `vmref fuzz --json` summary (its command is a fuzz command).
bool is_campaign_summary(const nlohmann::ordered_json& j);

/// The summaries (path, JSON) of the N shards of one campaign (`vmref fuzz --shard K/N
/// --json`), merged into the summary of the whole campaign: counts summed (shapes named
/// *max* take the maximum), one counterexample per ID, `seconds` the slowest shard's,
/// `shard` "1/1" and `shards` N. Throws std::runtime_error naming the file for a summary
/// that is not one, a shard of another campaign (its command other than --shard and
/// --jobs), a shard given twice, and names the shard that is missing (a partial merge
/// would read as the whole campaign).
nlohmann::ordered_json merge_campaign_summaries(const std::vector<std::pair<std::string, nlohmann::ordered_json>>& shards);

/// `given` (kernel parameters, as a header's `params`) with the format's implied ones
/// (FormatInfo::implied_params) that `kernel` has and `given` lacks.
nlohmann::json with_implied_params(nlohmann::json given, const impl::FormatInfo& format, const vocab::KernelInfo& kernel);

/// One episode of `o`'s profile and implementation (its mutant too) whose generator draws
/// from `rng`, typically a fuzzer's bytes (conformance/fuzz/fuzz_differential.cpp): model
/// and implementation in lock step until `max_events` events or until a byte stream is
/// used up. Returns the first event's findings that has any (empty: they agreed
/// throughout). Throws std::invalid_argument for an unknown implementation or profile, and
/// what the differential throws for an event it cannot apply (a generator's bug).
std::vector<conformance::Finding> run_episode(const CampaignOptions& o, conformance::Random rng, std::uint64_t max_events);

/// Runs the campaign. Throws std::invalid_argument for an unknown implementation or profile.
CampaignResult run_campaign(const CampaignOptions& opt);

/// Replays a table-op file written by a campaign (its header names the format and its
/// parameters). Returns the findings' IDs and messages; throws std::runtime_error
/// naming the file and line for bad input.
std::vector<std::pair<std::string, std::string>> replay_counterexample(const std::string& path, impl::Mutant m);

}  // namespace vmref::diff
