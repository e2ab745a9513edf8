#include "vmref/diff/campaign.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "vmref/conformance/ddmin.hpp"
#include "vmref/conformance/registry.hpp"
#include "vmref/diff/differential.hpp"
#include "vmref/model/invariants.hpp"
#include "vmref/diff/table_differential.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/json_text.hpp"
#include "vmref/trace/line_io.hpp"

namespace vmref::diff {

using conformance::Finding;
using vocab::Event;

namespace {

constexpr std::uint64_t kFrames = 4096;  // 16 MiB of data frames per side

/// The profile's kernel (its top layer).
const vocab::KernelInfo& kernel_of(const CampaignOptions& o) { return vocab::resolve_profile(o.profile).kernel(); }

/// Page frames of the campaign: the kernel's own choice (a few for Zephyr, so it evicts
/// often), else 16 MiB.
std::uint64_t frames_for(const CampaignOptions& o) {
  std::uint64_t f = kernel_of(o).campaign_frames;
  return f ? f : kFrames;
}

const impl::FormatInfo& format_of(const CampaignOptions& o) { return impl::format_or_throw(o.impl); }

/// The profile with the campaign's --param values. Throws std::invalid_argument naming
/// the parameter for a value the kernel refuses.
vocab::Profile profile_of(const CampaignOptions& o) {
  try {
    return vocab::with_params(vocab::resolve_profile(o.profile), o.params,
                              vocab::ParamContext{"--param", 0, 4096, frames_for(o)});
  } catch (const trace::TraceError& e) {
    std::string what = e.what();
    throw std::invalid_argument("--param: " + what.substr(what.find(": ") + 2));
  }
}

DiffConfig config_for(const CampaignOptions& o) {
  DiffConfig c;
  c.profile = o.profile;
  c.params = o.params;
  c.impl = o.impl;
  c.cpus = o.cpus;
  c.frames = frames_for(o);
  c.format = o.format;
  return c;
}

/// Refuses a format mode whose lower half cannot hold the profile's user space (Sv39 on a
/// kernel whose generator maps up to a 47-bit task size): the implementation would fault
/// on addresses the model maps, a harness error rather than a finding.
void check_reach(const CampaignOptions& o) {
  const std::unique_ptr<impl::RadixCodec> codec = format_of(o).codec(o.format);
  const unsigned bits = codec->shift(0) + codec->index_bits(0);  // level 0: the root table's entries
  const std::uint64_t reach = std::uint64_t{1} << (bits - 1);    // the lower, user half
  const model::Model m(profile_of(o), o.cpus, frames_for(o), 4096);
  const std::uint64_t top = m.core().config.task_size;
  if (top > reach)
    throw std::invalid_argument(o.impl + " as configured translates user addresses below " + trace::hex(reach) + " (" +
                                std::to_string(bits) + "-bit VAs), but profile " + o.profile +
                                " maps up to its top of user space " + trace::hex(top) + ": choose a wider mode");
}

/// Whether the implementation runs in lock step; with --layer model the campaign checks
/// the model's invariants alone (the profile's variant is then the system under test).
bool impl_runs(const CampaignOptions& o) {
  return !o.model_only;
}

/// The model alone, every invariant checked after every event.
class ModelOnly {
 public:
  explicit ModelOnly(const CampaignOptions& o) : m_(profile_of(o), o.cpus, frames_for(o), 4096) {}
  std::vector<Finding> step(const Event& e) {
    last_ = m_.apply(e);
    std::vector<model::Violation> v;
    model::check_invariants(m_, false, v);
    std::vector<Finding> out;
    for (auto& x : v) out.push_back({x.id, 0, 0, e.op_name(), x.message, ""});
    return out;
  }
  const vocab::Outcome& last_outcome() const { return last_; }

