// `vmref prove` on the mermap (spec/kernels/mermap.md §10, spec/prove.md): the fixed
// allocator proves clean, every broken variant yields a bounded-model-checking
// counterexample that the C++ model confirms under the right ID, and the SMT encoding
// agrees with the model on the states a random campaign reaches (faithfulness, §10.4).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "helpers.hpp"
#include "mermap_generator.hpp"
#include "mermap_model.hpp"
#include "mermap_smt.hpp"
#include "vmref/prove/obligation.hpp"

using namespace vmref;

namespace {

/// Runs the mermap obligations of `profile` that `keep` selects; returns them with results.
std::vector<std::pair<prove::Obligation, prove::Result>> run(const std::string& profile, const prove::Request& req,
                                                             const std::function<bool(const prove::Obligation&)>& keep) {
  return test::run_obligations("mermap", profile, req, keep);
}

prove::Request request(const std::string& name) { return test::prove_request("" + name); }

void expect_found(const std::string& profile, const std::set<std::string>& ids) {
  std::string dir = profile;
  for (char& c : dir) c = c == ':' ? '-' : c;
  for (auto& [ob, r] : run(profile, request(dir), [&](const prove::Obligation& o) {
         return o.kind == prove::Kind::bmc && ids.count(o.id);
       })) {
    EXPECT_EQ(r.status, prove::Status::counterexample) << profile << " " << ob.id << ": " << r.detail;
    EXPECT_TRUE(r.confirmed) << profile << " " << ob.id << ": " << r.replay;
    EXPECT_TRUE(std::filesystem::exists(r.trace)) << r.trace;
  }
}

}  // namespace

TEST(Mermap_10_Prove, FixedProvesEveryLemmaAndInductiveStep) {
  for (auto& [ob, r] : run("mermap", request("fixed"), [](const prove::Obligation& o) { return o.kind != prove::Kind::bmc; }))
    EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
}

TEST(Mermap_10_Prove, FixedHasNoCounterexampleWithinThreeOperations) {
  prove::Request req = request("fixed-bmc");
  req.depth = 3;
  req.explicit_bmc = true;  // run them: induction implies them (spec/prove.md §3)
  for (auto& [ob, r] : run("mermap", req, [](const prove::Obligation& o) { return o.kind == prove::Kind::bmc; }))
    EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
}

// The review's findings (spec §5.1): R1 -> 4, R2 -> 5 and 7, R3 -> 6, R5 -> 1, and the
// arithmetic lemma of the bound check fails exactly where R5 lies.
TEST(Mermap_10_Prove, RfcYieldsEachFindingConfirmedByReplay) {
  expect_found("mermap:rfc", {"INV-MERMAP-1", "INV-MERMAP-4", "INV-MERMAP-5", "INV-MERMAP-6", "INV-MERMAP-7"});
  auto lemma = run("mermap:rfc", request("rfc-lemma"), [](const prove::Obligation& o) { return o.id == "LEM-MERMAP-A2"; });
  ASSERT_EQ(lemma.size(), 1u);
  EXPECT_EQ(lemma[0].second.status, prove::Status::counterexample);
  EXPECT_TRUE(lemma[0].second.confirmed) << lemma[0].second.replay;
}

// An inductive step's counterexample becomes a trace of the allocator's steps that builds
// its pre-state; the model must report the invariant at the operation itself.
TEST(Mermap_10_Prove, RfcInductiveCounterexamplesReplayAsBuiltPreStates) {
  std::size_t found = 0;
  for (auto& [ob, r] : run("mermap:rfc", request("rfc-inductive"), [](const prove::Obligation& o) {
         return o.kind == prove::Kind::inductive && (o.id == "INV-MERMAP-4" || o.id == "INV-MERMAP-6");
       })) {
    if (r.status != prove::Status::counterexample) continue;
    ++found;
    EXPECT_TRUE(r.confirmed) << ob.name() << ": " << r.replay;
    EXPECT_NE(r.trace.find("." + ob.op + ".jsonl"), std::string::npos) << r.trace;
  }
  EXPECT_EQ(found, 2u) << "R1 breaks INV-MERMAP-4 at mermap_get, R3 INV-MERMAP-6 at mermap_teardown";
}

