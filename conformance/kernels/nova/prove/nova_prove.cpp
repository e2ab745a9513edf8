// The nova kernel's proof obligations (spec/kernels/nova.md §14): arithmetic lemmas over
// Z3 bit-vectors, written from the spec's words (§2), not from the model's code. The
// state (pending set, tables, TLB) has no SMT form yet: no inductive step, no BMC.
#include <chrono>
#include <stdexcept>

#include "nova_events.hpp"
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"

namespace vmref::nova {

using namespace vmref::prove;
using z3::expr;

namespace {

constexpr const char* kCite = "spec/kernels/nova.md §14";

/// §2.1: the levels of one MMU version, root first: entries per table (all powers of
/// two) and the lowest VFN bit of each level's index.
struct Levels {
  std::vector<unsigned> entry_bits;  ///< log2 entries, root .. leaf
  std::vector<unsigned> shift;       ///< root .. leaf
};
Levels levels_of(unsigned mmu) {
  if (mmu == 2) return {{2, 9, 9, 8, 9}, {35, 26, 17, 9, 0}};
  return {{1, 9, 9, 9, 8, 9}, {44, 35, 26, 17, 9, 0}};
}
expr shr(const expr& a, unsigned n) { return z3::lshr(a, word_val(a.ctx(), n)); }
expr ceil_shr(const expr& a, unsigned n) { return shr(a + word_val(a.ctx(), (std::uint64_t{1} << n) - 1), n); }

/// LEM-NOVA-VA-1: a VFN of the version's VA is the sum of its level indices, each
/// shifted to its place, each below its level's entry count.
Result lemma_indices(unsigned mmu, const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  const Levels lv = levels_of(mmu);
  expr vfn = word_var(c, "vfn");
  expr sum = word_val(c, 0);
  expr below = c.bool_val(true);
  for (std::size_t l = 0; l < lv.shift.size(); ++l) {
    expr idx = shr(vfn, lv.shift[l]) & word_val(c, (std::uint64_t{1} << lv.entry_bits[l]) - 1);
    sum = sum + z3::shl(idx, word_val(c, lv.shift[l]));
    below = below && z3::ult(idx, word_val(c, std::uint64_t{1} << lv.entry_bits[l]));
  }
  const unsigned bits = lv.shift[0] + lv.entry_bits[0];
  Result r = check_implies(c, z3::ult(vfn, word_val(c, std::uint64_t{1} << bits)), sum == vfn && below, req,
                           [&](const z3::model& m, Result& out) { out.detail = "vfn " + hex(u64_of(m, vfn)); });
  return finish_lemma(r, t0);
}

/// LEM-NOVA-RESERVE-1 (§2.3): after reserve(k) (nothing when cap - len >= k, else
/// cap = max(2 cap, len + k)), cap - len >= k, for len <= cap and len + k without wrap.
Result lemma_reserve(const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  expr cap = word_var(c, "cap"), len = word_var(c, "len"), k = word_var(c, "k");
  expr grown = z3::ite(z3::ugt(cap + cap, len + k), cap + cap, len + k);
  expr after = z3::ite(z3::uge(cap - len, k), cap, grown);
  expr pre = z3::ule(len, cap) && z3::ule(len, len + k) && z3::ult(cap, word_val(c, std::uint64_t{1} << 62));
  Result r = check_implies(c, pre, z3::uge(after - len, k), req, [&](const z3::model& m, Result& out) {
    out.detail = "cap " + hex(u64_of(m, cap)) + ", len " + hex(u64_of(m, len)) + ", k " + hex(u64_of(m, k));
  });
  return finish_lemma(r, t0);
}

/// LEM-NOVA-BOUND-1 (§2.2, posted only): pt_pages_upper_bound(n) covers the table pages a
/// fresh VMM needs for n pages from any VFN s (every table but the PDB: at each level, one
/// per distinct value of the VFN bits above that level's index). The seed's bound ignores
/// where the range starts: Z3 finds a range that needs more.
Result lemma_bound(unsigned mmu, const Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  z3::context c;
  const Levels lv = levels_of(mmu);
  expr n = word_var(c, "n"), s = word_var(c, "s");
  const std::size_t leaf = lv.shift.size() - 1;
  expr count = ceil_shr(n, lv.entry_bits[leaf]), bound = count;
  for (std::size_t l = leaf; l-- > 0;) {
    count = ceil_shr(count, lv.entry_bits[l]);
    bound = bound + count;
  }
  expr need = word_val(c, 0);
  const expr last = s + n - word_val(c, 1);
  for (std::size_t l = 1; l <= leaf; ++l)  // tables of level l: distinct VFN >> shift(l - 1)
    need = need + shr(last, lv.shift[l - 1]) - shr(s, lv.shift[l - 1]) + word_val(c, 1);
  const unsigned bits = lv.shift[0] + lv.entry_bits[0];
  expr pre = z3::uge(n, word_val(c, 1)) && z3::ule(n, word_val(c, 1u << 20)) &&
             z3::ule(s + n, word_val(c, std::uint64_t{1} << bits)) && z3::ult(s, word_val(c, std::uint64_t{1} << bits));
  Result r = check_implies(c, pre, z3::ule(need, bound), req, [&](const z3::model& m, Result& out) {
    out.detail = "n " + hex(u64_of(m, n)) + " pages from VFN " + hex(u64_of(m, s)) + " need " +
                 std::to_string(u64_of(m, need)) + " table pages, pt_pages_upper_bound gives " +
                 std::to_string(u64_of(m, bound));
  });
  return finish_lemma(r, t0);
}

std::vector<Obligation> obligations(const std::string& profile, const Request& req) {
  const vocab::Profile resolved = vocab::resolve_profile(profile);
  const NovaParams* p = resolved.params<NovaParams>(kKernel);
  if (!p) throw std::invalid_argument("profile '" + profile + "' has no nova layer");
  for (const auto& [name, v] : req.bounds) throw std::invalid_argument("bound '" + name + "': nova's lemmas take no bound");
  std::vector<Obligation> out;
  for (unsigned mmu : {2u, 3u})
    out.push_back({prove::Kind::lemma, kKernel, mmu == 2 ? "LEM-NOVA-VA-1" : "LEM-NOVA-VA-2", "", kCite,
                   [mmu](const Request& r) { return lemma_indices(mmu, r); }});
  out.push_back({prove::Kind::lemma, kKernel, "LEM-NOVA-RESERVE-1", "", kCite, lemma_reserve});
  if (!p->reserve_fix)  // the posted prepare reserves the seed's bound
    for (unsigned mmu : {2u, 3u})
      out.push_back({prove::Kind::lemma, kKernel, mmu == 2 ? "LEM-NOVA-BOUND-1" : "LEM-NOVA-BOUND-2", "", kCite,
                     [mmu](const Request& r) { return lemma_bound(mmu, r); }});
  return out;
}
}  // namespace

void register_prove() {
  add_prover({kKernel, false, {}, obligations,
              "arithmetic lemmas of the geometry and the reservation (no state encoding: no inductive step, no BMC); "
              "without --profile, nova:fixed (`nova` is the seed as posted, whose reservation lemmas fail)",
              "nova:fixed"});
}

}  // namespace vmref::nova
