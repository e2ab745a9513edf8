// Streaming replay of a trace through the model (spec/trace-format.md §5).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vmref/conformance/finding.hpp"
#include "vmref/model/rule_coverage.hpp"
#include "vmref/trace/codec.hpp"

namespace vmref::conformance {

struct ReplayOptions {
  bool stop_at_first = false;     ///< stop after the first event with a finding
  bool full_checks = false;       ///< check every invariant over the whole state, not the delta
  std::string profile;            ///< replaces the header's profile (e.g. "linux:no-merge"), if set
  std::size_t keep_findings = 200;///< findings kept in detail; all are counted
  /// Also run an implementation in lock step (a page-table format) and report DIFF-*
  /// findings.
  std::string impl;
  std::string mutant;             ///< a deliberately broken variant of the implementation
  /// Ignore the header's provenance.replay (the implementation a fuzz counterexample
  /// names) and run the model alone. When false and `impl` is empty, the header decides.
  bool model_only = false;
  /// Profile parameters set over the header's `params` (`vmref replay --param`), checked
  /// as the header's are (errors name the trace, line 1 and params.<name>).
  nlohmann::json params = nlohmann::json::object();
  /// The format's parameters (e.g. levels = 5), defaults for the rest.
  std::map<std::string, unsigned> format_params;
  /// With `impl`: a directory where, after the last event, each memory the
  /// implementation keeps page tables in is written as <name>.img (impl::MemoryImage:
  /// "phys", "vram"), a sparse raw image whose byte offset is the physical address, for
  /// `vmref walk`. "" writes none.
  std::string images_out;
};

/// One image `images_out` wrote: its path, the format that decodes it and the root
/// register value of each address space in it ("as 1" -> byte address).
struct WrittenImage {
  std::string path, format;
  std::vector<std::pair<std::string, std::uint64_t>> roots;
};

/// Verdict of one trace: clean, findings, or bad input (then `error` says why).
enum class Verdict { clean, findings, bad_input };
const char* to_string(Verdict v);

struct ReplayResult {
  std::string file;
  trace::Header header;
  std::uint64_t events = 0;
  std::uint64_t checks = 0;         ///< invariant checks run (catalog size x checked events)
  std::uint64_t expectations = 0;   ///< expectation fields compared
  std::uint64_t findings_total = 0;
  std::map<std::string, std::uint64_t> by_id;  ///< findings per ID
  std::vector<Finding> findings;    ///< the first `keep_findings`
  /// Cases the model could not decide from the trace (hidden kernel state): never a
  /// finding, never a silent pass; the first `keep_findings` are kept.
  std::uint64_t undetermined_total = 0;
  std::vector<Finding> undetermined;
  double seconds = 0;
  /// How often each counted rule of the profile ran (spec/kernels/<k>.md "Rule coverage").
  std::vector<model::RuleCount> rules;
  std::string error;                ///< bad input: "file:line: field 'x': ..."
  std::string impl, mutant;         ///< the implementation run in lock step and its mutant ("" = none)
  std::vector<WrittenImage> images; ///< what ReplayOptions::images_out wrote
  std::map<std::string, unsigned> format_params;  ///< the implementation's format parameters as given
  nlohmann::json params = nlohmann::json::object();  ///< profile parameters given over the header's (`--param`)
  bool model_only = false;          ///< the header's implementation was ignored (`--model-only`)
  Verdict verdict() const;
};

/// The `vmref replay` command line that gives `r` again: its trace, profile (always
/// spelled out, so a variant is visible), implementation, mutant, format parameters and
/// `--param` overrides;
/// the file shell-quoted when it needs it.
std::string reproduce_command(const ReplayResult& r);

/// Replays `path` (JSON Lines or zstd) event by event: apply, check every invariant,
/// compare expectations. Never throws for bad input: it is reported in `error`.
ReplayResult replay_file(const std::string& path, const ReplayOptions& opt);

/// Result as JSON (the `--report` file, input of `vmref report`), and back.
nlohmann::json result_to_json(const ReplayResult& r);
/// Throws std::runtime_error naming `origin` and the field when the JSON is not a result.
ReplayResult result_from_json(const nlohmann::json& j, const std::string& origin);
/// Every result in a result file (one result, or an array of them). Throws
/// std::runtime_error (TraceError for malformed JSON) naming the file, the index and the
/// field; counts must be non-negative integers (no negative or float values).
std::vector<ReplayResult> load_results(const std::string& path);
struct ProofRow;
/// A `vmref report` input: replay results (one or an array), or a `vmref prove --report`
/// file, whose rows go to `proofs`. Errors as load_results.
void load_report_input(const std::string& path, std::vector<ReplayResult>& results, std::vector<ProofRow>& proofs);

/// The verdict a trace declares in its header (provenance.expected), if any:
/// {"verdict": "clean"|"findings"|"bad-input", "ids": [...], "undetermined": n,
/// "error": "text"} (bad-input must give `error`, a part of the expected message, so
/// that another malformation does not pass). Returns an empty string when the
/// replay matches it, else a sentence saying how it differs.
std::string check_declared_verdict(const ReplayResult& r);

}  // namespace vmref::conformance
