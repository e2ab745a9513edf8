// The VER3 format's arithmetic lemmas (spec/formats/nv_mmu_v3.md, Lemmas), proved over
// all 2^64 inputs on the format's own templates (nv_mmu_v3_arith.hpp) on Z3 bit-vectors.
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "nv_mmu_v3_arith.hpp"

namespace vmref::impl::nv_mmu_v3 {

using namespace vmref::prove;
using z3::expr;

namespace {

constexpr const char* kOwner = "nv_mmu_v3";
constexpr const char* kCite = "spec/formats/nv_mmu_v3.md, Lemmas";

/// LEM-NV3-PTE-1: for every page size (4 KiB, 64 KiB, 2 MiB, 512 MiB, 256 GiB), a word
/// make_entry writes for a PA aligned to the page and below 2^52 reads back as that PA,
/// keeps every bit outside ADDRESS 51:12 (VALID, APERTURE, PCF, KIND, the harness bits
/// 60:52, PEER_ID), and has no address bit below the page size [NV-MMU3].
Result lemma_pte_round_trip(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned shift : {12u, 16u, 21u, 29u, 38u}) {
    z3::context c;
    expr pa = word_var(c, "pa"), low = word_var(c, "low");
    expr w = arith::make_entry(pa, low);
    expr pre = (pa & word_val(c, (1ull << shift) - 1)) == 0 && z3::ult(pa, word_val(c, 1ull << 52));
    expr goal = arith::address(w) == pa && (w & word_val(c, ~arith::kAddrField)) == (low & word_val(c, ~arith::kAddrField)) &&
                arith::misaligned_bits(w, shift) == 0;
    r = check_implies(c, pre, goal, req, [&](const z3::model& m, Result& out) {
      out.detail = "page shift " + std::to_string(shift) + ": pa " + hex(u64_of(m, pa)) + " -> " + hex(u64_of(m, w));
    });
    if (r.status != Status::proved) break;
  }
  return finish_lemma(r, t0);
}

/// LEM-NV3-DUAL-1: a big half make_big writes for a 256-byte aligned PA below 2^52 reads
/// back through big_address (ADDRESS_BIG 51:8, shift 8) with APERTURE_BIG and PCF_BIG
/// kept; a small half make_entry writes for a 4 KiB aligned PA reads back through address
/// (shift 12); and a small half whose field holds PA >> 8 (the big half's shift: the
/// nv3-small-half-shift-8 mutant) reads back as 16 × PA when PA < 2^48.
Result lemma_dual_shifts(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  expr pa = word_var(c, "pa"), low = word_var(c, "low");
  expr big = arith::make_big(pa, low), small = arith::make_entry(pa, low);
  expr below = z3::ult(pa, word_val(c, 1ull << 52));
  expr wrong = z3::shl(z3::lshr(pa, word_val(c, 8)), word_val(c, 12)) & word_val(c, arith::kAddrField);
  expr goal = z3::implies((pa & word_val(c, 0xff)) == 0,
                          arith::big_address(big) == pa && (big & word_val(c, 0x3f)) == (low & word_val(c, 0x3f))) &&
              z3::implies((pa & word_val(c, 0xfff)) == 0, arith::address(small) == pa) &&
              z3::implies((pa & word_val(c, 0xfff)) == 0 && z3::ult(pa, word_val(c, 1ull << 48)),
                          arith::address(wrong) == z3::shl(pa, word_val(c, 4)));
  Result r = check_implies(c, below, goal, req, [&](const z3::model& m, Result& out) {
    out.detail = "pa " + hex(u64_of(m, pa));
  });
  return finish_lemma(r, t0);
}

/// LEM-NV3-VA-1: the six indices of a 57-bit VA (PD4 56, PD3 55:47, PD2 46:38, PD1 37:29,
/// PD0 28:21, PT 20:12) with the page offset put back together give the VA, and each index
/// is below its table's entry count (2, 512, 512, 512, 256, 512) [NV-FMT gh10x].
Result lemma_va_split(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  expr va = word_var(c, "va");
  const unsigned shifts[] = {56, 47, 38, 29, 21, 12}, bits[] = {1, 9, 9, 9, 8, 9};
  expr sum = va & word_val(c, 0xfff);
  expr bounded = c.bool_val(true);
  for (unsigned l = 0; l < 6; ++l) {
    expr idx = arith::va_index(va, shifts[l], bits[l]);
    sum = sum | z3::shl(idx, word_val(c, shifts[l]));
    bounded = bounded && z3::ult(idx, word_val(c, 1ull << bits[l]));
  }
  expr pre = z3::ult(va, word_val(c, 1ull << arith::kVaBits));
  Result r = check_implies(c, pre, sum == va && bounded, req, [&](const z3::model& m, Result& out) {
    out.detail = "va " + hex(u64_of(m, va));
  });
  return finish_lemma(r, t0);
}

/// LEM-NV3-ALIGN-1: for every large page size (64 KiB, 2 MiB, 512 MiB and 256 GiB), a PTE has no
/// address bit below its size exactly when the PA its ADDRESS gives is aligned to the size:
/// the decoder's misaligned-page rule (choice V3-C3) and page alignment are one rule.
Result lemma_alignment(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned shift : {16u, 21u, 29u, 38u}) {
    z3::context c;
    expr raw = word_var(c, "raw");
    expr goal = (arith::misaligned_bits(raw, shift) == 0) == ((arith::address(raw) & word_val(c, (1ull << shift) - 1)) == 0);
    r = check_implies(c, c.bool_val(true), goal, req, [&](const z3::model& m, Result& out) {
      out.detail = "page shift " + std::to_string(shift) + ": pte " + hex(u64_of(m, raw));
    });
    if (r.status != Status::proved) break;
  }
  return finish_lemma(r, t0);
}

/// LEM-NV3-BIG-1: every 64-bit big PTE is in exactly one of the states V, I, S, U, so the
/// walk's choice of reading the small PTEs (U only) is defined for every word.
Result lemma_big_states(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  expr raw = word_var(c, "raw");
  expr v = arith::big_valid(raw), i = arith::big_invalid(raw), s = arith::big_sparse(raw), u = arith::big_unmapped(raw);
  expr one = (v || i || s || u) && !(v && i) && !(v && s) && !(v && u) && !(i && s) && !(i && u) && !(s && u);
  Result r = check_implies(c, c.bool_val(true), one, req, [&](const z3::model& m, Result& out) {
    out.detail = "big PTE " + hex(u64_of(m, raw));
  });
  return finish_lemma(r, t0);
}

std::vector<Obligation> obligations(const std::string&, const Request& req) {
  if (!req.bounds.empty()) throw std::invalid_argument("--bound: the nv_mmu_v3 lemmas take no bounds");
  return {{Kind::lemma, kOwner, "LEM-NV3-PTE-1", "", kCite, lemma_pte_round_trip},
          {Kind::lemma, kOwner, "LEM-NV3-DUAL-1", "", kCite, lemma_dual_shifts},
          {Kind::lemma, kOwner, "LEM-NV3-VA-1", "", kCite, lemma_va_split},
          {Kind::lemma, kOwner, "LEM-NV3-ALIGN-1", "", kCite, lemma_alignment},
          {Kind::lemma, kOwner, "LEM-NV3-BIG-1", "", kCite, lemma_big_states}};
}
}  // namespace

void register_prove() { add_prover({kOwner, true, {}, obligations, "arithmetic lemmas"}); }

}  // namespace vmref::impl::nv_mmu_v3