TEST(Mermap_10_Prove, NoReservePageBreaksInvariant1) { expect_found("mermap:no-reserve-page", {"INV-MERMAP-1"}); }
TEST(Mermap_10_Prove, OverlapBreaksInvariant2) { expect_found("mermap:overlap", {"INV-MERMAP-2"}); }
TEST(Mermap_10_Prove, NoFlushBreaksInvariant3) { expect_found("mermap:no-flush", {"INV-MERMAP-3"}); }

TEST(Mermap_10_Prove, BoundsOutOfRangeAreRefusedByName) {
  const prove::ProverInfo* p = prove::find_prover("mermap");
  prove::Request req = request("bad");
  req.bounds["cpus"] = 5;  // (5 + 1) x 16 pages > 64
  EXPECT_THROW(p->obligations("mermap", req), std::invalid_argument);
  req.bounds = {{"frames", 2}};
  EXPECT_THROW(p->obligations("mermap", req), std::invalid_argument);
}

// Faithfulness (spec/prove.md §6): on every state a campaign reaches, each encoded
// operation gives the model's post-state and call outcome, field by field.
namespace {
struct Snap {
  std::vector<std::uint64_t> next, mapped, stale;
  std::vector<std::vector<std::uint64_t>> slots;
  std::uint64_t migrate = 0;
};

Snap snap(const model::Model& m, vocab::Asid as, const mermap::smt::Encoding& e) {
  const mermap::State& st = *m.layer<mermap::MermapModel>()->state(as);
  Snap s;
  s.migrate = st.migrate_disabled;
  const vocab::Vpn first = e.area_base() >> 12;
  for (unsigned c = 0; c < e.cpus(); ++c) {
    s.next.push_back(st.cpus[c].next_addr);
    std::vector<std::uint64_t> w;
    for (const mermap::Slot& sl : st.cpus[c].slots) w.insert(w.end(), {sl.in_use, sl.reserve, sl.base, sl.end});
    s.slots.push_back(w);
    std::uint64_t mapped = 0, stale = 0;
    for (const auto& [vpn, pte] : m.space(as)->gpt)
      if (vpn >= first && vpn < first + e.width() && pte.local_cpu == static_cast<int>(c)) mapped |= 1ull << (vpn - first);
    for (const auto& [key, held] : m.cpus()[c].stale())
      if (key.first == as && key.second >= first && key.second < first + e.width()) stale |= 1ull << (key.second - first);
    s.mapped.push_back(mapped);
    s.stale.push_back(stale);
  }
  return s;
}

std::uint64_t num(const z3::expr& x) { return x.simplify().get_numeral_uint64(); }
bool truth(const z3::expr& x) { return x.simplify().is_true(); }

/// Compares the encoded post-state with the model's, naming the first field that differs.
std::string differ(const mermap::smt::State& enc, const Snap& s) {
  if (num(enc.migrate) != s.migrate) return "migrate depth";
  for (unsigned c = 0; c < enc.cpus.size(); ++c) {
    std::string at = "cpu " + std::to_string(c) + " ";
    if (num(enc.cpus[c].next) != s.next[c]) return at + "next";
    if (num(enc.cpus[c].mapped) != s.mapped[c]) return at + "mapped pages";
    if (num(enc.cpus[c].stale) != s.stale[c]) return at + "stale pages";
    for (unsigned i = 0; i < enc.cpus[c].slots.size(); ++i) {
      const auto& sl = enc.cpus[c].slots[i];
      const std::uint64_t* f = &s.slots[c][4 * i];
      if (truth(sl.in_use) != (f[0] != 0)) return at + "slot " + std::to_string(i) + " in_use";
      if (!f[0]) continue;  // a free slot's fields are not read
      if (truth(sl.reserve) != (f[1] != 0) || num(sl.base) != f[2] || num(sl.end) != f[3])
        return at + "slot " + std::to_string(i) + " range";
    }
  }
  return "";
}
}  // namespace

