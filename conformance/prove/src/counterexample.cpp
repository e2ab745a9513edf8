// Counterexample traces replayed through the model (spec/prove.md §5).
#include "vmref/prove/counterexample.hpp"

#include "vmref/conformance/finding.hpp"
#include "vmref/conformance/replay.hpp"

namespace vmref::prove {

std::string trace_path(const std::string& out_dir, const std::string& profile, const std::string& suffix) {
  std::string name = profile;
  for (char& ch : name)
    if (ch == ':') ch = '-';
  return out_dir + "/" + name + "." + suffix + ".jsonl";
}

void confirm_by_replay(const std::string& path, const std::string& id, Result& r, bool last_only) {
  conformance::ReplayOptions o;
  o.model_only = true;
  conformance::ReplayResult rr = conformance::replay_file(path, o);
  r.trace = path;
  std::string found;
  for (const auto& [k, n] : rr.by_id) found += (found.empty() ? "" : ", ") + k;
  r.confirmed = rr.by_id.count(id) > 0;
  if (last_only)
    for (const conformance::Finding& f : rr.findings)
      if (f.id == id && f.event + 1 != rr.events) r.confirmed = false;  // events count from 0
  r.replay = r.confirmed ? "confirmed by replay, " + id + (rr.by_id.size() > 1 ? " (the replay reports " + found + ")" : "")
                         : "NOT confirmed by replay (" +
                               (rr.error.empty() ? "model reports " + (found.empty() ? "nothing" : found) : "bad input: " + rr.error) +
                               "): a defect in the encoding or the model";
}

Result implied_or_bmc(const Request& req, const std::string& id, const std::vector<std::function<Result()>>& premises,
                      std::size_t start, const std::function<Result()>& bmc) {
  if (req.explicit_bmc || premises.empty()) return bmc();
  Result r;
  for (std::size_t k = 0; k < premises.size(); ++k) {
    const Result p = premises[(start + k) % premises.size()]();
    if (p.status != Status::proved) return bmc();
    r.seconds += p.seconds;  // the solving done here, not the waits for other workers
  }
  r.status = Status::proved;
  r.detail = "implied by induction: the initial state satisfies every ID and every operation keeps them all, so no "
             "sequence of any length breaks " + id + " (--explicit-bmc runs the check)";
  return r;
}

std::vector<std::function<Result()>> induction_premises(const std::vector<std::string>& based,
                                                        const std::function<Result(const std::string&)>& base,
                                                        OnceCache& steps, const std::vector<std::string>& ops,
                                                        const std::function<Result(std::size_t)>& step) {
  // Each premise is solved once per run, whichever BMC asks first; the others read it.
  auto once = [&steps](const std::string& key, std::function<Result()> solve) {
    return [&steps, key, solve] {
      bool ran = false;
      Result r = steps.get(key, [&] {
        ran = true;
        return solve();
      });
      if (!ran) r.seconds = 0;  // solved by another obligation, which carries its time
      return r;
    };
  };
  std::vector<std::function<Result()>> out;
  out.push_back(once("\nbase cases", [based, base] {  // not an operation name
    Result all{Status::proved};
    for (const std::string& id : based) {
      Result r = base(id);
      if (r.status != Status::proved) return r;
      all.seconds += r.seconds;
    }
    return all;
  }));
  for (std::size_t k = 0; k < ops.size(); ++k) out.push_back(once(ops[k], [k, step] { return step(k); }));
  return out;
}

void borrow_bmc_trace(const Result& b, const std::string& id, unsigned depth, Result& r) {
  if (b.status == Status::counterexample) {
    r.trace = b.trace;
    r.replay = "reachable: " + b.replay;
    r.confirmed = b.confirmed;
  } else {
    r.replay = "NOT confirmed: BMC finds no violation of " + id + " within depth " + std::to_string(depth) +
               " (an unreachable pre-state needs a lemma, or the encoding and the model disagree)";
  }
}

void finish_inductive(Result& r, const std::string& id, const std::string& op, unsigned depth,
                      const std::string& lemma_section, const std::function<Result()>& bmc) {
  if (r.status == Status::counterexample) {
    if (id.rfind("INV-", 0) == 0) borrow_bmc_trace(bmc(), id, depth, r);
    else r.replay = "NOT confirmed: " + id + " is a strengthening lemma (" + lemma_section +
                    "), which no model check names; it should hold on this profile, so the lemma or the encoding is wrong";
  }
  if (r.status == Status::proved) r.detail = "holds after every " + op + " from the hypothesis";
}

Result inductive_step(OnceCache& cache, const std::string& op, std::size_t ids, const std::function<Result()>& all,
                      const std::function<Result()>& one) {
  bool ran = false;
  const Result a = cache.get(op, [&] {
    ran = true;
    return all();
  });
  if (a.status == Status::proved) {
    Result r = a;
    r.detail = "holds after every " + op + " from the hypothesis (one solver call proved all " + std::to_string(ids) +
               " IDs after " + op + (ran ? ")" : "; its time is on another obligation)");
    r.seconds = ran ? a.seconds : 0.0;
    return r;
  }
  Result r = one();  // the conjunction failed or timed out: which ID, and why
  if (ran) r.seconds += a.seconds;
  return r;
}

}  // namespace vmref::prove
