// What every kernel's obligations do with a counterexample (spec/prove.md §5): name its
// trace file, replay it through the C++ model and record the verdict, and compute each
// invariant's bounded model check once per run so that inductive steps and lemmas can
// borrow its trace. Lives in `vmref_prove_replay`, which links the replay.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "vmref/prove/obligation.hpp"

namespace vmref::prove {

/// `out_dir/PROFILE.SUFFIX.jsonl`, the profile's ':' written as '-'.
std::string trace_path(const std::string& out_dir, const std::string& profile, const std::string& suffix);

/// Replays `path` on the model alone and records in `r` whether it reports `id` (only at
/// its last event when `last_only`: a built pre-state must not break it before the
/// operation does). A replay that does not confirm is reported as a defect in the
/// encoding or the model, never dropped.
void confirm_by_replay(const std::string& path, const std::string& id, Result& r, bool last_only = false);

/// One result per key, computed by the first caller that asks (obligations run in parallel).
class OnceCache {
 public:
  template <class F> Result get(const std::string& key, F compute) {
    Entry* e;
    {
      std::lock_guard<std::mutex> g(mu_);
      auto& slot = entries_[key];
      if (!slot) slot = std::make_unique<Entry>();
      e = slot.get();
    }
    std::call_once(e->once, [&] { e->result = compute(); });
    return e->result;
  }

 private:
  struct Entry {
    std::once_flag once;
    Result result;
  };
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

/// The inductive step of one ID after `op`, tried first as one solver call for every ID of
/// the profile at once (spec/prove.md §2): `all` checks their conjunction, once per
/// operation through `cache`; when it holds, so does each ID, and the obligation that ran
/// it carries its time (the others 0 s). Otherwise `one` checks this ID alone, so that a
/// counterexample names the ID it breaks. `ids` is how many IDs `all` covers.
Result inductive_step(OnceCache& cache, const std::string& op, std::size_t ids, const std::function<Result()>& all,
                      const std::function<Result()>& one);

/// The bounded model check of `id` (spec/prove.md §3), or its verdict without running it:
/// when every one of `premises` is proved (the base case of every ID, and each operation's
/// inductive step of all IDs at once), no sequence of any length breaks `id`, so the check
/// is reported proved and implied. Otherwise, or with req.explicit_bmc, `bmc` runs. The
/// premises should be cached, as the inductive obligations compute them too; parallel
/// obligations start them at different places (`start`, modulo their number) so that
/// workers compute different ones.
Result implied_or_bmc(const Request& req, const std::string& id, const std::vector<std::function<Result()>>& premises,
                      std::size_t start, const std::function<Result()>& bmc);

/// implied_or_bmc's premises for a kernel: the base case of every ID of `based` (one
/// premise), then for each operation name of `ops` the inductive step of all IDs at once,
/// `step(k)` for ops[k], cached in `steps` under that name as inductive_step caches it.
std::vector<std::function<Result()>> induction_premises(const std::vector<std::string>& based,
                                                        const std::function<Result(const std::string&)>& base,
                                                        OnceCache& steps, const std::vector<std::string>& ops,
                                                        const std::function<Result(std::size_t)>& step);

/// A kernel's BMC of `id`, computed once per run (`run.bmc`), unless induction implies it:
/// implied_or_bmc over induction_premises, with the base cases of `based`, the operations
/// `ops` (named by `name`, stepped by `step(op)`, cached in `run.steps`) and `bmc()`.
template <class Run, class Ops, class Name, class Base, class Step, class Bmc>
Result bmc_unless_implied(Run& run, const std::string& id, const std::vector<std::string>& based, const Ops& ops,
                          Name name, Base base, Step step, Bmc bmc) {
  return run.bmc.get(id, [&] {
    std::vector<std::string> names;
    for (const auto& op : ops) names.push_back(name(op));
    const auto premises =
        induction_premises(based, base, run.steps, names, [&](std::size_t k) { return step(ops[k]); });
    return implied_or_bmc(run.req, id, premises, std::hash<std::string>{}(id), bmc);
  });
}

/// Gives a counterexample with no trace of its own the BMC trace `b` of the same ID: its
/// pre-state is then shown reachable, or the report says BMC did not reach one.
void borrow_bmc_trace(const Result& b, const std::string& id, unsigned depth, Result& r);

/// How an inductive step of `id` after `op` ends (spec/prove.md §5), for kernels whose
/// counterexamples borrow BMC traces: a counterexample of an invariant borrows the trace of
/// `bmc()` (its ID's BMC, computed once per run); one of a strengthening lemma, which no
/// model check names, is reported as a defect of the lemma (defined in `lemma_section`) or
/// of the encoding; a proof says what was shown.
void finish_inductive(Result& r, const std::string& id, const std::string& op, unsigned depth,
                      const std::string& lemma_section, const std::function<Result()>& bmc);

}  // namespace vmref::prove
