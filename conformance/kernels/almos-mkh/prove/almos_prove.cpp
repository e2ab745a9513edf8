// almos-mkh's proof obligations (spec/kernels/almos-mkh.md §11): the MMAP allocator's
// power-of-two rounding and zombie classes over all 2^64 inputs, on the model's own
// functions (almos_arith.hpp). Its state and operations have no SMT form yet.
#include "almos_arith.hpp"
#include "almos_events.hpp"
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::almos {

using namespace vmref::prove;
using z3::expr;

namespace {

constexpr const char* kCite = "spec/kernels/almos-mkh.md §11";

/// LEM-ALMOS-A1: for every length the MMAP path accepts, the zombie class k of its page
/// count is the smallest with 2^k >= pages, so a block of class k always holds the request.
Result lemma_order(const Request& req) {
  z3::context c;
  expr len = word_var(c, "len"), page = word_val(c, 4096);
  expr pages = z3::lshr(len + page - word_val(c, 1), word_val(c, 12));
  expr pre = !z3::ult(len + page, len) && pages != 0;  // the model's refusals (spec §4)
  expr k = arith::mmap_order(pages);
  expr one = word_val(c, 1);
  expr goal = z3::ule(k, word_val(c, 52)) && z3::uge(z3::shl(one, k), pages) &&
              (k == 0 || z3::ult(z3::shl(one, k - one), pages));
  return check_implies(c, pre, goal, req, [&](const z3::model& m, Result& r) {
    r.detail = "len " + hex(u64_of(m, len)) + ": pages " + hex(u64_of(m, pages)) + ", class " + std::to_string(u64_of(m, k));
  });
}

/// LEM-ALMOS-A2: a fresh block the bump pointer grants lies inside the MMAP zone.
Result lemma_zone(const AlmosParams& p, const Request& req) {
  z3::context c;
  expr ff = word_var(c, "first_free"), k = word_var(c, "order");
  expr base = word_val(c, p.mmap_base), end = word_val(c, p.mmap_base + p.mmap_pages);
  expr pre = z3::uge(ff, base) && z3::ule(ff, end) && z3::ule(k, word_val(c, 52));
  expr goal = z3::implies(!arith::mmap_exhausted(ff, k, end), z3::ule(ff + z3::shl(word_val(c, 1), k), end));
  return check_implies(c, pre, goal, req, [&](const z3::model& m, Result& r) {
    r.detail = "first_free_vpn " + hex(u64_of(m, ff)) + ", class " + std::to_string(u64_of(m, k));
  });
}

std::vector<Obligation> obligations(const std::string& profile, const Request& req) {
  if (!req.bounds.empty()) throw std::invalid_argument("--bound: the almos-mkh lemmas take no bounds");
  const vocab::Profile resolved = vocab::resolve_profile(profile);
  const AlmosParams p = *resolved.params<AlmosParams>(kKernel);
  return {{Kind::lemma, kKernel, "LEM-ALMOS-A1", "", kCite, lemma_order},
          {Kind::lemma, kKernel, "LEM-ALMOS-A2", "", kCite, [p](const Request& r) { return lemma_zone(p, r); }}};
}

}  // namespace

void register_prove() { add_prover({kKernel, false, {}, obligations, "arithmetic lemmas only (no state encoding yet)"}); }

}  // namespace vmref::almos
