// Z3 plumbing shared by every owner's obligations (spec/prove.md §1): a solver with the
// request's timeout, checking "assumptions imply goal" and turning the answer into a
// Result, and reading a model's bit-vector values back as numbers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <z3++.h>

#include "vmref/prove/obligation.hpp"

namespace vmref::prove {

/// A 64-bit bit-vector constant named `name` (a symbolic word, bytes or a count).
z3::expr word_var(z3::context& c, const std::string& name);
/// A 64-bit numeral.
z3::expr word_val(z3::context& c, std::uint64_t v);

/// Checks that `assumptions` imply `goal` under `req`'s timeout: proved when
/// `assumptions && !goal` is unsatisfiable. On sat, `explain` turns the model into the
/// counterexample text (and may write a trace into the result); unknown gives the reason.
Result check_implies(z3::context& c, const z3::expr& assumptions, const z3::expr& goal, const Request& req,
                     const std::function<void(const z3::model&, Result&)>& explain);

/// One depth of a bounded model check (spec/prove.md §3): the constraints it adds to the
/// path (its step is one of the operations and applicable, its post-state named, its
/// arguments bounded) and the formula "the invariant fails after this step".
struct BmcDepth {
  std::vector<z3::expr> path;
  z3::expr violated;
};

/// Bounded model checking to `req.depth` operations: depth k is `unroll(k)`, checked with
/// every earlier depth's path by a fresh non-incremental QF_BV solver (bit-blasting beats
/// Z3's incremental core on these queries). The first satisfiable depth is the shortest
/// counterexample: `found(model, k, result)` returns its operations as text (and writes
/// and replays its trace into the result). Unknown gives the solver's reason and depth.
Result bounded_check(z3::context& c, const Request& req, const std::function<BmcDepth(unsigned)>& unroll,
                     const std::function<std::vector<std::string>(const z3::model&, unsigned, Result&)>& found);

/// The value of a 64-bit term in `m` (model completion: unconstrained terms read 0).
std::uint64_t u64_of(const z3::model& m, const z3::expr& e);
/// The value of a Boolean term in `m`.
bool bool_of(const z3::model& m, const z3::expr& e);
/// "0x…" for a word.
std::string hex(std::uint64_t v);

/// Seconds since `t0`.
double seconds_since(std::chrono::steady_clock::time_point t0);

/// How an arithmetic lemma started at `t0` ends (spec/prove.md §4): its time, and a
/// counterexample marked as the values in its detail (a lemma has no trace to replay).
Result finish_lemma(Result r, std::chrono::steady_clock::time_point t0);

}  // namespace vmref::prove

// For z3::expr words, the names vmref/vocab/word.hpp gives std::uint64_t: z3++ defines
// ult, ule, ugt, uge, ite, shl and lshr; `lit` and `bit` are ours, found by ADL.
namespace z3 {
/// A 64-bit numeral of the context of `like`.
inline expr lit(const expr& like, std::uint64_t v) { return like.ctx().bv_val(v, like.get_sort().bv_size()); }
/// Bit `n` of `a` as a Boolean.
inline expr bit(const expr& a, unsigned n) { return a.extract(n, n) == a.ctx().bv_val(1, 1); }
}  // namespace z3