 private:
  model::Model m_;
  vocab::Outcome last_;
};

/// The system under test: the model and the implementation in lock step, or the model
/// alone (--layer model).
class SystemUnderTest {
 public:
  explicit SystemUnderTest(const CampaignOptions& o) {
    if (impl_runs(o)) both_.emplace(config_for(o));
    else alone_.emplace(o);
  }
  std::vector<Finding> step(const Event& e) { return both_ ? both_->step(e) : alone_->step(e); }
  const vocab::Outcome& last_outcome() const { return both_ ? both_->last_outcome() : alone_->last_outcome(); }
  const Differential* differential() const { return both_ ? &*both_ : nullptr; }

 private:
  std::optional<Differential> both_;
  std::optional<ModelOnly> alone_;
};

/// The event generator of the profile's kernel (conformance/registry.hpp).
std::unique_ptr<conformance::Generator> source_for(const CampaignOptions& o, conformance::Random rng) {
  const conformance::ConformanceKernelInfo* k = conformance::find_conformance_kernel(kernel_of(o).name);
  if (!k || !k->generator) throw std::invalid_argument("kernel '" + kernel_of(o).name + "' has no event generator");
  return k->generator(std::move(rng), profile_of(o), o.cpus);
}

/// Index of the first event of `evs` with a finding named `id`, or -1 (also when the
/// candidate is not applicable any more: a shrunk trace must still be valid input).
long first_failure(const CampaignOptions& o, const std::vector<Event>& evs, const std::string& id) {
  // A DIFF-* counterexample must stay a trace the model runs without breaking its own
  // invariants: shrinking may not drop the event that made a later one legal (an unmap
  // before another user's big PTE over the range), or it no longer shows the mutant alone.
  const bool diff = id.rfind("DIFF-", 0) == 0;
  try {
    SystemUnderTest d(o);
    for (std::size_t i = 0; i < evs.size(); ++i) {
      bool hit = false;
      for (const Finding& f : d.step(evs[i])) {
        if (diff && f.id.rfind("INV-", 0) == 0) return -1;
        hit = hit || f.id == id;
      }
      if (hit) return static_cast<long>(i);
    }
  } catch (const std::exception&) {
  }
  return -1;
}

long first_table_failure(const CampaignOptions& o, const std::vector<TableOp>& ops, const std::string& id) {
  TableDifferential t(format_of(o), o.format);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    auto f = t.step(ops[i]);
    auto all = t.check_all();
    f.insert(f.end(), all.begin(), all.end());
    for (const Finding& x : f)
      if (x.id == id) return static_cast<long>(i);
  }
  return -1;
}

std::string out_path(const CampaignOptions& o, const std::string& id, std::uint64_t seed, const char* ext) {
  std::filesystem::create_directories(o.out_dir);
  return o.out_dir + "/fuzz-" + o.impl + "-" + id + "-seed" + std::to_string(seed) +
         (o.format.mutant ? std::string("-") + o.format.mutant->name : "") + ext;
}

std::string write_trace(const CampaignOptions& o, const std::vector<Event>& evs, const Finding& f, std::uint64_t seed) {
  trace::Header h;
  h.profile = o.profile;
  h.params = o.params;
  h.arch = impl_runs(o) ? o.impl : "abstract";
  h.cpus = o.cpus;
  h.phys_mem = frames_for(o) * 4096;
  h.provenance = {{"source", "vmref fuzz (minimized counterexample)"}, {"command", campaign_command(o)},
                  {"episode_seed", seed}, {"finding", f.id}, {"message", f.message},
                  {"expected", {{"verdict", "findings"}, {"ids", {f.id}}}}};
  if (impl_runs(o)) {  // what a plain `vmref replay FILE` runs (spec/trace-format.md §2)
    nlohmann::json run{{"impl", o.impl}, {"params", o.format.params}};
    if (o.format.mutant) run["mutant"] = impl::to_string(o.format.mutant);
    h.provenance["replay"] = run;
  }
  std::string path = out_path(o, f.id, seed, ".jsonl");
  trace::LineWriter w(path, false);
  w.write(trace::header_to_json(h).dump());
  for (const Event& e : evs) w.write(trace::event_to_json(e).dump());
  w.close();
  return path;
}

std::string write_table_ops(const CampaignOptions& o, const std::vector<TableOp>& ops, const Finding& f,
                            std::uint64_t seed) {
  std::string path = out_path(o, f.id, seed, ".tables.jsonl");
  trace::LineWriter w(path, false);
  nlohmann::json head{{"vmref_table_ops", 1}, {"arch", o.impl}, {"finding", f.id},
                      {"mutant", impl::to_string(o.format.mutant)}, {"message", f.message},
                      {"command", campaign_command(o)}};
  for (const impl::FormatParam& p : format_of(o).params) head[p.name] = o.format.get(p.name, p.dflt);
  w.write(head.dump());
  auto fields = format_of(o).codec(o.format)->arch_fields();
  for (const TableOp& t : ops) w.write(t.to_json(fields).dump());
  w.close();
  return path;
}

/// One job: episodes of the VMM layer, with table-layer operations interleaved.
struct Job {
  const CampaignOptions& o;
  std::uint64_t seed;
  std::atomic<std::uint64_t>& done;
  std::atomic<std::uint64_t>& findings;
  std::atomic<bool>& stop;
  std::function<bool()> claim;  ///< counts one operation; false when the time is up
  std::function<bool()> more;   ///< whether time is left (always true in --ops mode)
  CorpusProgress* progress;     ///< finished episodes (--corpus), or nullptr
  CampaignResult r;

