// The VER2 format's arithmetic lemmas (spec/formats/nv_mmu_v2.md, Lemmas), proved over
// all 2^64 inputs on the format's own templates (nv_mmu_v2_arith.hpp) on Z3 bit-vectors.
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "nv_mmu_v2_arith.hpp"

namespace vmref::impl::nv_mmu_v2 {

using namespace vmref::prove;
using z3::expr;

namespace {

constexpr const char* kOwner = "nv_mmu_v2";
constexpr const char* kCite = "spec/formats/nv_mmu_v2.md, Lemmas";

/// LEM-NV2-PTE-1: for every page size (4 KiB, 64 KiB, 2 MiB, 512 MiB), a word make_vid
/// writes for a PA aligned to the page and below 2^37 reads back as that PA, keeps every
/// bit outside ADDRESS_VID (so VALID..ATOMIC_DISABLE and the harness bits 41:36), and has
/// no address bit below the page size [NV-MMU2 ADDRESS_VID 32:8].
Result lemma_pte_round_trip(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned shift : {12u, 16u, 21u, 29u}) {
    z3::context c;
    expr pa = word_var(c, "pa"), low = word_var(c, "low");
    expr w = arith::make_vid(pa, low);
    expr pre = (pa & word_val(c, (1ull << shift) - 1)) == 0 && z3::ult(pa, word_val(c, 1ull << 37));
    expr goal = arith::vid_address(w) == pa && (w & word_val(c, ~arith::kVidField)) == (low & word_val(c, ~arith::kVidField)) &&
                arith::misaligned_bits(w, shift) == 0;
    r = check_implies(c, pre, goal, req, [&](const z3::model& m, Result& out) {
      out.detail = "page shift " + std::to_string(shift) + ": pa " + hex(u64_of(m, pa)) + " -> " + hex(u64_of(m, w));
    });
    if (r.status != Status::proved) break;
  }
  return finish_lemma(r, t0);
}

/// LEM-NV2-DUAL-1: the dual PDE's two halves use different shifts: a big half make_big
/// writes for a 256-byte aligned PA below 2^37 reads back as that PA through big_address
/// (shift 8), a small half make_vid writes for a 4 KiB aligned PA through vid_address
/// (shift 12), and a small half whose field holds PA >> 8 (the big half's shift: the
/// nv2-small-half-shift-8 mutant) reads back as 16 × PA when PA < 2^33.
Result lemma_dual_shifts(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  expr pa = word_var(c, "pa"), low = word_var(c, "low");
  expr big = arith::make_big(pa, low), small = arith::make_vid(pa, low);
  expr below = z3::ult(pa, word_val(c, 1ull << 37));
  expr wrong = z3::shl(z3::lshr(pa, word_val(c, 8)), word_val(c, 8)) & word_val(c, arith::kVidField);
  expr goal = z3::implies((pa & word_val(c, 0xff)) == 0, arith::big_address(big) == pa) &&
              z3::implies((pa & word_val(c, 0xfff)) == 0, arith::vid_address(small) == pa) &&
              z3::implies((pa & word_val(c, 0xfff)) == 0 && z3::ult(pa, word_val(c, 1ull << 33)),
                          arith::vid_address(wrong) == z3::shl(pa, word_val(c, 4)));
  Result r = check_implies(c, below, goal, req, [&](const z3::model& m, Result& out) {
    out.detail = "pa " + hex(u64_of(m, pa));
  });
  return finish_lemma(r, t0);
}

/// LEM-NV2-VA-1: the five indices of a 49-bit VA (PD3 48:47, PD2 46:38, PD1 37:29, PD0
/// 28:21, PT 20:12) with the page offset put back together give the VA, and each index
/// is below its table's entry count (4, 512, 512, 256, 512) [NV-FMT gp10x].
Result lemma_va_split(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  expr va = word_var(c, "va");
  const unsigned shifts[] = {47, 38, 29, 21, 12}, bits[] = {2, 9, 9, 8, 9};
  expr sum = va & word_val(c, 0xfff);
  expr bounded = c.bool_val(true);
  for (unsigned l = 0; l < 5; ++l) {
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

/// LEM-NV2-ALIGN-1: for every large page size (64 KiB, 2 MiB and 512 MiB), a PTE has no
/// address bit below its size exactly when the PA its ADDRESS_VID gives is aligned to the size:
/// the decoder's misaligned-page rule (choice V2-C3) and page alignment are one rule.
Result lemma_alignment(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned shift : {16u, 21u, 29u}) {
    z3::context c;
    expr raw = word_var(c, "raw");
    expr goal = (arith::misaligned_bits(raw, shift) == 0) == ((arith::vid_address(raw) & word_val(c, (1ull << shift) - 1)) == 0);
    r = check_implies(c, c.bool_val(true), goal, req, [&](const z3::model& m, Result& out) {
      out.detail = "page shift " + std::to_string(shift) + ": pte " + hex(u64_of(m, raw));
    });
    if (r.status != Status::proved) break;
  }
  return finish_lemma(r, t0);
}

/// LEM-NV2-BIG-1: every 64-bit big PTE is in exactly one of the states V, I, S, U, so the
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
  if (!req.bounds.empty()) throw std::invalid_argument("--bound: the nv_mmu_v2 lemmas take no bounds");
  return {{Kind::lemma, kOwner, "LEM-NV2-PTE-1", "", kCite, lemma_pte_round_trip},
          {Kind::lemma, kOwner, "LEM-NV2-DUAL-1", "", kCite, lemma_dual_shifts},
          {Kind::lemma, kOwner, "LEM-NV2-VA-1", "", kCite, lemma_va_split},
          {Kind::lemma, kOwner, "LEM-NV2-ALIGN-1", "", kCite, lemma_alignment},
          {Kind::lemma, kOwner, "LEM-NV2-BIG-1", "", kCite, lemma_big_states}};
}
}  // namespace

void register_prove() { add_prover({kOwner, true, {}, obligations, "arithmetic lemmas"}); }

}  // namespace vmref::impl::nv_mmu_v2
