// `vmref prove` on Linux private anonymous memory (spec/kernels/linux.md §8, spec/prove.md):
// the default profile proves clean, frees-before-flush and forgets-cow-count each yield a
// bounded-model-checking counterexample that the C++ model confirms under the right ID,
// and the encoding agrees with the model on the states random operation sequences reach.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "linux_smt.hpp"
#include "vmref/model/model.hpp"
#include "vmref/prove/obligation.hpp"
#include "vmref/trace/codec.hpp"

using namespace vmref;
namespace smt = linux_mm::smt;

namespace {

std::vector<std::pair<prove::Obligation, prove::Result>> run(const std::string& profile, const prove::Request& req,
                                                             const std::function<bool(const prove::Obligation&)>& keep) {
  return test::run_obligations("linux", profile, req, keep);
}

std::uint64_t num(const z3::expr& x) { return x.simplify().get_numeral_uint64(); }
bool truth(const z3::expr& x) { return x.simplify().is_true(); }

smt::Plain plain_of(const smt::State& s) {
  smt::Plain out;
  for (const z3::expr& a : s.alive) out.alive.push_back(truth(a));
  for (const auto& space : s.pages) {
    out.pages.emplace_back();
    for (const smt::Page& p : space)
      out.pages.back().push_back(
          {truth(p.inseg), truth(p.anon), truth(p.valid), truth(p.w), truth(p.cow), truth(p.vw), num(p.frame)});
  }
  for (const smt::Frame& f : s.frames) out.frames.push_back({truth(f.alloc), num(f.refs), num(f.stamp)});
  for (const auto& space : s.tlb) {
    out.tlb.emplace_back();
    for (const auto& row : space) {
      out.tlb.back().emplace_back();
      for (const smt::Held& h : row) out.tlb.back().back().push_back({truth(h.held), truth(h.dead), truth(h.w)});
    }
  }
  out.clock = num(s.clock);
  return out;
}

/// The free frames in the order the allocator hands them out (highest stamp first).
std::vector<unsigned> free_order(const smt::Plain& s) {
  std::vector<std::pair<std::uint64_t, unsigned>> v;
  for (unsigned i = 0; i < s.frames.size(); ++i)
    if (!s.frames[i].alloc) v.push_back({s.frames[i].stamp, i + 1});
  std::sort(v.rbegin(), v.rend());
  std::vector<unsigned> out;
  for (const auto& [stamp, f] : v) out.push_back(f);
  return out;
}

/// The first field in which two states differ ("" when none); stamps compare as an order.
std::string differ(const smt::Plain& a, const smt::Plain& b) {
  for (unsigned k = 0; k < smt::kSpaces; ++k) {
    std::string as = "as " + std::to_string(k + 1) + " ";
    if (a.alive[k] != b.alive[k]) return as + "alive";
    for (std::size_t p = 0; p < a.pages[k].size(); ++p) {
      const smt::Plain::Pg &x = a.pages[k][p], &y = b.pages[k][p];
      std::string pg = as + "page " + std::to_string(p) + " ";
      if (x.inseg != y.inseg) return pg + "covered by the vseg";
      if (x.anon != y.anon) return pg + "anon owner";
      if (x.valid != y.valid || x.frame != y.frame) return pg + "PTE frame";
      if (x.w != y.w || x.cow != y.cow) return pg + "PTE W/COW";
      if (x.vw != y.vw) return pg + "vseg's write right";
      for (std::size_t f = 0; f < a.tlb[k][p].size(); ++f)
        if (a.tlb[k][p][f].held != b.tlb[k][p][f].held || a.tlb[k][p][f].dead != b.tlb[k][p][f].dead)
          return pg + "translation held to frame " + std::to_string(f + 1);
        else if (a.tlb[k][p][f].w != b.tlb[k][p][f].w)
          return pg + "write right of the translation held to frame " + std::to_string(f + 1);
    }
  }
  for (std::size_t f = 0; f < a.frames.size(); ++f) {
    if (a.frames[f].alloc != b.frames[f].alloc) return "frame " + std::to_string(f + 1) + " in use";
    if (a.frames[f].alloc && a.frames[f].refs != b.frames[f].refs) return "frame " + std::to_string(f + 1) + " refcount";
  }
  if (free_order(a) != free_order(b)) return "free-frame order";
  return "";
}

void apply_lines(model::Model& m, const std::vector<std::string>& lines) {
  for (const std::string& l : lines) m.apply(trace::event_from_json(nlohmann::json::parse(l), "<test>", 1));
}

}  // namespace

