// Active differential testing against the live Linux kernel (`vmref oracle linux`):
// random memory operations run for real by a tree of worker processes inside a reserved
// window and, in lock step, on the model; after each one the kernel's view (VMAs,
// present bits, frame sharing, zero page, exclusive bits, map counts) is compared with
// the model's through the same expectation comparison that `vmref replay` uses.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "vmref/conformance/finding.hpp"
#include "vmref/model/rule_coverage.hpp"

namespace vmref::oracle {

struct OracleOptions {
  std::uint64_t seed = 1;
  std::uint64_t ops = 10000;        ///< operations to run (when seconds == 0)
  double seconds = 0;               ///< run for this long instead, if > 0
  unsigned processes = 3;           ///< most live worker processes at once (>= 1)
  std::string profile = "linux";    ///< model profile, e.g. "linux:no-zero-page"
  std::uint64_t window = 0x200000000000;  ///< reserved VA window (bytes)
  std::uint64_t window_pages = 64;
  std::string out_dir = "oracle-out";     ///< where divergence traces go
  /// Operations per episode, each on fresh worker processes and a fresh model, seeded from
  /// `seed` and its number; 0: one episode of all `ops` seeded with `seed` itself.
  std::uint64_t episode = 0;
  /// `--shard K/N` (shard = K - 1, shards = N): only episodes K - 1, K - 1 + N, ...;
  /// sharding needs `episode` > 0.
  unsigned shard = 0, shards = 1;
  /// `--corpus DIR`: skip the episodes DIR/progress.json says an earlier run of this
  /// campaign finished (diff/corpus.hpp), record those this run finishes, write the
  /// divergence trace there. "" = none.
  std::string corpus_dir;
  /// The campaign's identity in the corpus (its command without --shard, --ops, --time).
  std::string identity;
  bool shrink = true;
  unsigned shrink_runs = 300;       ///< most re-executions spent shrinking
  /// Called with a progress line (ops done and rate) about every `progress_every` seconds
  /// of the campaign, and once when shrinking starts; empty: silent.
  std::function<void(const std::string&)> progress;
  double progress_every = 10;
};

struct OracleResult {
  std::uint64_t ops = 0;             ///< operations executed
  std::uint64_t episodes = 0;        ///< episodes run
  std::uint64_t resumed = 0;         ///< episodes skipped: finished by an earlier run (--corpus)
  std::uint64_t divergent_seed = 0;  ///< the seed of the episode that diverged
  std::uint64_t comparisons = 0;     ///< expectation fields compared
  std::uint64_t undetermined = 0;
  std::uint64_t transients = 0;      ///< re-reads while the kernel was migrating a page
  double seconds = 0;
  std::map<std::string, std::uint64_t> op_counts;
  bool diverged = false;
  std::uint64_t divergent_op = 0;    ///< index of the first divergent operation
  std::vector<conformance::Finding> findings;  ///< at that operation
  std::uint64_t shrunk_ops = 0;      ///< length of the minimized sequence
  std::string trace;                 ///< replayable trace of the minimized divergence
  bool reproduced = false;           ///< replaying `trace` shows the divergence again
  /// How often each rule of spec/kernels/linux.md ran in the campaign's model.
  std::vector<model::RuleCount> rules;
};

/// Rules of spec/kernels/linux.md the oracle's generator cannot reach, and why; recorded
/// traces cover them (`vmref replay --rules`).
const std::set<std::string>& rules_not_generated();
inline constexpr const char* kNotGeneratedWhy =
    "the oracle's workers never call brk, map growsdown stacks or pin pages, and start from empty windows";

/// Runs a campaign: its episodes in number order (those of `shard` only), until the
/// first divergence. Throws std::invalid_argument for bad options and std::runtime_error
/// when the machine cannot run it (no root, the window is in use, a worker died
/// unexpectedly) or a corpus's progress file is damaged.
OracleResult run_linux_oracle(const OracleOptions& opt);

}  // namespace vmref::oracle
