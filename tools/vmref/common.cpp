// Shared CLI plumbing: the subcommand table, exit codes, choice lists from the registries.
#include <algorithm>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "vmref/diff/shard.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/mutant.hpp"
#include "vmref/trace/output_file.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::cli {

namespace {
std::vector<CommandInfo>& rows() {
  static std::vector<CommandInfo> k;
  return k;
}
}  // namespace

void add_command(CommandInfo c) { rows().push_back(c); }

std::vector<SummaryMerger>& merger_rows() {
  static std::vector<SummaryMerger> r;
  return r;
}
void add_summary_merger(SummaryMerger m) { merger_rows().push_back(m); }
const std::vector<SummaryMerger>& summary_mergers() { return merger_rows(); }

int exit_code(conformance::Verdict v) {
  switch (v) {
    case conformance::Verdict::clean: return kExitClean;
    case conformance::Verdict::findings: return kExitFindings;
    case conformance::Verdict::bad_input: return kExitBadInput;
  }
  return kExitBadInput;
}

void write_text(const std::string& path, const std::string& text) {
  if (path == "-") {  // standard output, as a pipe expects
    std::cout << text << std::flush;
    return;
  }
  trace::write_file(path, text);
}

void need_writable(const std::string& path) {
  if (path.empty() || path == "-") return;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!std::filesystem::is_directory(dir) || access(dir.c_str(), W_OK) != 0)
    throw std::invalid_argument(path + ": cannot be written (directory " + dir.string() + " is missing or not writable)");
}

std::vector<std::string> profile_choices() {
  std::vector<std::string> out;
  for (const vocab::KernelInfo* k : vocab::kernels()) {
    out.push_back(k->name);
    for (const vocab::VariantInfo& v : k->variants) out.push_back(k->name + ":" + v.name);
  }
  return out;
}

std::vector<std::string> format_choices() { return impl::format_names(); }
std::string default_profile() { return vocab::kernels().empty() ? "" : vocab::kernels().front()->name; }
std::string default_format() { return impl::all_formats().empty() ? "" : impl::all_formats().front()->name; }

nlohmann::json parse_params(const std::vector<std::string>& items) {
  nlohmann::json out = nlohmann::json::object();
  for (const std::string& nv : items) {
    const std::size_t eq = nv.find('=');
    if (eq == std::string::npos || eq == 0) throw std::invalid_argument("--param: expected NAME=VALUE, got '" + nv + "'");
    const std::string v = nv.substr(eq + 1);
    const bool digits = !v.empty() && v.size() <= 19 && v.find_first_not_of("0123456789") == std::string::npos;
    out[nv.substr(0, eq)] = digits ? nlohmann::json(std::stoull(v))
                            : v == "true" || v == "false" ? nlohmann::json(v == "true") : nlohmann::json(v);
  }
  return out;
}

void add_format_options(CLI::App* c, std::map<std::string, unsigned>& params) {
  // A parameter several formats share (e.g. a GPU generation) is one option whose allowed
  // values are the union of theirs; the chosen format's codec refuses a value it lacks.
  std::map<std::string, impl::FormatParam> merged;
  std::vector<std::string> order;
  for (const impl::FormatInfo* f : impl::all_formats())
    for (const impl::FormatParam& p : f->params) {
      std::string help = p.help + " (" + f->name + ", default " + std::to_string(p.dflt) + ")";
      auto [it, fresh] = merged.try_emplace(p.name, p);
      if (fresh) {
        order.push_back(p.name);
        it->second.help = help;
        continue;
      }
      impl::FormatParam& m = it->second;
      m.help += "; " + help;
      for (unsigned v : p.allowed)
        if (std::find(m.allowed.begin(), m.allowed.end(), v) == m.allowed.end()) m.allowed.push_back(v);
      m.min = std::min(m.min, p.min);
      m.max = std::max(m.max, p.max);
    }
  for (const std::string& name : order) {
    const impl::FormatParam& p = merged[name];
    if (p.allowed == std::vector<unsigned>{0, 1} && p.dflt == 0) {  // a switch
      c->add_flag_callback("--" + p.name, [&params, name = p.name] { params[name] = 1; }, p.help);
      continue;
    }
    auto* o = c->add_option_function<unsigned>("--" + p.name, [&params, name = p.name](unsigned v) { params[name] = v; }, p.help);
    if (!p.allowed.empty()) o->check(CLI::IsMember(p.allowed));
    else o->check(CLI::Range(p.min, p.max));
  }
}

void list_profiles() {
  for (const vocab::KernelInfo* k : vocab::kernels()) {
    std::cout << k->name << (k->base.empty() ? "" : " (on " + k->base + ")") << ": " << k->title << "  [" << k->spec << "]\n";
    for (const vocab::VariantInfo& v : k->variants)
      std::cout << "  " << k->name << ":" << v.name << (v.broken ? "  (broken) " : "  ") << v.summary << "\n";
  }
}

void list_formats() {
  for (const impl::FormatInfo* f : impl::all_formats()) std::cout << f->name << ": " << f->title << "  [" << f->spec << "]\n";
}

void list_mutants() {
  for (const impl::MutantInfo* m : impl::all_mutants()) std::cout << m->name << "\n";
}

void register_core_commands() {
  for (CommandInfo c : {CommandInfo{"replay", add_replay}, CommandInfo{"report", add_report},
                        CommandInfo{"convert", add_convert}, CommandInfo{"gen", add_gen}, CommandInfo{"bench", add_bench},
                        CommandInfo{"walk", add_walk}, CommandInfo{"fuzz", add_fuzz}, CommandInfo{"schema", add_schema},
                        CommandInfo{"prove", add_prove}})
    add_command(c);
}

int run(int argc, char** argv) {
  CLI::App app{"vmref: reference model and conformance harness for virtual-memory managers"};
  app.set_version_flag("--version", std::string("vmref ") + kVersion + " (trace format 1)");
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, Runner>> cmds;
  for (const CommandInfo& c : rows()) {
    std::size_t before = app.get_subcommands({}).size();
    Runner r = c.add(app);
    cmds.emplace_back(app.get_subcommands({})[before], r);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitBadInput;
  }
  for (auto& [sub, r] : cmds)
    if (sub->parsed()) {
      try {
        return r();
      } catch (const std::exception& e) {
        std::cerr << "vmref " << sub->get_name() << ": " << e.what() << "\n";
        return kExitBadInput;
      }
    }
  return kExitBadInput;
}

/// `--shard K/N` as (K, N); (1, 1) when not given.
std::pair<unsigned, unsigned> shard_of(const std::string& s) {
  try {
    const diff::Shard sh = diff::parse_shard(s);
    return {sh.k, sh.n};
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--shard ") + e.what());
  }
}

}  // namespace vmref::cli
