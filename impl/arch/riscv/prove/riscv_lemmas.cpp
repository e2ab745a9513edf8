// The RISC-V format's arithmetic lemmas (spec/formats/riscv.md, Lemmas), proved over all
// 2^64 inputs on the format's own templates (riscv_arith.hpp) on Z3 bit-vectors.
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "riscv_arith.hpp"

namespace vmref::impl::riscv {

using namespace vmref::prove;
using z3::expr;

namespace {

constexpr const char* kOwner = "riscv";
constexpr const char* kCite = "spec/formats/riscv.md, Lemmas";

/// LEM-RV-CANON-1: for Sv39/48/57, canonical() is idempotent and fixes exactly the VAs
/// whose bits 63..sv-1 are all equal (Priv ISA §4.4-§4.6).
Result lemma_canonical(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned sv : {39u, 48u, 57u}) {
    z3::context c;
    expr va = word_var(c, "va");
    expr cva = arith::canonical(va, sv);
    expr upper = z3::lshr(va, word_val(c, sv - 1));
    expr goal = arith::canonical(cva, sv) == cva && ((cva == va) == (upper == 0 || upper == word_val(c, ~0ull >> (sv - 1))));
    r = check_implies(c, c.bool_val(true), goal, req, [&](const z3::model& m, Result& out) {
      out.detail = "Sv" + std::to_string(sv) + ": va " + hex(u64_of(m, va)) + " -> " + hex(u64_of(m, cva));
    });
    if (r.status != Status::proved) break;
  }
  return finish_lemma(r, t0);
}

/// LEM-RV-LEAF-1: for every page size (4 KiB to 256 TiB), a PTE make_pte writes for a PA
/// aligned to the page and below 2^56, with attributes in bits 9:0, reads back as that PA
/// and those attributes, with no bit of 63:54 set and no misaligned PPN bit (§4.3.1).
Result lemma_round_trip(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned shift = 12; shift <= 48; shift += 9) {
    z3::context c;
    expr pa = word_var(c, "pa"), attrs = word_var(c, "attrs");
    expr pte = arith::make_pte(pa, attrs);
    expr aligned = (pa & word_val(c, (1ull << shift) - 1)) == 0 && z3::ult(pa, word_val(c, 1ull << 56));
    expr goal = arith::pte_address(pte) == pa && (pte & word_val(c, arith::kAttrBits)) == (attrs & word_val(c, arith::kAttrBits)) &&
                (pte & word_val(c, ~0ull << 54)) == 0 && arith::misaligned_bits(pte, shift) == 0;
    r = check_implies(c, aligned, goal, req, [&](const z3::model& m, Result& out) {
      out.detail = "page shift " + std::to_string(shift) + ": pa " + hex(u64_of(m, pa)) + " -> pte " + hex(u64_of(m, pte));
    });
    if (r.status != Status::proved) break;
  }
  return finish_lemma(r, t0);
}

/// LEM-RV-ALIGN-1: for every superpage size, a leaf has no misaligned PPN bit exactly when
/// the PA it maps is aligned to the page size (§4.3.2 step 6), so the fault rule and the
/// superpage alignment rule are one rule.
Result lemma_alignment(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned shift = 21; shift <= 48; shift += 9) {
    z3::context c;
    expr raw = word_var(c, "raw");
    expr goal = (arith::misaligned_bits(raw, shift) == 0) == ((arith::pte_address(raw) & word_val(c, (1ull << shift) - 1)) == 0);
    r = check_implies(c, c.bool_val(true), goal, req, [&](const z3::model& m, Result& out) {
      out.detail = "page shift " + std::to_string(shift) + ": pte " + hex(u64_of(m, raw));
    });
    if (r.status != Status::proved) break;
  }
  return finish_lemma(r, t0);
}

std::vector<Obligation> obligations(const std::string&, const Request& req) {
  if (!req.bounds.empty()) throw std::invalid_argument("--bound: the riscv lemmas take no bounds");
  return {{Kind::lemma, kOwner, "LEM-RV-CANON-1", "", kCite, lemma_canonical},
          {Kind::lemma, kOwner, "LEM-RV-LEAF-1", "", kCite, lemma_round_trip},
          {Kind::lemma, kOwner, "LEM-RV-ALIGN-1", "", kCite, lemma_alignment}};
}
}  // namespace

void register_prove() { add_prover({kOwner, true, {}, obligations, "arithmetic lemmas"}); }

}  // namespace vmref::impl::riscv
