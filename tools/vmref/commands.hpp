// Each subcommand registers itself on the top-level CLI11 app and returns its runner.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>
#include <string>

#include "vmref/conformance/replay.hpp"

namespace vmref::cli {

/// Exit codes shared by every command (README "Exit codes").
inline constexpr int kExitClean = 0, kExitFindings = 1, kExitBadInput = 2;

/// kExitClean / kExitFindings / kExitBadInput for a verdict.
int exit_code(conformance::Verdict v);
/// Writes `text` to `path`; throws std::runtime_error naming the path on failure.
void write_text(const std::string& path, const std::string& text);

using Runner = std::function<int()>;
Runner add_replay(CLI::App& app);
Runner add_report(CLI::App& app);
Runner add_convert(CLI::App& app);
Runner add_gen(CLI::App& app);
Runner add_record(CLI::App& app);
Runner add_bench(CLI::App& app);
Runner add_oracle(CLI::App& app);
Runner add_walk(CLI::App& app);
Runner add_fuzz(CLI::App& app);

}  // namespace vmref::cli
