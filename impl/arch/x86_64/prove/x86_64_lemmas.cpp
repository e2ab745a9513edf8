// The x86-64 format's arithmetic lemmas (spec/formats/x86_64.md §9), proved over all 2^64
// inputs on the format's own functions (x86_64_arith.hpp) instantiated on Z3 bit-vectors.
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "x86_64_arith.hpp"

namespace vmref::impl::x86_64 {

using namespace vmref::prove;
using z3::expr;

namespace {

constexpr const char* kOwner = "x86_64";
constexpr const char* kCite = "spec/formats/x86_64.md §9";

/// LEM-X86-CANON-1: for 4- and 5-level paging, canonical() is idempotent and fixes exactly
/// the VAs whose bits above `top` all equal bit `top` (SDM Vol 3A §4.5).
Result lemma_canonical(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned top : {47u, 56u}) {
    z3::context c;
    expr va = word_var(c, "va");
    expr cva = arith::canonical(va, top);
    expr upper = z3::lshr(va, word_val(c, top));  // bits top..63
    expr sign_extended = upper == 0 || upper == word_val(c, ~0ull >> top);
    expr goal = arith::canonical(cva, top) == cva && ((cva == va) == sign_extended);
    r = check_implies(c, c.bool_val(true), goal, req, [&](const z3::model& m, Result& out) {
      out.detail = "top bit " + std::to_string(top) + ": va " + hex(u64_of(m, va)) + " -> " + hex(u64_of(m, cva));
    });
    if (r.status != Status::proved) break;
  }
  if (r.status == Status::counterexample) r.replay = "a format lemma: its counterexample is the values above (no trace)";
  r.seconds = seconds_since(t0);
  return r;
}

/// LEM-X86-ADDR-1: the attribute bits a leaf may carry (bits 11:0, PAT at bit 12 in a large
/// leaf, 63:59) never reach its address field, for every MAXPHYADDR 32..52 and page size:
/// the address decoded from (pa | attributes) is pa (SDM Vol 3A Tables 4-15 to 4-20).
Result lemma_leaf_address(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned m = 32; m <= 52 && r.status != Status::counterexample; ++m)
    for (unsigned shift : {12u, 21u, 30u}) {
      z3::context c;
      expr pa = word_var(c, "pa"), attrs = word_var(c, "attrs");
      std::uint64_t attr_bits = arith::bits(0, 11) | arith::bits(59, 63) | (shift > 12 ? arith::bits(12, 12) : 0);
      expr pre = (pa & word_val(c, ~arith::bits(shift, m - 1))) == 0 && (attrs & word_val(c, ~attr_bits)) == 0;
      r = check_implies(c, pre, arith::leaf_address(pa | attrs, shift, m) == pa, req, [&](const z3::model& mm, Result& out) {
        out.detail = "MAXPHYADDR " + std::to_string(m) + ", page shift " + std::to_string(shift) + ": pa " +
                     hex(u64_of(mm, pa)) + " with attributes " + hex(u64_of(mm, attrs));
      });
      if (r.status != Status::proved) break;
    }
  if (r.status == Status::counterexample) r.replay = "a format lemma: its counterexample is the values above (no trace)";
  r.seconds = seconds_since(t0);
  return r;
}

std::vector<Obligation> obligations(const std::string&, const Request& req) {
  if (!req.bounds.empty()) throw std::invalid_argument("--bound: the x86_64 lemmas take no bounds");
  return {{Kind::lemma, kOwner, "LEM-X86-CANON-1", "", kCite, lemma_canonical},
          {Kind::lemma, kOwner, "LEM-X86-ADDR-1", "", kCite, lemma_leaf_address}};
}

}  // namespace

void register_prove() { add_prover({kOwner, true, {}, obligations, "arithmetic lemmas"}); }

}  // namespace vmref::impl::x86_64
