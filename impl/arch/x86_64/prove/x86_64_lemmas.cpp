// The x86-64 format's arithmetic lemmas (spec/formats/x86_64.md, Lemmas), proved over all 2^64
// inputs on the format's own functions (x86_64_arith.hpp) instantiated on Z3 bit-vectors.
#include "x86_64_lemmas.hpp"

#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "x86_64_arith.hpp"

namespace vmref::impl::x86_64 {

using namespace vmref::prove;
using z3::expr;

namespace {

constexpr const char* kOwner = "x86_64";
constexpr const char* kCite = "spec/formats/x86_64.md, Lemmas";

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
  return finish_lemma(r, t0);
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
  return finish_lemma(r, t0);
}



/// LEM-X86-LEAF-1: a leaf written by make_leaf reads back through leaf_address and
/// leaf_attr_word as the PA and attributes it was given, present, PS as its size says and
/// no reserved bit set (SDM Vol 3A Tables 4-15 to 4-20).
Result lemma_leaf_round_trip(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned m = 32; m <= 52; ++m)
    for (unsigned shift : {12u, 21u, 30u}) {
      z3::context c;
      const bool large = shift != 12;
      expr pa = word_var(c, "pa"), attrs = word_var(c, "attrs");
      expr leaf = arith::make_leaf(pa, attrs, large);
      expr pre = (pa & word_val(c, ~arith::bits(shift, m - 1))) == 0;
      expr reserved = word_val(c, arith::bits(m, 51) | (large ? arith::bits(13, shift - 1) : 0));
      expr goal = arith::leaf_address(leaf, shift, m) == pa &&
                  arith::leaf_attr_word(leaf, large) == (attrs & word_val(c, arith::kAttrBits)) &&
                  (leaf & word_val(c, arith::kPresent)) != 0 && (leaf & reserved) == 0;
      if (large) goal = goal && (leaf & word_val(c, arith::kLargeBit)) != 0;
      r = check_implies(c, pre, goal, req, [&](const z3::model& mm, Result& out) {
        out.detail = "MAXPHYADDR " + std::to_string(m) + ", page shift " + std::to_string(shift) + ": pa " +
                     hex(u64_of(mm, pa)) + ", attributes " + hex(u64_of(mm, attrs)) + " -> " + hex(u64_of(mm, leaf));
      });
      if (r.status != Status::proved) return finish_lemma(r, t0);
    }
  return finish_lemma(r, t0);
}

}  // namespace

Result check_rights_lemma(const Request& req, std::uint64_t xd_mask) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned levels : {4u, 5u})
    for (bool nxe : {true, false}) {
      z3::context c;
      const std::uint64_t xd = nxe ? xd_mask : 0;
      std::vector<expr> e;
      expr acc = word_val(c, arith::kAllRights);
      expr all_w = c.bool_val(true), all_u = c.bool_val(true), no_xd = c.bool_val(true);
      for (unsigned l = 0; l < levels; ++l) {
        e.push_back(word_var(c, "entry" + std::to_string(l)));
        acc = arith::combine_rights(acc, e.back(), xd);
        all_w = all_w && (e.back() & word_val(c, 1ull << 1)) != 0;  // R/W, SDM Table 4-20
        all_u = all_u && (e.back() & word_val(c, 1ull << 2)) != 0;  // U/S
        no_xd = no_xd && (e.back() & word_val(c, 1ull << 63)) == 0;  // XD
      }
      expr may_x = nxe ? no_xd : c.bool_val(true);
      expr want = z3::ite(all_w, word_val(c, arith::kMayWrite), word_val(c, 0)) |
                  z3::ite(all_u, word_val(c, arith::kMayUser), word_val(c, 0)) |
                  z3::ite(may_x, word_val(c, arith::kMayExec), word_val(c, 0));
      // A table entry the format writes restricts nothing, for every table page below 2^52.
      expr pa = word_var(c, "table_pa"), any = word_var(c, "acc");
      expr neutral = z3::implies((pa & word_val(c, ~arith::bits(12, 51))) == 0,
                                 arith::combine_rights(any, arith::table_entry(pa), xd) == any);
      r = check_implies(c, c.bool_val(true), acc == want && neutral, req, [&](const z3::model& m, Result& out) {
        out.detail = std::to_string(levels) + " levels, NXE " + (nxe ? "1" : "0") + ":";
        for (unsigned l = 0; l < levels; ++l) out.detail += " " + hex(u64_of(m, e[l]));
        out.detail += " -> rights " + hex(u64_of(m, acc)) + ", want " + hex(u64_of(m, want));
      });
      if (r.status != Status::proved) return finish_lemma(r, t0);
    }
  return finish_lemma(r, t0);
}