  void vmm_finding(std::vector<Event> evs, const Finding& f, std::uint64_t ep_seed) {
    Counterexample c{f.id, f.message, "", evs.size(), 0, false};
    evs = conformance::ddmin<Event>(std::move(evs), [&](const std::vector<Event>& cand) { return first_failure(o, cand, f.id); },
                                    o.shrink_runs);
    c.minimized = evs.size();
    c.reproduces = first_failure(o, evs, f.id) >= 0;
    if (!o.out_dir.empty()) c.file = write_trace(o, evs, f, ep_seed);
    r.examples.push_back(c);
  }

  void table_finding(std::vector<TableOp> ops, const Finding& f, std::uint64_t ep_seed) {
    Counterexample c{f.id, f.message, "", ops.size(), 0, false};
    ops = conformance::ddmin<TableOp>(
        std::move(ops), [&](const std::vector<TableOp>& cand) { return first_table_failure(o, cand, f.id); }, o.shrink_runs);
    c.minimized = ops.size();
    c.reproduces = first_table_failure(o, ops, f.id) >= 0;
    if (!o.out_dir.empty()) c.file = write_table_ops(o, ops, f, ep_seed);
    r.examples.push_back(c);
  }

  /// Whether a counterexample for `id` was already shrunk (one per ID is enough).
  bool seen(const std::string& id) const {
    for (const Counterexample& c : r.examples)
      if (c.id == id) return true;
    return false;
  }

  void record(const std::vector<Finding>& fs) {
    for (const Finding& f : fs) ++r.by_id[f.id];
    r.findings += fs.size();
    findings += fs.size();
  }

