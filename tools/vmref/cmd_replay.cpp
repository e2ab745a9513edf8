// vmref replay TRACE... : apply every event to the model, check every invariant after
// every event, compare recorded expectations; exit 0 clean, 1 findings, 2 bad input.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "vmref/trace/output_file.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/conformance/report.hpp"
#include "vmref/conformance/rule_coverage.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/mutant.hpp"

namespace vmref::cli {

namespace {
struct ReplayArgs {
  std::vector<std::string> traces;
  std::string report, junit, sarif, ktap;
  bool stop_at_first = false, full = false, declared = false, quiet = false, rules = false, model_only = false;
  std::string profile, impl, mutant, images_out;
  std::map<std::string, unsigned> format_params;
  std::vector<std::string> params;  // --param NAME=VALUE
  std::size_t show = 20;
};

/// Rule counts summed over several results, each rule once, in first-seen order.
std::vector<model::RuleCount> sum_rules(const std::vector<conformance::ReplayResult>& rs) {
  std::vector<model::RuleCount> sum;
  for (const auto& r : rs)
    for (const auto& rule : r.rules) {
      auto it = std::find_if(sum.begin(), sum.end(), [&](const model::RuleCount& s) { return s.id == rule.id; });
      if (it == sum.end()) sum.push_back(rule);
      else it->hits += rule.hits;
    }
  return sum;
}

/// The summary line, the implementation and the error; unless `quiet`, the counts per ID
/// and the first `show` undetermined results and findings. On `out`: standard error
/// when a report goes to standard output.
void print_result(std::ostream& out, const conformance::ReplayResult& r, std::size_t show, bool quiet) {
  double rate = r.seconds > 0 ? r.events / r.seconds : 0;
  out << fmt::format("{}: {}: {} events, {} checks, {} expectations, {} findings, {} undetermined ({:.3f} s, {:.0f} events/s)\n",
                           r.file, to_string(r.verdict()), r.events, r.checks, r.expectations, r.findings_total,
                           r.undetermined_total, r.seconds, rate);
  if (!r.impl.empty())
    out << "  in lock step with the " << r.impl << " implementation" << (r.mutant.empty() ? "" : ", mutant " + r.mutant) << "\n";
  if (!r.error.empty()) out << "  error: " << r.error << "\n";
  if (quiet) return;
  for (const auto& [id, n] : r.by_id) out << fmt::format("  {:<14} {}\n", id, n);
  for (std::size_t i = 0; i < r.undetermined.size() && i < show; ++i)
    out << fmt::format("  undetermined at event {} (line {}): {}\n", r.undetermined[i].event,
                             r.undetermined[i].line, r.undetermined[i].message);
  // One entry per title (a bug), with its first occurrence and how many share it.
  std::vector<conformance::FindingGroup> groups = conformance::group_findings(r.findings);
  std::uint64_t listed = 0;
  for (std::size_t i = 0; i < groups.size() && i < show; ++i) {
    const conformance::Finding& f = groups[i].first;
    listed += groups[i].count;
    out << fmt::format("  {} at event {} (line {}, {}): {}\n", f.id, f.event, f.line, f.op, f.message);
    if (!f.diff.empty()) {
      std::string d = f.diff;
      for (std::size_t p = 0; (p = d.find('\n', p)) != std::string::npos && p + 1 < d.size(); p += 5) d.replace(p, 1, "\n    ");
      out << "    " << d;
    }
    if (groups[i].count > 1)
      out << fmt::format("    and {} more like it, titled: {}\n", groups[i].count - 1, groups[i].title);
  }
  if (listed < r.findings_total)
    out << fmt::format("  ... {} more (see --report)\n", r.findings_total - listed);
}
/// Each image --images-out wrote, with the `vmref walk` command of each address space in
/// it when the format's root register holds the root table's address as it is (CR3, a
/// PDB); otherwise the table's address, which the register encodes (satp, a TTBR).
void print_images(std::ostream& out, const conformance::ReplayResult& r, const std::map<std::string, unsigned>& params) {
  for (const conformance::WrittenImage& w : r.images) {
    const impl::FormatInfo& f = impl::format_or_throw(w.format);
    out << "  image " << w.path << " (" << w.format << "), " << w.roots.size() << " address spaces\n";
    impl::FormatConfig cfg;
    cfg.params = params;
    for (const auto& [as, root] : w.roots) {
      bool plain = false;
      try {
        plain = f.root_address(root, cfg) == root;
      } catch (const std::exception&) {
      }
      if (plain)
        out << fmt::format("    {}: vmref walk --arch {} --mem {} --root {:#x}\n", as, w.format, w.path, root);
      else
        out << fmt::format("    {}: root table at {:#x} (give --root the {} value that points there)\n", as, root, f.root_name);
    }
  }
}

/// Files as given; a directory becomes every .jsonl / .jsonl.zst under it, sorted.
std::vector<std::string> expand_dirs(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    if (!std::filesystem::is_directory(p)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
      std::string n = e.path().string();
      if (e.is_regular_file() && (n.ends_with(".jsonl") || n.ends_with(".jsonl.zst"))) found.push_back(n);
    }
    if (found.empty()) throw std::invalid_argument(p + ": a directory with no trace (.jsonl, .jsonl.zst) under it");
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}
}  // namespace

Runner add_replay(CLI::App& app) {
  auto a = std::make_shared<ReplayArgs>();
  auto* c = app.add_subcommand("replay", "Replay traces through the model, checking every invariant after every event");
  c->add_option("traces", a->traces, "Trace files (.jsonl or .jsonl.zst), or directories: every trace under them, in name order")
      ->required()->check(CLI::ExistingPath);
  c->add_option("--report,--json", a->report, "Write the results as JSON (input of `vmref report`); - for standard output");
  c->add_option("--junit", a->junit, "Write a JUnit XML report; - for standard output");
  c->add_option("--sarif", a->sarif, "Write SARIF 2.1.0 for code scanning; - for standard output");
  c->add_option("--ktap", a->ktap, "Write KTAP version 1 (kunit.py, kselftest); - for standard output");
  c->add_flag("--stop-at-first", a->stop_at_first, "Stop a trace at its first finding");
  c->add_flag("--full-checks", a->full, "Check invariants over the whole state after each event (slow; the default checks what the event touched)");
  c->add_flag("--expect-declared", a->declared, "Exit 0 only if each trace gives the verdict its header declares (provenance.expected)");
  c->add_flag("-q,--quiet", a->quiet, "Print only the summary line per trace (and its error, if any)");
  c->add_option("--profile", a->profile, "Replay under this profile instead of the header's, e.g. KERNEL:VARIANT for a deliberately broken variant (see --list-profiles)")
      ->check(CLI::IsMember(profile_choices()));
  c->add_option("--show", a->show, "Findings printed per trace")->capture_default_str();
  c->add_flag("--rules", a->rules, "Print how often each counted rule of the kernel's spec ran, per trace and summed (also in --report)");
  auto* impl = c->add_option("--impl", a->impl, "Also run the implementation over this page-table format in lock step and compare (DIFF-* findings)")
                   ->check(CLI::IsMember(format_choices()));
  c->add_option("--mutant", a->mutant, "A deliberately broken variant of the implementation (see `vmref fuzz --list-mutants`)")
      ->needs(impl)->check(CLI::IsMember(impl::mutant_names()));
  c->add_flag("--model-only", a->model_only, "Run the model alone even when the trace header names an implementation "
                                           "(provenance.replay, written by `vmref fuzz`)")->excludes(impl);
  c->add_option("--param", a->params,
                 "Set a profile parameter over the trace header's params, NAME=VALUE (decimal, 0x... hex, true/false; "
                 "see the kernel's spec page, \"Parameters\"); repeatable");
  c->add_option("--images-out", a->images_out,
                "After the trace, write each memory the implementation keeps page tables in (phys.img, and vram.img "
                "for a GPU kernel) to this folder as raw images for `vmref walk`, and print each space's walk command")
      ->needs(impl);
  add_format_options(c, a->format_params);
  return [a] {
    for (const std::string* out : {&a->report, &a->junit, &a->sarif, &a->ktap})
      if (!out->empty()) trace::refuse_same_file(*out, a->traces);
    conformance::ReplayOptions opt;
    opt.stop_at_first = a->stop_at_first;
    opt.full_checks = a->full;
    opt.profile = a->profile;
    opt.impl = a->impl;
    opt.mutant = a->mutant;
    opt.format_params = a->format_params;
    opt.model_only = a->model_only;
    opt.params = parse_params(a->params);
    opt.images_out = a->images_out;
    a->traces = expand_dirs(a->traces);
    if (!opt.images_out.empty() && a->traces.size() != 1)
      throw std::invalid_argument("--images-out: one trace at a time (each would overwrite the other's images)");
    int to_stdout = 0;
    for (const std::string* out : {&a->report, &a->junit, &a->sarif, &a->ktap}) to_stdout += *out == "-";
    if (to_stdout > 1) throw std::invalid_argument("only one of --report, --junit, --sarif, --ktap can be standard output");
    std::ostream& human = to_stdout ? std::cerr : std::cout;
    std::vector<conformance::ReplayResult> rs;
    int rc = kExitClean;
    for (const auto& t : a->traces) {
      rs.push_back(conformance::replay_file(t, opt));
      const auto& r = rs.back();
      print_result(human, r, a->show, a->quiet);
      print_images(human, r, a->format_params);
      if (a->rules) human << conformance::format_rule_coverage(r.rules);
      if (a->declared) {
        std::string why = conformance::check_declared_verdict(r);
        if (!why.empty()) {
          human << "  MISMATCH with declared verdict: " << why << "\n";
          rc = std::max(rc, kExitFindings);
        }
        continue;
      }
      rc = std::max(rc, exit_code(r.verdict()));
    }
    if (a->rules && rs.size() > 1) human << "all traces:\n" << conformance::format_rule_coverage(sum_rules(rs));
    if (!a->report.empty()) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& r : rs) arr.push_back(conformance::result_to_json(r));
      write_text(a->report, arr.dump(1) + "\n");
    }
    if (!a->junit.empty()) write_text(a->junit, conformance::report_junit(rs, {}, {a->declared}));
    if (!a->sarif.empty()) write_text(a->sarif, conformance::report_sarif(rs, {}, kVersion));
    if (!a->ktap.empty()) write_text(a->ktap, conformance::report_ktap(rs));
    return rc;
  };
}

}  // namespace vmref::cli
