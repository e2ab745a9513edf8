// vmref prove : the invariants machine-checked with Z3 (spec/prove.md). Runs the proof
// obligations each kernel and format registers (vmref/prove/obligation.hpp), one line per
// obligation, counterexamples written as traces and replayed through the model.
#include <algorithm>
#include <cstdio>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>
#include <z3++.h>

#include "commands.hpp"
#include "vmref/conformance/proof_result.hpp"
#include "vmref/conformance/report.hpp"
#include "vmref/prove/corpus.hpp"
#include "vmref/prove/obligation.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::cli {

namespace {
struct ProveArgs {
  std::vector<std::string> profiles, formats, invs, ops, bounds;
  unsigned depth = 5, jobs = 2;
  double timeout = 60;
  std::string out, report, junit, shard, corpus;
  bool quiet = false, list = false, explicit_bmc = false;
};

/// One obligation with the profile it belongs to.
struct Job {
  std::string profile;
  prove::Obligation ob;
  prove::Result result;
  bool resumed = false;  ///< result taken from the --corpus
};

prove::Request request_of(const ProveArgs& a) {
  prove::Request r;
  for (const std::string& b : a.bounds) {
    auto eq = b.find('=');
    if (eq == std::string::npos || eq == 0) throw std::invalid_argument("--bound '" + b + "': expected NAME=N");
    std::size_t used = 0;
    unsigned long v = 0;
    try {
      v = std::stoul(b.substr(eq + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != b.size() - eq - 1 || v > 1024) throw std::invalid_argument("--bound '" + b + "': N must be 0..1024");
    r.bounds[b.substr(0, eq)] = static_cast<unsigned>(v);
  }
  r.depth = a.depth;
  r.explicit_bmc = a.explicit_bmc;
  r.timeout_ms = static_cast<unsigned>(a.timeout * 1000);
  // Counterexamples of a corpus campaign stay in the corpus, beside the results citing them.
  r.out_dir = !a.out.empty()      ? a.out
              : !a.corpus.empty() ? a.corpus
                                  : (std::filesystem::temp_directory_path() / ("vmref-prove-" + std::to_string(getpid()))).string();
  return r;
}

/// The obligations the options select: the named profiles and formats, or else every
/// kernel's correct profile and every format.
std::vector<Job> select(const ProveArgs& a, const prove::Request& req) {
  std::vector<std::pair<std::string, const prove::ProverInfo*>> owners;
  for (const std::string& p : a.profiles) {
    const prove::ProverInfo* pi = prove::find_prover(vocab::resolve_profile(p).kernel().name);
    if (!pi) throw std::invalid_argument("--profile " + p + ": this kernel has no SMT form yet (see `vmref prove --list`)");
    owners.emplace_back(p, pi);
  }
  for (const std::string& f : a.formats) {
    const prove::ProverInfo* pi = prove::find_prover(f);
    if (!pi || !pi->format) throw std::invalid_argument("--format " + f + ": no lemmas registered for this format");
    owners.emplace_back(f, pi);
  }
  if (owners.empty())
    for (const prove::ProverInfo& pi : prove::provers())
      owners.emplace_back(pi.suite_profile.empty() ? pi.owner : pi.suite_profile, &pi);
  std::vector<Job> jobs;
  for (const auto& [profile, pi] : owners)
    for (prove::Obligation& ob : pi->obligations(profile, req)) {
      if (!a.invs.empty() && std::find(a.invs.begin(), a.invs.end(), ob.id) == a.invs.end()) continue;
      if (!a.ops.empty() && std::find(a.ops.begin(), a.ops.end(), ob.op) == a.ops.end()) continue;
      jobs.push_back({profile, std::move(ob), {}});
    }
  if (jobs.empty()) throw std::invalid_argument("no obligation matches --inv/--op (see `vmref prove --list`)");
  return jobs;
}

/// The jobs of shard K of N (spec/prove.md §6): the obligations fall into groups that share
/// solver work (a profile's inductive steps of one operation, which share one conjunction
/// call; each other obligation alone), and the groups, in registry order, go round-robin to
/// the shards. Every obligation is in exactly one shard, whatever the machine.
std::vector<Job> shard(std::vector<Job> jobs, std::pair<unsigned, unsigned> kn) {
  if (kn.second == 1) return jobs;
  std::map<std::string, std::size_t> group;  // key -> group number in order of first appearance
  std::vector<Job> out;
  for (Job& j : jobs) {
    const bool step = j.ob.kind == prove::Kind::inductive && j.ob.op != "initial";
    const std::string key = j.profile + "\n" + prove::to_string(j.ob.kind) + "\n" + (step ? j.ob.op : j.ob.id + "\n" + j.ob.op);
    const std::size_t g = group.emplace(key, group.size()).first->second;
    if (g % kn.second == kn.first - 1) out.push_back(std::move(j));
  }
  return out;
}

std::string line_of(const Job& j) {
  std::string l = fmt::format("{:<14} {:>7.2f}s  {} {} {}{}{}", prove::to_string(j.result.status), j.result.seconds,
                              prove::to_string(j.ob.kind), j.profile, j.ob.id, j.ob.op.empty() ? "" : " " + j.ob.op,
                              j.resumed ? "  (from the corpus)" : "");
  if (j.result.status != prove::Status::proved) l += "\n    " + j.result.detail;
  if (!j.result.trace.empty()) l += "\n    trace: " + j.result.trace;
  if (!j.result.replay.empty()) l += "\n    " + j.result.replay;
  return l;
}

/// The results as report rows: what `--report` writes and `--junit` and `vmref report` render.
std::vector<conformance::ProofRow> rows_of(const std::vector<Job>& jobs) {
  std::vector<conformance::ProofRow> rows;
  for (const Job& j : jobs)
    rows.push_back({prove::to_string(j.ob.kind), j.ob.owner, j.profile, j.ob.id, j.ob.op, j.ob.cite,
                    prove::to_string(j.result.status), j.result.detail, j.result.trace, j.result.replay, j.result.confirmed,
                    j.result.seconds});
  return rows;
}

void list_provers() {
  for (const prove::ProverInfo& pi : prove::provers()) {
    std::cout << (pi.format ? "format " : "kernel ") << pi.owner << "\n  " << pi.coverage << "\n";
    for (const auto& [name, what] : pi.bounds) std::cout << "  --bound " << name << "=N  (default " << what << ")\n";
  }
}

/// What every result of a campaign depends on besides the obligation: a corpus keeps
/// results under it, so a rerun with other bounds or another build solves again.
std::string campaign_identity(const prove::Request& req) {
  std::string id = fmt::format("vmref {} depth={} timeout_ms={}{}", kVersion, req.depth, req.timeout_ms,
                               req.explicit_bmc ? " explicit_bmc" : "");
  for (const auto& [k, v] : req.bounds) id += fmt::format(" {}={}", k, v);
  return id;
}

int run_prove(const ProveArgs& a) {
  if (a.list) {
    list_provers();
    return kExitClean;
  }
  prove::Request req = request_of(a);
  const std::pair<unsigned, unsigned> kn = shard_of(a.shard);
  std::vector<Job> jobs = shard(select(a, req), kn);
  std::optional<prove::ProofCorpus> corpus;
  if (!a.corpus.empty()) corpus.emplace(a.corpus, campaign_identity(req));
  std::string corpus_error;  // the first failure to record a result (the file is then stale)
  const std::string in_shard = kn.second == 1 ? "" : fmt::format(" in shard {}/{}", kn.first, kn.second);
  // A report or JUnit file on standard output keeps it clean: the progress goes to stderr.
  std::ostream& log = a.report == "-" || a.junit == "-" ? std::cerr : std::cout;
  // Bounded model checks are the longest obligations: started first, they no longer leave
  // one worker busy alone at the end (longest first; the report keeps the registry order).
  std::vector<std::size_t> order(jobs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_partition(order.begin(), order.end(), [&](std::size_t i) { return jobs[i].ob.kind == prove::Kind::bmc; });
  std::atomic<std::size_t> next{0};
  std::mutex out_mu;
  std::size_t done = 0;
  auto worker = [&] {
    for (std::size_t k; (k = next++) < jobs.size();) {
      Job& j = jobs[order[k]];
      const std::string key = corpus ? prove::ProofCorpus::key(j.profile, j.ob) : "";
      if (auto r = corpus ? corpus->find(key) : std::nullopt) {
        j.result = *r, j.resumed = true;
      } else {
        try {
          j.result = j.ob.run(req);
        } catch (const z3::exception& e) {
          j.result.status = prove::Status::unknown;
          j.result.detail = std::string("Z3: ") + e.msg();
        } catch (const std::exception& e) {  // an encoding that cannot be built is never "proved"
          j.result.status = prove::Status::unknown;
          j.result.detail = std::string("obligation failed to run: ") + e.what();
        }
      }
      if (corpus && !j.resumed) try {
          corpus->add(key, j.result);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> g(out_mu);
          if (corpus_error.empty()) corpus_error = e.what();
        }
      std::lock_guard<std::mutex> g(out_mu);
      ++done;
      if (!a.quiet) log << line_of(j) << std::endl;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < std::max(1u, a.jobs); ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
  if (!corpus_error.empty()) throw std::runtime_error(corpus_error);
  std::size_t proved = 0, cex = 0, confirmed = 0, unknown = 0, resumed = 0;
  double total = 0;
  const Job* slowest = nullptr;
  for (const Job& j : jobs) {
    proved += j.result.status == prove::Status::proved;
    cex += j.result.status == prove::Status::counterexample;
    confirmed += j.result.status == prove::Status::counterexample && j.result.confirmed;
    unknown += j.result.status == prove::Status::unknown;
    resumed += j.resumed;
    if (j.resumed) continue;  // solved in an earlier run: not this run's solver time
    total += j.result.seconds;
    if (!slowest || j.result.seconds > slowest->result.seconds) slowest = &j;
  }
  std::string bounds;
  for (const auto& [k, v] : req.bounds) bounds += " " + k + "=" + std::to_string(v);
  log << fmt::format("{} obligations{}: {} proved, {} counterexample(s) ({} confirmed by replay), {} unknown; depth {}, "
                     "bounds{}; solver time {:.2f}s",
                     jobs.size(), in_shard, proved, cex, confirmed, unknown, req.depth, bounds.empty() ? " default" : bounds,
                     total);
  if (slowest)
    log << fmt::format(", slowest {:.2f}s ({} {} {}{})", slowest->result.seconds, prove::to_string(slowest->ob.kind),
                       slowest->profile, slowest->ob.id, slowest->ob.op.empty() ? "" : " " + slowest->ob.op);
  if (corpus) log << fmt::format("; {} resumed from the corpus {}", resumed, a.corpus);
  log << "\n";
  if (cex) log << "counterexample traces in " << req.out_dir << "\n";
  const std::vector<conformance::ProofRow> rows = rows_of(jobs);
  if (!a.report.empty())
    write_text(a.report, conformance::proofs_to_json(rows, {{"bounds", req.bounds},
                                                            {"depth", req.depth},
                                                            {"explicit_bmc", req.explicit_bmc},
                                                            {"timeout_ms", req.timeout_ms},
                                                            {"shard", fmt::format("{}/{}", kn.first, kn.second)},
                                                            {"resumed", resumed}})
                                  .dump(2) + "\n");
  if (!a.junit.empty()) write_text(a.junit, conformance::report_junit({}, rows));
  return proved == jobs.size() ? kExitClean : kExitFindings;
}
}  // namespace

Runner add_prove(CLI::App& app) {
  auto a = std::make_shared<ProveArgs>();
  auto* c = app.add_subcommand("prove", "Check the invariants with Z3: lemmas, inductive steps, bounded model checking");
  c->add_option("--profile", a->profiles, "Kernel profile(s) to prove, KERNEL[:VARIANT] (default: every kernel's own)")
      ->check(CLI::IsMember(profile_choices()));
  c->add_option("--format", a->formats, "Page-table format(s) whose lemmas to prove")->check(CLI::IsMember(format_choices()));
  c->add_option("--inv", a->invs, "Only these invariant or lemma IDs");
  c->add_option("--op", a->ops, "Only inductive steps of these operations");
  c->add_option("--bound", a->bounds, "Bound of the symbolic state, NAME=N (see --list)");
  c->add_option("--depth", a->depth, "Bounded model checking: operations after the initial state")->capture_default_str()
      ->check(CLI::Range(1, 32));
  c->add_flag("--explicit-bmc", a->explicit_bmc,
              "Run every bounded model check, also those implied by proved inductive steps and base cases");
  c->add_option("--timeout", a->timeout, "Seconds per solver call; an obligation over it is unknown")->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  c->add_option("-j,--jobs", a->jobs, "Obligations run in parallel")->capture_default_str()->check(CLI::Range(1, 64));
  c->add_option("--out", a->out, "Directory for counterexample traces (default: a fresh temporary directory)");
  c->add_option("--report,--json", a->report, "Write every obligation's result as JSON (- for standard output)");
  c->add_option("--junit", a->junit, "Write JUnit XML: a counterexample is a failure, an unknown an error (- for standard output)");
  c->add_option("--shard", a->shard,
                 "Run only shard K of N (K/N): the obligations split deterministically, for several machines; "
                 "`vmref report` merges the shards' --report files");
  c->add_option("--corpus", a->corpus,
                 "Resume from and add to DIR: decided obligations recorded there (DIR/proofs.json) are not "
                 "solved again; counterexample traces are written there (unless --out)");
  c->add_flag("-q,--quiet", a->quiet, "Print only the summary");
  c->add_flag("--list", a->list, "List the kernels and formats that have an SMT form, with their bounds");
  return [a] { return run_prove(*a); };
}

}  // namespace vmref::cli