TEST(Mermap_10_Prove, EncodingAgreesWithTheModelOnCampaignStates) {
  std::uint64_t compared = 0;
  for (const char* profile : {"mermap:fixed", "mermap:rfc", "mermap:no-flush", "mermap:overlap"})
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      const vocab::Profile resolved = vocab::resolve_profile(profile);
      z3::context zc;
      mermap::smt::Encoding enc(zc, *resolved.params<mermap::MermapParams>("mermap"), 2);
      mermap::MermapGenerator gen(seed, profile, 2, 16);
      model::Model m(profile, 2, 4096, 4096);
      for (int k = 0; k < 400; ++k) {
        vocab::Event e = gen.next();
        const mermap::State* st = nullptr;
        vocab::Asid as = 0;
        if (e.op == &mermap::ops::get) as = e.get<mermap::GetArgs>().as;
        if (e.op == &mermap::ops::put) as = e.get<mermap::PutArgs>().as;
        if (e.op == &mermap::ops::teardown) as = e.get<mermap::TeardownArgs>().as;
        if (e.op == &vocab::ops::tlb_flush) as = m.cpus()[static_cast<unsigned>(e.cpu)].current;
        if (as) st = m.layer<mermap::MermapModel>()->state(as);
        std::optional<std::pair<mermap::smt::State, mermap::smt::Note>> want;
        if (st && st->prepared) {
          Snap pre = snap(m, as, enc);
          mermap::smt::State s = enc.concrete(pre.next, pre.slots, pre.mapped, pre.stale, pre.migrate);
          mermap::smt::OpArgs a = enc.args("x", static_cast<unsigned>(e.cpu), 0);
          a.len = a.fail_after = zc.bv_val(std::uint64_t{0}, 64);
          a.reserve = a.has_fail = zc.bool_val(false);
          mermap::smt::Op op = mermap::smt::Op::flush;
          if (e.op == &mermap::ops::get) {
            const auto& g = e.get<mermap::GetArgs>();
            op = mermap::smt::Op::get;
            a.len = zc.bv_val(std::uint64_t{g.len}, 64);
            a.reserve = zc.bool_val(g.reserve);
            a.has_fail = zc.bool_val(g.fail_after.has_value());
            a.fail_after = zc.bv_val(std::uint64_t{g.fail_after.value_or(0)}, 64);
          } else if (e.op == &mermap::ops::put) {
            op = mermap::smt::Op::put;
            const auto [owner, slot] = st->handles.at(e.get<mermap::PutArgs>().handle);
            const mermap::smt::OpArgs named = enc.args("x", static_cast<unsigned>(owner), static_cast<unsigned>(slot));
            a.slot = named.slot;
            a.which = named.which;
          } else if (e.op == &mermap::ops::teardown) {
            op = mermap::smt::Op::teardown;
          }
          ASSERT_TRUE(truth(enc.pre(op, s, a))) << profile << " seed " << seed << " event " << k;
          want = enc.apply(op, s, a);
        }
        vocab::Outcome o = m.apply(e);
        gen.feedback(e, o);
        if (!want) continue;
        ++compared;
        const std::string where = std::string(profile) + " seed " + std::to_string(seed) + " event " + std::to_string(k) +
                                  " (" + e.op->name + ")";
        if (e.op == &mermap::ops::teardown) {
          EXPECT_EQ(truth(want->second.warned), o.ret == 1) << where << ": teardown's warning";
          continue;
        }
        if (e.op == &mermap::ops::get) {
          EXPECT_EQ(truth(want->second.failed), o.ret == 0) << where << ": whether the get failed";
          if (o.ret) EXPECT_EQ(num(want->second.base), o.ret) << where << ": the address handed out";
        }
        std::string d = differ(want->first, snap(m, as, enc));
        EXPECT_EQ(d, "") << where << ": the encoding and the model disagree on " << d;
        if (!d.empty()) return;
      }
    }
  EXPECT_GT(compared, 3000u) << "too few operations compared";
}