TEST(Linux_8_Prove, DefaultProvesEveryLemmaAndInductiveStep) {
  std::size_t n = 0;
  for (auto& [ob, r] : run("linux", test::prove_request("linux-default"), [](const prove::Obligation& o) {
         return o.kind != prove::Kind::bmc;
       })) {
    ++n;
    EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
  }
  EXPECT_EQ(n, (smt::kInvariants.size() + smt::kLemmas.size()) * 5u) << "every invariant and lemma, at the start and after 4 operations";
}

TEST(Linux_8_Prove, DefaultHasNoCounterexampleWithinFiveOperations) {
  std::size_t n = 0;
  prove::Request req = test::prove_request("linux-default-bmc");
  req.explicit_bmc = true;  // run them: induction implies them (spec/prove.md §3)
  for (auto& [ob, r] : run("linux", req, [](const prove::Obligation& o) {
         return o.kind == prove::Kind::bmc;
       })) {
    ++n;
    EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
  }
  EXPECT_EQ(n, smt::kInvariants.size());
}

TEST(Linux_8_Prove, FreesBeforeFlushBreaksTlb1) { test::expect_bmc_found("linux", "linux:frees-before-flush", {"INV-TLB-1"}); }

// mprotect (spec/kernels/linux.md §8.2): a right withdrawn without the shootdown leaves a
// writable translation of a read-only PTE; PTEs left writable grant what the vseg lacks.
TEST(Linux_8_Prove, MprotectSkipsFlushBreaksTlb3) {
  test::expect_bmc_found("linux", "linux:mprotect-skips-flush", {"INV-TLB-3"});
}
TEST(Linux_8_Prove, MprotectKeepsWriteBreaksGpt2) {
  test::expect_bmc_found("linux", "linux:mprotect-keeps-write", {"INV-GPT-2"});
}

// A fork that takes no reference for the child's PTE: the count is one short (INV-FRAME-1),
// the parent's COW break reuses a frame the child still maps (INV-COW-2), and the child's
// munmap frees a frame the parent still maps (INV-GPT-3).
TEST(Linux_8_Prove, ForgetsCowCountBreaksFrame1Cow2AndGpt3) {
  test::expect_bmc_found("linux", "linux:forgets-cow-count", {"INV-FRAME-1", "INV-COW-2", "INV-GPT-3"});
}

// On a broken variant, every counterexample (BMC, or an inductive step that borrows a BMC
// trace) is confirmed by replay: none comes from a pre-state the variant cannot reach.
TEST(Linux_8_Prove, BrokenVariantsHaveOnlyConfirmedCounterexamples) {
  for (const char* variant : {"frees-before-flush", "forgets-cow-count", "mprotect-skips-flush", "mprotect-keeps-write"})
    for (auto& [ob, r] : run(std::string("linux:") + variant, test::prove_request(std::string("linux-all-") + variant),
                             [](const prove::Obligation&) { return true; }))
      if (r.status != prove::Status::proved) {
        EXPECT_EQ(r.status, prove::Status::counterexample) << variant << " " << ob.name() << ": " << r.detail;
        EXPECT_TRUE(r.confirmed) << variant << " " << ob.name() << ": " << r.replay;
      }
}

