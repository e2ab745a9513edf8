// The AArch64 format's arithmetic lemmas (spec/formats/aarch64.md, Lemmas), proved over
// all 2^64 inputs on the format's own templates (aarch64_arith.hpp) on Z3 bit-vectors.
#include <optional>

#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "aarch64_arith.hpp"
#include "aarch64_format.hpp"

namespace vmref::impl::aarch64 {

using namespace vmref::prove;
using z3::expr;

namespace {

constexpr const char* kOwner = "aarch64";
constexpr const char* kCite = "spec/formats/aarch64.md, Lemmas";
constexpr unsigned kPageShifts[] = {12, 14, 16};

/// LEM-A64-DESC-1: for every granule and every size a descriptor maps there (page and
/// the blocks above it, below 2^48), make_desc of an aligned PA below 2^48 reads back as
/// that PA, keeps every bit outside the OA field, and has no misaligned OA bit (D8.3).
Result lemma_descriptor(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned p : kPageShifts)
    for (unsigned b = p; b < arith::kPaBits; b += p - 3) {
      z3::context c;
      expr pa = word_var(c, "pa"), attrs = word_var(c, "attrs");
      expr d = arith::make_desc(pa, attrs, p);
      expr hyp = (pa & word_val(c, (1ull << b) - 1)) == 0 && z3::ult(pa, word_val(c, 1ull << arith::kPaBits));
      expr goal = arith::desc_address(d, p) == pa &&
                  (d & word_val(c, ~arith::oa_field(p))) == (attrs & word_val(c, ~arith::oa_field(p))) &&
                  arith::misaligned_bits(d, p, b) == 0;
      r = check_implies(c, hyp, goal, req, [&](const z3::model& m, Result& out) {
        out.detail = "granule shift " + std::to_string(p) + ", size shift " + std::to_string(b) + ": pa " + hex(u64_of(m, pa));
      });
      if (r.status != Status::proved) return finish_lemma(r, t0);
    }
  return finish_lemma(r, t0);
}

/// LEM-A64-SPLIT-1: for every granule and tree width the format accepts among 36..49, a
/// canonical VA is its per-level indices put back in place, plus the offset in the page,
/// sign-extended at the TTBR-selecting bit: the levels' index fields tile the VA (D8.2).
Result lemma_va_split(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned granule : {4u, 16u, 64u})
    for (unsigned width = 36; width <= 49; ++width) {
      std::optional<Format> f;
      try {
        f.emplace(Config{granule, width, false, nullptr});
      } catch (const std::invalid_argument&) {
        continue;
      }
      z3::context c;
      expr va = word_var(c, "va");
      expr rebuilt = va & word_val(c, (1ull << f->page_shift()) - 1);
      for (unsigned l = 0; l < f->levels(); ++l)
        rebuilt = rebuilt | z3::shl(arith::va_index(va, f->shift(l), f->index_bits(l)), word_val(c, f->shift(l)));
      expr goal = arith::canonical(rebuilt, width) == va;
      r = check_implies(c, arith::canonical(va, width) == va, goal, req, [&](const z3::model& m, Result& out) {
        out.detail = std::to_string(granule) + " KiB, width " + std::to_string(width) + ": va " + hex(u64_of(m, va));
      });
      if (r.status != Status::proved) return finish_lemma(r, t0);
    }
  return finish_lemma(r, t0);
}

/// LEM-A64-ALIGN-1: for every granule and block size, a block has no misaligned OA bit
/// exactly when the PA it maps is aligned to its size, so the RES0 rule and the block
/// alignment rule are one rule (D8.3.1).
Result lemma_alignment(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned p : kPageShifts)
    for (unsigned b = p + (p - 3); b < arith::kPaBits; b += p - 3) {
      z3::context c;
      expr raw = word_var(c, "raw");
      expr goal = (arith::misaligned_bits(raw, p, b) == 0) == ((arith::desc_address(raw, p) & word_val(c, (1ull << b) - 1)) == 0);
      r = check_implies(c, c.bool_val(true), goal, req, [&](const z3::model& m, Result& out) {
        out.detail = "granule shift " + std::to_string(p) + ", block shift " + std::to_string(b) + ": raw " + hex(u64_of(m, raw));
      });
      if (r.status != Status::proved) return finish_lemma(r, t0);
    }
  return finish_lemma(r, t0);
}

/// LEM-A64-PERM-1: hierarchical permissions (D8.4.1.1). With no table restriction a
/// leaf's rights are its own AP[2:1]/DBM/UXN/PXN; a table never adds write or EL0 access
/// to what is above it; and the order in which tables restrict does not matter (so
/// folding them level by level is the OR of all of them).
Result lemma_permissions(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  expr acc = word_var(c, "acc"), t1 = word_var(c, "t1"), t2 = word_var(c, "t2"), leaf = word_var(c, "leaf");
  auto z = [&](std::uint64_t v) { return word_val(c, v); };
  auto set = [&](const expr& w, std::uint64_t bits) { return (w & z(bits)) != 0; };
  expr own_u = set(leaf, arith::kApUser);
  expr own = z3::ite(!set(leaf, arith::kApRdonly) || set(leaf, arith::kDbm), z(arith::kPermW), z(0)) |
             z3::ite(own_u, z(arith::kPermU), z(0)) |
             z3::ite(z3::ite(own_u, !set(leaf, arith::kUxn), !set(leaf, arith::kPxn)), z(arith::kPermX), z(0));
  expr wu = z(arith::kPermW | arith::kPermU);
  expr before = arith::perm(acc, leaf), after = arith::perm(arith::restrict_by_table(acc, t1), leaf);
  expr goal = arith::perm(z(0), leaf) == own && (after & wu & ~before) == 0 &&
              arith::restrict_by_table(arith::restrict_by_table(acc, t1), t2) ==
                  arith::restrict_by_table(arith::restrict_by_table(acc, t2), t1);
  Result r = check_implies(c, c.bool_val(true), goal, req, [&](const z3::model& m, Result& out) {
    out.detail = "acc " + hex(u64_of(m, acc)) + ", table " + hex(u64_of(m, t1)) + ", leaf " + hex(u64_of(m, leaf));
  });
  return finish_lemma(r, t0);
}

std::vector<Obligation> obligations(const std::string&, const Request& req) {
  if (!req.bounds.empty()) throw std::invalid_argument("--bound: the aarch64 lemmas take no bounds");
  return {{Kind::lemma, kOwner, "LEM-A64-DESC-1", "", kCite, lemma_descriptor},
          {Kind::lemma, kOwner, "LEM-A64-SPLIT-1", "", kCite, lemma_va_split},
          {Kind::lemma, kOwner, "LEM-A64-ALIGN-1", "", kCite, lemma_alignment},
          {Kind::lemma, kOwner, "LEM-A64-PERM-1", "", kCite, lemma_permissions}};
}
}  // namespace

void register_prove() { add_prover({kOwner, true, {}, obligations, "arithmetic lemmas"}); }

}  // namespace vmref::impl::aarch64