  /// One episode of at most `length` events; returns false when it ended in a finding or
  /// an error.
  bool episode(std::uint64_t ep_seed, std::uint64_t length) {
    auto gen = source_for(o, ep_seed);
    std::optional<SystemUnderTest> d;
    if (o.vmm_layer || o.model_only) d.emplace(o);
    std::optional<TableDifferential> t;
    if (o.table_layer && impl_runs(o)) t.emplace(format_of(o), o.format);  // the engine is not what a model-only profile tests
    std::mt19937_64 rng(ep_seed ^ 0x9e3779b97f4a7c15ull);
    std::vector<Event> evs;
    std::vector<TableOp> tops;
    for (std::uint64_t i = 0; i < length && !stop && claim(); ++i) {
      bool table_turn = t && (!d || rng() % 4 == 0);
      ++r.ops;
      if (table_turn) {
        TableOp op = t->random_op(rng);
        tops.push_back(op);
        ++r.table_ops;
        ++r.op_kinds[std::string("table.") + (op.kind == TableOp::map ? "map" : op.kind == TableOp::protect ? "protect" : "unmap")];
        auto fs = t->step(op);
        if (!fs.empty()) {
          record(fs);
          if (!seen(fs.front().id)) table_finding(tops, fs.front(), ep_seed);
          return false;
        }
        continue;
      }
      Event e = gen->next();
      evs.push_back(e);
      ++r.vmm_ops;
      ++r.op_kinds[e.op_name()];
      std::vector<Finding> fs;
      try {
        fs = d->step(e);
        gen->feedback(e, d->last_outcome());
      } catch (const std::exception& ex) {
        if (r.first_error.empty()) r.first_error = "seed " + std::to_string(ep_seed) + " event " + std::to_string(i) + ": " + ex.what();
        return false;
      }
      if (!fs.empty()) {
        record(fs);
        if (!seen(fs.front().id)) vmm_finding(evs, fs.front(), ep_seed);
        return false;
      }
    }
    if (d && d->differential()) {
      const DiffStats& s = d->differential()->stats();
      auto mx = [&](const char* k, std::uint64_t v) { r.shapes[k] = std::max(r.shapes[k], v); };
      mx("vmm.max_table_pages", s.max_table_pages);
      mx("vmm.max_tlb_entries_per_cpu", s.max_tlb_entries);
      mx("vmm.max_walk_entries_per_cpu", s.max_walk_entries);
      r.shapes["vmm.full_checks"] += s.full_checks;
      r.shapes["vmm.ptes_compared"] += s.compared_ptes;
      r.shapes["vmm.tlb_entries_compared"] += s.compared_tlb;
      if (s.compared_huge) r.shapes["vmm.huge_leaves_compared"] += s.compared_huge;
      if (s.compared_huge_tlb) r.shapes["vmm.huge_tlb_entries_compared"] += s.compared_huge_tlb;
    }
    if (t) {
      r.shapes["tables.large_leaf_pages_compared"] += t->large_leaves_seen();
      r.shapes["tables.max_table_pages"] = std::max(r.shapes["tables.max_table_pages"], t->max_tables());
    }
    return true;
  }

  /// This job's episodes: of the shard's (numbers shard, shard + shards, ...), every
  /// jobs-th from the job-th; in --ops mode up to the plan's last episode.
  void run(unsigned job, unsigned jobs) {
    const std::uint64_t planned = o.seconds > 0 ? ~0ull : (o.ops + o.episode - 1) / o.episode;
    for (std::uint64_t k = job; more() && !stop; k += jobs) {
      const std::uint64_t ep = o.shard + k * o.shards;
      if (ep >= planned) break;
      const std::uint64_t length = o.seconds > 0 ? o.episode : std::min(o.episode, o.ops - ep * o.episode);
      if (progress && progress->done(ep)) {
        ++r.resumed;
        continue;
      }
      const std::uint64_t before = r.ops;
      const bool clean = episode(seed * 1000003ull + ep, length);
      // Finished: ran its whole length, or ended in a finding (its counterexample is
      // kept). A cut episode (time up, interrupt) or a shortened last one is not.
      const bool finished = clean ? r.ops - before == o.episode : r.first_error.empty();
      if (progress && finished && length == o.episode) progress->add(ep);
      if (!clean) {
        // A finding ends its episode; the campaign goes on to collect other IDs unless
        // asked to stop at the first one. A harness error always stops it.
        if (!r.first_error.empty() || (o.stop_at_first && !r.examples.empty())) stop = true;
      }
    }
  }
};

void merge(CampaignResult& into, const CampaignResult& r) {
  into.ops += r.ops;
  into.vmm_ops += r.vmm_ops;
  into.table_ops += r.table_ops;
  into.findings += r.findings;
  into.resumed += r.resumed;
  for (auto& [k, v] : r.op_kinds) into.op_kinds[k] += v;
  for (auto& [k, v] : r.by_id) into.by_id[k] += v;
  for (auto& [k, v] : r.shapes) into.shapes[k] = k.find("max") != std::string::npos ? std::max(into.shapes[k], v) : into.shapes[k] + v;
  for (const Counterexample& c : r.examples) {
    bool dup = false;
    for (const Counterexample& x : into.examples) dup = dup || x.id == c.id;
    if (!dup) into.examples.push_back(c);
  }
  if (into.first_error.empty()) into.first_error = r.first_error;
}

}  // namespace