// The other correct configurations prove clean too (no-zero-page and no-cow-reuse break
// observable rules, not invariants; thp's huge leaves need more than 4 pages).
TEST(Linux_8_Prove, CorrectConfigurationsProveClean) {
  for (const char* variant : {"no-zero-page", "no-cow-reuse", "thp"})
    for (auto& [ob, r] : run(std::string("linux:") + variant, test::prove_request(std::string("linux-") + variant),
                             [](const prove::Obligation&) { return true; }))
      EXPECT_EQ(r.status, prove::Status::proved) << variant << " " << ob.name() << ": " << r.detail;
}

TEST(Linux_8_Prove, BoundsOutOfRangeAreRefusedByName) {
  test::expect_bounds_refused("linux", "linux", {{"pages", 5}, {"frames", 0}, {"cpus", 2}});
}

// spec/prove.md §7: before each operation, the model's state as Z3 numerals; the encoded
// operation's post-state must equal the model's, field by field, and every lemma the
// profile claims must hold on the model's states.
TEST(Linux_8_Prove, EncodingAgreesWithTheModelOnRandomStates) {
  std::uint64_t compared = 0;
  const std::vector<smt::Bounds> shapes = {{2, 2}, {3, 3}, {4, 2}};
  for (const char* variant : {"default", "no-zero-page", "no-cow-reuse", "frees-before-flush", "forgets-cow-count", "thp",
                              "mprotect-skips-flush", "mprotect-keeps-write"})
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      const smt::Bounds b = shapes[seed % shapes.size()];
      const std::string profile = std::string("linux:") + variant;
      const vocab::Profile resolved = vocab::resolve_profile(profile);
      z3::context zc;
      smt::Encoding enc(zc, *resolved.params<linux_mm::LinuxParams>("linux"), b);
      model::Model m(profile, smt::kSpaces, b.frames, 4096);
      apply_lines(m, smt::setup_lines(b));
      std::mt19937_64 rng(seed);
      for (int k = 0; k < 60; ++k) {
        const smt::Plain pre = smt::plain_of(m, b);
        const unsigned space = pre.alive[1] ? static_cast<unsigned>(rng() % 2) : 0, page = static_cast<unsigned>(rng() % b.pages);
        const unsigned kind = static_cast<unsigned>(rng() % 10);
        const bool write = rng() % 2;
        const smt::Op op = kind == 0  ? smt::Op::fork
                           : kind < 3 ? smt::Op::munmap
                           : kind < 5 ? smt::Op::mprotect
                                      : smt::Op::access;
        smt::OpArgs a = enc.args("x", space, page);
        a.write = zc.bool_val(write);
        const smt::State s = enc.lift(pre);
        const std::string where = profile + " seed " + std::to_string(seed) + " step " + std::to_string(k) + " (" +
                                  smt::op_name(op) + " as " + std::to_string(space + 1) + " page " + std::to_string(page) +
                                  (write ? " write)" : ")");
        for (const std::string& lemma : enc.lemmas())
          ASSERT_TRUE(truth(enc.holds(lemma, s))) << where << ": " << lemma << " fails on the model's state";
        if (!truth(enc.pre(op, s, a))) continue;  // a second fork
        const smt::Plain want = plain_of(enc.apply(op, s, a));
        apply_lines(m, smt::op_lines(op, space, page, write, b.pages));
        ++compared;
        const std::string d = differ(want, smt::plain_of(m, b));
        ASSERT_EQ(d, "") << where << ": the encoding and the model disagree on " << d << [&] {
          std::string t = "; model holds:";
          for (std::size_t c = 0; c < m.cpus().size(); ++c)
            for (const auto& [key, hs] : m.cpus()[c].stale())
              for (const model::Held& h : hs)
                t += " cpu" + std::to_string(c) + " as" + std::to_string(key.first) + " vpn " + std::to_string(key.second) +
                     " -> " + std::to_string(h.frame);
          return t;
        }();
      }
    }
  EXPECT_GT(compared, 2000u) << "too few operations compared";
}
