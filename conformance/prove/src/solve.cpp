#include "vmref/prove/solve.hpp"

#include <cstdio>

namespace vmref::prove {

z3::expr word_var(z3::context& c, const std::string& name) { return c.bv_const(name.c_str(), 64); }
z3::expr word_val(z3::context& c, std::uint64_t v) { return c.bv_val(v, 64); }

Result check_implies(z3::context& c, const z3::expr& assumptions, const z3::expr& goal, const Request& req,
                     const std::function<void(const z3::model&, Result&)>& explain) {
  auto t0 = std::chrono::steady_clock::now();
  z3::solver s(c);
  z3::params p(c);
  p.set("timeout", req.timeout_ms);
  s.set(p);
  s.add(assumptions);
  s.add(!goal);
  Result r;
  switch (s.check()) {
    case z3::unsat: r.status = Status::proved; break;
    case z3::sat:
      r.status = Status::counterexample;
      explain(s.get_model(), r);
      break;
    case z3::unknown:
      r.status = Status::unknown;
      r.detail = "solver: " + s.reason_unknown();
      break;
  }
  r.seconds = seconds_since(t0);
  return r;
}

Result bounded_check(z3::context& c, const Request& req, const std::function<BmcDepth(unsigned)>& unroll,
                     const std::function<std::vector<std::string>(const z3::model&, unsigned, Result&)>& found) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<z3::expr> path;
  Result r;
  for (unsigned k = 0; k < req.depth; ++k) {
    BmcDepth d = unroll(k);
    path.insert(path.end(), d.path.begin(), d.path.end());
    z3::solver s(c, "QF_BV");
    z3::params p(c);
    p.set("timeout", req.timeout_ms);
    s.set(p);
    for (const z3::expr& x : path) s.add(x);
    s.add(d.violated);
    z3::check_result res = s.check();
    if (res == z3::sat) {
      r.status = Status::counterexample;
      std::vector<std::string> steps = found(s.get_model(), k, r);
      for (const std::string& t : steps) r.detail += (r.detail.empty() ? "" : "; ") + t;
      r.detail = std::to_string(steps.size()) + " operation(s): " + r.detail;
      r.seconds = seconds_since(t0);
      return r;
    }
    if (res == z3::unknown) {
      r.status = Status::unknown;
      r.detail = "solver at depth " + std::to_string(k + 1) + ": " + s.reason_unknown();
      r.seconds = seconds_since(t0);
      return r;
    }
  }
  r.status = Status::proved;
  r.detail = "no sequence of up to " + std::to_string(req.depth) + " operations breaks it";
  r.seconds = seconds_since(t0);
  return r;
}

std::uint64_t u64_of(const z3::model& m, const z3::expr& e) {
  z3::expr v = m.eval(e, true);
  std::uint64_t out = 0;
  if (!v.is_numeral_u64(out)) throw std::logic_error("not a 64-bit numeral: " + v.to_string());
  return out;
}

bool bool_of(const z3::model& m, const z3::expr& e) { return m.eval(e, true).is_true(); }

std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Result finish_lemma(Result r, std::chrono::steady_clock::time_point t0) {
  if (r.status == Status::counterexample) r.replay = "a format lemma: its counterexample is the values above (no trace)";
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace vmref::prove
