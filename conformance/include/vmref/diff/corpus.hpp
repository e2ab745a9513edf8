// `vmref fuzz --corpus DIR`: a directory a campaign resumes from and adds to. It holds
// the counterexamples campaigns wrote (replayed first, under the campaign's
// implementation and mutant, so a fixed bug shows as clean and a live one as a finding)
// and progress.json, the episodes each campaign finished, so a rerun of the same
// campaign (any --ops, --time, --jobs or --shard) skips them.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace vmref::diff {

struct CampaignOptions;

/// What a campaign's episodes depend on: its command without --jobs, --shard, --ops,
/// --time and --corpus (episode K has the same seed and length whatever those say).
std::string campaign_identity(const CampaignOptions& o);

/// The finished episodes of one campaign, read from and written to DIR/progress.json:
/// {"vmref_corpus": 1, "campaigns": {IDENTITY: [[first, last], ...]}} with inclusive,
/// sorted, disjoint ranges of episode numbers. Other campaigns' entries are kept.
class CorpusProgress {
 public:
  /// Reads DIR/progress.json (creating DIR; no file: nothing done). Throws
  /// std::runtime_error naming the file and the field when the file is malformed.
  CorpusProgress(std::string dir, std::string identity);
  bool done(std::uint64_t episode) const;
  std::uint64_t count() const;
  /// Records a finished episode; safe from several jobs at once.
  void add(std::uint64_t episode);
  /// Writes progress.json through a temporary file renamed over it, so an interrupted
  /// write leaves the previous file whole. Throws std::runtime_error when it cannot.
  void save() const;

 private:
  std::string path_, identity_;
  std::map<std::string, std::vector<std::pair<std::uint64_t, std::uint64_t>>> others_;
  std::map<std::uint64_t, std::uint64_t> done_;  ///< disjoint ranges first -> last (inclusive)
  mutable std::mutex mu_;
  void insert(std::uint64_t first, std::uint64_t last);
};

/// The counterexamples in a corpus, replayed before the campaign runs.
struct CorpusReplay {
  std::uint64_t traces = 0;         ///< files replayed (.jsonl traces and .tables.jsonl op files)
  std::uint64_t still_failing = 0;  ///< files that still give a finding
  std::uint64_t unusable = 0;       ///< files that are bad input here (another format, a malformed file)
  std::map<std::string, std::uint64_t> by_id;  ///< findings per ID, first per file
  std::vector<std::string> failing;            ///< "FILE: ID" of each still-failing file
  std::vector<std::string> errors;             ///< "FILE: why" of each unusable file
};

/// Replays every counterexample directly in `o.corpus_dir` (name order) with `o`'s
/// implementation, mutant and format parameters (the model alone for a model-layer
/// campaign); each trace keeps its own profile.
CorpusReplay replay_corpus(const CampaignOptions& o);

}  // namespace vmref::diff