std::vector<Finding> run_episode(const CampaignOptions& o, conformance::Random rng, std::uint64_t max_events) {
  static_cast<void>(format_of(o));  // throws for an unknown implementation
  SystemUnderTest d(o);
  auto gen = source_for(o, rng);
  for (std::uint64_t i = 0; i < max_events && !rng.exhausted(); ++i) {
    Event e = gen->next();
    std::vector<Finding> fs = d.step(e);
    if (!fs.empty()) return fs;
    gen->feedback(e, d.last_outcome());
  }
  return {};
}

nlohmann::json with_implied_params(nlohmann::json given, const impl::FormatInfo& format, const vocab::KernelInfo& kernel) {
  for (const auto& [name, value] : format.implied_params)
    for (const vocab::ParamSpec& p : kernel.settable)
      if (p.name == name && !given.contains(name)) given[name] = value;
  return given;
}

void resolve_defaults(CampaignOptions& o) {
  if (o.impl.empty() && !impl::all_formats().empty()) o.impl = impl::all_formats().front()->name;
  if (o.profile.empty() && !vocab::kernels().empty()) o.profile = vocab::kernels().front()->name;
  format_of(o);                    // throws for an unknown implementation
  if (!o.model_only) o.params = with_implied_params(o.params, format_of(o), kernel_of(o));
  profile_of(o);                   // throws for an unknown profile or a refused --param
  if (!o.vmm_layer && !o.table_layer && !o.model_only) throw std::invalid_argument("no layer selected");
  if (o.shards < 1 || o.shard >= o.shards) throw std::invalid_argument("--shard: K must be 1..N");
  if (o.episode < 1) throw std::invalid_argument("--episode: at least 1 event");
  if (o.model_only && o.format.mutant)
    throw std::invalid_argument("the model layer runs no implementation: mutants of the implementation do not apply");
  if (!o.model_only) {
    check_reach(o);
    Differential probe(config_for(o));  // a kernel may refuse the format (nova: the other MMU version)
  }
}

CampaignResult run_campaign(const CampaignOptions& opt) {
  CampaignOptions o = opt;
  resolve_defaults(o);
  std::optional<CorpusProgress> progress;
  CorpusReplay corpus;
  if (!o.corpus_dir.empty()) {
    progress.emplace(o.corpus_dir, campaign_identity(o));  // creates the directory
    corpus = replay_corpus(o);
    if (o.out_dir.empty()) o.out_dir = o.corpus_dir;
  }
  auto t0 = std::chrono::steady_clock::now();
  std::atomic<std::uint64_t> done{0}, findings{0};
  std::atomic<bool> stop{false};
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  auto more = [&] { return o.seconds <= 0 || elapsed() < o.seconds; };
  auto claim = [&] { return more() && (++done, true); };
  unsigned jobs = std::max(1u, o.jobs);
  std::vector<std::unique_ptr<Job>> js;
  for (unsigned j = 0; j < jobs; ++j) js.push_back(std::make_unique<Job>(Job{o, o.seed, done, findings, stop, claim, more, progress ? &*progress : nullptr, {}}));
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < jobs; ++j) threads.emplace_back([&, j] { js[j]->run(j, jobs); });
  std::atomic<bool> finished{false};
  double last = 0;
  bool interrupted = false;
  std::thread reporter([&] {
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (o.interrupt && o.interrupt->load() && !stop) interrupted = stop = true;
      if (o.progress && elapsed() - last >= 1.0) {
        last = elapsed();
        std::uint64_t n = done.load();
        o.progress(n, static_cast<double>(n) / std::max(1e-9, last), findings.load());
      }
    }
  });
  for (auto& t : threads) t.join();
  finished = true;
  reporter.join();
  CampaignResult r;
  r.model_only = !impl_runs(o);
  r.params = o.params;
  r.interrupted = interrupted;
  for (auto& j : js) merge(r, j->r);
  r.corpus = std::move(corpus);
  if (progress) progress->save();
  r.seconds = elapsed();
  return r;
}