Result check_split_lemma(const Request& req, const SplitChild& child_of) {
  auto t0 = std::chrono::steady_clock::now();
  Result r;
  for (unsigned m = 32; m <= 52; ++m)
    for (std::pair<unsigned, unsigned> sizes : {std::pair{21u, 12u}, std::pair{30u, 21u}}) {
      const unsigned shift = sizes.first, child_shift = sizes.second;  // a large leaf and its children
      z3::context c;
      const bool child_large = child_shift != 12;
      expr leaf = word_var(c, "leaf"), i = word_var(c, "index"), off = word_var(c, "offset");
      expr pre = (leaf & word_val(c, arith::kPresent | arith::kLargeBit)) == word_val(c, arith::kPresent | arith::kLargeBit) &&
                 (leaf & word_val(c, arith::bits(13, shift - 1) | arith::bits(m, 51))) == 0 &&
                 z3::ult(off, word_val(c, 1ull << shift)) && z3::lshr(off, word_val(c, child_shift)) == i;
      expr child = child_of(leaf, arith::leaf_address(leaf, shift, m) + z3::shl(i, word_val(c, child_shift)), child_large);
      expr reserved = word_val(c, arith::bits(m, 51) | (child_large ? arith::bits(13, child_shift - 1) : 0));
      expr goal = (child & word_val(c, arith::kPresent)) != 0 && (child & reserved) == 0 &&
                  arith::leaf_attr_word(child, child_large) == arith::leaf_attr_word(leaf, true) &&
                  arith::leaf_address(child, child_shift, m) + (off & word_val(c, (1ull << child_shift) - 1)) ==
                      arith::leaf_address(leaf, shift, m) + off;
      r = check_implies(c, pre, goal, req, [&](const z3::model& mm, Result& out) {
        out.detail = "MAXPHYADDR " + std::to_string(m) + ", " + std::to_string(shift) + "-bit leaf " + hex(u64_of(mm, leaf)) +
                     " entry " + hex(u64_of(mm, i)) + " -> " + hex(u64_of(mm, child));
      });
      if (r.status != Status::proved) return finish_lemma(r, t0);
    }
  return finish_lemma(r, t0);
}

z3::expr split_child(const z3::expr& leaf, const z3::expr& child_pa, bool child_large) {
  return arith::make_leaf(child_pa, arith::leaf_attr_word(leaf, true), child_large);
}

namespace {

std::vector<Obligation> obligations(const std::string&, const Request& req) {
  if (!req.bounds.empty()) throw std::invalid_argument("--bound: the x86_64 lemmas take no bounds");
  return {{Kind::lemma, kOwner, "LEM-X86-CANON-1", "", kCite, lemma_canonical},
          {Kind::lemma, kOwner, "LEM-X86-ADDR-1", "", kCite, lemma_leaf_address},
          {Kind::lemma, kOwner, "LEM-X86-LEAF-1", "", kCite, lemma_leaf_round_trip},
          {Kind::lemma, kOwner, "LEM-X86-RIGHTS-1", "", kCite,
           [](const Request& q) { return check_rights_lemma(q, 1ull << 63); }},
          {Kind::lemma, kOwner, "LEM-X86-SPLIT-1", "", kCite,
           [](const Request& q) { return check_split_lemma(q, split_child); }}};
}
}  // namespace

void register_prove() { add_prover({kOwner, true, {}, obligations, "arithmetic lemmas"}); }

}  // namespace vmref::impl::x86_64
