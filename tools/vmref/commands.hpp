// The `vmref` command line: each subcommand registers itself as a row (name, how to add
// it to the CLI11 app); kernels and formats may add their own rows from their folders
// (the linux kernel's `record` and `oracle`). Choice lists (--profile, --impl, --mutant)
// come from the registries, so a new kernel or format needs no edit here.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "vmref/conformance/replay.hpp"

namespace vmref::cli {

/// Exit codes shared by every command (README "Exit codes").
inline constexpr int kExitClean = 0, kExitFindings = 1, kExitBadInput = 2;
inline constexpr const char* kVersion = VMREF_VERSION;  ///< project(vmref VERSION ...) in CMakeLists.txt

/// kExitClean / kExitFindings / kExitBadInput for a verdict.
int exit_code(conformance::Verdict v);
/// Writes `text` to `path`; throws std::runtime_error naming the path on failure.
void write_text(const std::string& path, const std::string& text);
/// Throws std::invalid_argument naming `path` when a file cannot be written there (its
/// directory is missing or not writable): checked before a long run, not after it.
void need_writable(const std::string& path);
/// `--shard K/N` as (K, N), 1 <= K <= N <= 1024; (1, 1) for "". Throws
/// std::invalid_argument naming the option otherwise.
std::pair<unsigned, unsigned> shard_of(const std::string& s);

using Runner = std::function<int()>;
/// A subcommand: adds itself to `app` and returns what runs it.
struct CommandInfo {
  const char* name;
  Runner (*add)(CLI::App& app);
};
void add_command(CommandInfo c);

/// A kind of shard summary `vmref report` merges besides fuzz campaigns (a kernel's
/// live-kernel oracle, say), registered by the folder that writes it.
struct SummaryMerger {
  const char* what;  ///< "oracle campaign summaries", for messages
  /// Whether `j` is one of its summaries.
  bool (*is)(const nlohmann::ordered_json& j);
  /// The N shards (path, JSON) merged into the whole campaign's summary, with "verdict"
  /// "clean", "findings" or "bad-input"; throws std::runtime_error naming the file for a
  /// missing, repeated or foreign shard.
  nlohmann::ordered_json (*merge)(const std::vector<std::pair<std::string, nlohmann::ordered_json>>& shards);
  /// A few lines of text about a merged summary.
  std::string (*text)(const nlohmann::ordered_json& merged);
};
void add_summary_merger(SummaryMerger m);
const std::vector<SummaryMerger>& summary_mergers();

/// Parses the command line and runs the chosen subcommand; returns the exit code.
int run(int argc, char** argv);

// Choice lists from the registries.
/// Every profile: each kernel, and each kernel:variant.
std::vector<std::string> profile_choices();
/// Every page-table format.
std::vector<std::string> format_choices();
/// The first registered kernel / format (the defaults).
std::string default_profile();
std::string default_format();
/// Adds every format's parameters as options (`--levels 5`, `--no-nxe`) filling `params`.
void add_format_options(CLI::App* c, std::map<std::string, unsigned>& params);
/// `--param NAME=VALUE` values as a trace header's `params` object: decimal digits are a
/// number, true/false a boolean, anything else a string (the kernel's with_params checks
/// them). Throws std::invalid_argument for an item without NAME=.
nlohmann::json parse_params(const std::vector<std::string>& items);
/// Prints the kernels with their variants, the formats, or the mutants (--list-* flags).
void list_profiles();
void list_formats();
void list_mutants();

/// Registers the shared subcommands (replay, report, convert, gen, bench, walk, fuzz, schema, prove).
void register_core_commands();

Runner add_replay(CLI::App& app);
Runner add_report(CLI::App& app);
Runner add_convert(CLI::App& app);
Runner add_gen(CLI::App& app);
Runner add_bench(CLI::App& app);
Runner add_walk(CLI::App& app);
Runner add_fuzz(CLI::App& app);
Runner add_schema(CLI::App& app);
Runner add_prove(CLI::App& app);

}  // namespace vmref::cli