std::string campaign_command(const CampaignOptions& o) {
  std::string c = "vmref fuzz --profile " + o.profile + " --seed " + std::to_string(o.seed) + " --cpus " +
                  std::to_string(o.cpus) + " --episode " + std::to_string(o.episode) + " --jobs " + std::to_string(o.jobs);
  c += o.seconds > 0 ? " --time " + std::to_string(o.seconds) : " --ops " + std::to_string(o.ops);
  c += " --layer " + std::string(o.model_only ? "model" : o.vmm_layer && o.table_layer ? "both" : o.vmm_layer ? "vmm" : "tables");
  for (auto it = o.params.begin(); it != o.params.end(); ++it)
    c += " --param " + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
  if (!o.model_only) c += " --impl " + o.impl;
  for (const auto& [name, v] : o.format.params) c += " --" + name + " " + std::to_string(v);
  if (o.format.mutant) c += std::string(" --mutant ") + impl::to_string(o.format.mutant);
  if (o.stop_at_first) c += " --stop-at-first";
  if (o.shards > 1) c += " --shard " + std::to_string(o.shard + 1) + "/" + std::to_string(o.shards);
  if (!o.corpus_dir.empty()) c += " --corpus " + o.corpus_dir;
  return c;
}

std::vector<std::pair<std::string, std::string>> replay_counterexample(const std::string& path, impl::Mutant m) {
  trace::LineReader in(path);
  std::string text;
  if (!in.next(text)) throw std::runtime_error(path + ":1: empty file");
  nlohmann::json head = trace::parse_json(text, path, 1);
  if (!head.is_object() || !head.contains("vmref_table_ops"))
    throw std::runtime_error(path + ":1: not a table-op file (replay traces with `vmref replay --impl`)");
  std::string arch = head.value("arch", impl::all_formats().empty() ? "" : impl::all_formats().front()->name);
  const impl::FormatInfo* format = impl::find_format(arch);
  if (!format) throw std::runtime_error(path + ":1: field 'arch': unknown format '" + arch + "'");
  impl::FormatConfig cfg;
  cfg.mutant = m;  // the header's "mutant" says which variant failed; the caller decides what runs
  for (const impl::FormatParam& p : format->params)
    if (head.contains(p.name) && head[p.name].is_number_unsigned()) cfg.params[p.name] = head[p.name].get<unsigned>();
  TableDifferential t(*format, cfg);
  std::vector<std::pair<std::string, std::string>> out;
  std::uint64_t line = 1;
  while (in.next(text)) {
    ++line;
    TableOp op;
    try {
      op = TableOp::from_json(trace::parse_json(text, path, line), t.fields());
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ":" + std::to_string(line) + ": " + e.what());
    }
    for (auto& f : t.step(op)) out.push_back({f.id, "line " + std::to_string(line) + ": " + f.message});
  }
  for (auto& f : t.check_all()) out.push_back({f.id, "end: " + f.message});
  return out;
}

}  // namespace vmref::diff
