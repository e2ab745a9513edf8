// `vmref prove` on zephyr's demand paging (spec/kernels/zephyr.md §12, spec/prove.md): the
// fixed kernel proves clean, evict-pinned and no-evict-flush each yield a bounded-model-
// checking counterexample that the C++ model confirms under the right ID, and the
// encoding agrees with the model on the states random operation sequences reach.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>

#include "helpers.hpp"
#include "vmref/model/model.hpp"
#include "vmref/prove/obligation.hpp"
#include "zephyr_smt.hpp"

using namespace vmref;
namespace smt = zephyr::smt;

namespace {

std::vector<std::pair<prove::Obligation, prove::Result>> run(const std::string& profile, const prove::Request& req,
                                                             const std::function<bool(const prove::Obligation&)>& keep) {
  return test::run_obligations("zephyr", profile, req, keep);
}

std::uint64_t num(const z3::expr& x) { return x.simplify().get_numeral_uint64(); }
bool truth(const z3::expr& x) { return x.simplify().is_true(); }

/// The encoding's concrete state read back in plain numbers.
smt::Plain plain_of(const smt::State& s) {
  smt::Plain out;
  out.mapped = truth(s.mapped);
  out.orphan = truth(s.orphan);
  for (const z3::expr& b : s.bits) out.bits.push_back(truth(b));
  for (const smt::Page& p : s.pages)
    out.pages.push_back({truth(p.loaded), truth(p.a), truth(p.d), truth(p.in_slot), truth(p.pinned), truth(p.touched),
                         num(p.frame), num(p.slot), num(p.ghost)});
  for (const smt::Frame& f : s.frames)
    out.frames.push_back({truth(f.alloc), truth(f.mapped), truth(f.pinned), num(f.stamp), num(f.va), num(f.data)});
  for (const z3::expr& u : s.slot_used) out.slot_used.push_back(truth(u));
  for (const z3::expr& d : s.slot_data) out.slot_data.push_back(num(d));
  for (const auto& row : s.tlb) {
    out.tlb.emplace_back();
    for (const smt::Held& h : row) out.tlb.back().push_back({truth(h.held), truth(h.dead)});
  }
  out.nru_last = num(s.nru_last);
  out.clock = num(s.clock);
  return out;
}

/// The free frames in the order the allocator hands them out (the stamps' meaning).
std::vector<unsigned> free_order(const smt::Plain& s) {
  std::vector<std::pair<std::uint64_t, unsigned>> v;
  for (unsigned i = 0; i < s.frames.size(); ++i)
    if (!s.frames[i].alloc) v.push_back({s.frames[i].stamp, i + 1});
  std::sort(v.begin(), v.end());
  std::vector<unsigned> out;
  for (const auto& [stamp, f] : v) out.push_back(f);
  return out;
}

/// The first field in which two states differ ("" when none); stamps compare as an order.
std::string differ(const smt::Plain& a, const smt::Plain& b) {
  if (a.mapped != b.mapped) return "region mapped";
  if (a.orphan != b.orphan) return "region an orphan";
  if (a.bits != b.bits) return "bitmap bits";
  for (std::size_t p = 0; p < a.pages.size(); ++p) {
    const smt::Plain::Pg &x = a.pages[p], &y = b.pages[p];
    std::string pg = "page " + std::to_string(p) + " ";
    if (x.loaded != y.loaded || x.frame != y.frame) return pg + "frame";
    if (x.a != y.a || x.d != y.d) return pg + "A/D";
    if (x.in_slot != y.in_slot || x.slot != y.slot) return pg + "slot";
    if (x.pinned != y.pinned) return pg + "pinned";
    if (x.touched != y.touched) return pg + "touched";
    if (x.ghost != y.ghost) return pg + "last-written stamp";
    for (std::size_t f = 0; f < a.tlb[p].size(); ++f)
      if (a.tlb[p][f].held != b.tlb[p][f].held || a.tlb[p][f].dead != b.tlb[p][f].dead)
        return pg + "translation held to frame " + std::to_string(f + 1);
  }
  for (std::size_t f = 0; f < a.frames.size(); ++f) {
    const smt::Plain::Fr &x = a.frames[f], &y = b.frames[f];
    std::string fr = "frame " + std::to_string(f + 1) + " ";
    if (x.alloc != y.alloc) return fr + "in use";
    if (x.mapped != y.mapped || x.pinned != y.pinned || x.va != y.va) return fr + "record";
    if (x.alloc && x.data != y.data) return fr + "contents";
  }
  if (free_order(a) != free_order(b)) return "free-list order";
  if (a.slot_used != b.slot_used) return "backing-store slots";
  for (std::size_t i = 0; i < a.slot_used.size(); ++i)
    if (a.slot_used[i] && a.slot_data[i] != b.slot_data[i]) return "slot " + std::to_string(i) + " contents";
  if (a.nru_last != b.nru_last) return "NRU position";
  return "";
}

/// One random operation of the encoded kinds, as the model's event and the encoding's step.
struct Pick {
  vocab::Event event;
  smt::Op op;
  smt::OpArgs args;
};

Pick random_op(std::mt19937_64& rng, z3::context& zc, const smt::Encoding& enc, std::uint64_t start) {
  auto pick = [&](std::uint64_t n) { return static_cast<unsigned>(rng() % n); };
  const unsigned page = pick(enc.bounds().pages);
  smt::OpArgs a = enc.args("x", page);
  a.write = zc.bool_val(false);
  const std::uint64_t va = start + page * 4096;
  zephyr::RangeArgs r;
  r.addr = va;
  r.len = 4096;
  if (pick(25) == 0) {  // the whole region, now and then
    zephyr::MapArgs map;
    map.len = std::uint64_t{enc.bounds().pages} << 12;
    r.addr = start;
    r.len = map.len;
    switch (pick(3)) {
      case 0: return {vocab::make_event(zephyr::ops::k_mem_unmap, r), smt::Op::unmap, a};
      case 1: return {vocab::make_event(zephyr::ops::k_mem_map, map), smt::Op::map, a};
      default:
        map.lock = map.uninit = true;
        return {vocab::make_event(zephyr::ops::k_mem_map, map), smt::Op::map_lock, a};
    }
  }
  switch (pick(12)) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4: {
      bool write = pick(2);
      a.write = zc.bool_val(write);
      vocab::AccessArgs x;
      x.va = va;
      x.kind = write ? vocab::AccessKind::write : vocab::AccessKind::read;
      return {vocab::make_event(vocab::ops::access, x, 0), smt::Op::access, a};
    }
    case 5:
    case 6: return {vocab::make_event(zephyr::ops::k_mem_page_out, r), smt::Op::page_out, a};
    case 7: return {vocab::make_event(zephyr::ops::k_mem_page_in, r), smt::Op::page_in, a};
    case 8: return {vocab::make_event(zephyr::ops::k_mem_pin, r), smt::Op::pin, a};
    case 9:
    case 10: return {vocab::make_event(zephyr::ops::k_mem_unpin, r), smt::Op::unpin, a};
    default: return {vocab::make_event(zephyr::ops::nru_tick, zephyr::TickArgs{}), smt::Op::nru_tick, a};
  }
}

}  // namespace

TEST(Zephyr_12_Prove, FixedProvesEveryLemmaAndInductiveStep) {
  std::size_t n = 0;
  for (auto& [ob, r] : run("zephyr", test::prove_request("zephyr-fixed"), [](const prove::Obligation& o) {
         return o.kind != prove::Kind::bmc;
       })) {
    ++n;
    EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
  }
  EXPECT_EQ(n, 2u + 12u * 10u) << "2 arithmetic lemmas; 9 invariants and 3 lemmas, each at the start and after 9 operations";
}

TEST(Zephyr_12_Prove, FixedHasNoCounterexampleWithinFourOperations) {
  prove::Request req = test::prove_request("zephyr-fixed-bmc");
  req.depth = 4;
  req.explicit_bmc = true;
  std::size_t n = 0;
  for (auto& [ob, r] : run("zephyr", req, [](const prove::Obligation& o) { return o.kind == prove::Kind::bmc; })) {
    ++n;
    EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
    EXPECT_EQ(r.detail.find("implied"), std::string::npos) << ob.name() << " was not run: " << r.detail;
  }
  EXPECT_EQ(n, smt::kInvariants.size());
}

// spec/prove.md §3: with every base case and inductive step proved, no depth can break an
// invariant, and the bounded model checks say so without running.
TEST(Zephyr_12_Prove, FixedBoundedChecksAreImpliedByInduction) {
  std::size_t n = 0;
  for (auto& [ob, r] : run("zephyr", test::prove_request("zephyr-fixed-implied"),
                           [](const prove::Obligation& o) { return o.kind == prove::Kind::bmc; })) {
    ++n;
    EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
    EXPECT_NE(r.detail.find("implied by induction"), std::string::npos) << ob.name() << ": " << r.detail;
  }
  EXPECT_EQ(n, smt::kInvariants.size());
}

TEST(Zephyr_12_Prove, EvictPinnedBreaksInvariant4) { test::expect_bmc_found("zephyr", "zephyr:evict-pinned", {"INV-ZEPHYR-4"}); }

TEST(Zephyr_12_Prove, NoEvictFlushBreaksTlb1And2) { test::expect_bmc_found("zephyr", "zephyr:no-evict-flush", {"INV-TLB-1", "INV-TLB-2"}); }

// The region's unmap and map again (spec/kernels/zephyr.md §12.2): each broken variant of §7
// that these reach is caught under its own ID and its trace replays.
TEST(Zephyr_12_Prove, UnmapKeepsGuardsBreaksInvariant8) {
  test::expect_bmc_found("zephyr", "zephyr:unmap-keeps-guards", {"INV-ZEPHYR-8"});
}
TEST(Zephyr_12_Prove, UnmapLeaksFrameBreaksInvariant1) {
  test::expect_bmc_found("zephyr", "zephyr:unmap-leaks-frame", {"INV-ZEPHYR-1"});
}
TEST(Zephyr_12_Prove, MapAllocatesBreaksInvariant2) {
  test::expect_bmc_found("zephyr", "zephyr:map-allocates", {"INV-ZEPHYR-2"});
}
// A clean page evicted without its write-out leaves its slot holding nothing it wrote.
TEST(Zephyr_12_Prove, DirtyBitOnlyBreaksInvariant5) {
  test::expect_bmc_found("zephyr", "zephyr:dirty-bit-only", {"INV-ZEPHYR-5"});
}
TEST(Zephyr_12_Prove, NoGuardBreaksInvariant8) { test::expect_bmc_found("zephyr", "zephyr:no-guard", {"INV-ZEPHYR-8"}); }

// A LOCK map of more pages than frames fails part-way (spec/kernels/zephyr.md §12.2): the
// seed keeps what it took, #115581's rollback does not.
TEST(Zephyr_12_Prove, SeedKeepsWhatAFailedLockMapTookBreaksInvariant6) {
  test::expect_bmc_found("zephyr", "zephyr:seed", {"INV-ZEPHYR-6"});
}

// A broken variant's inductive step fails from a pre-state the solver picks; the report
// borrows the BMC trace, which shows such a state reachable.
TEST(Zephyr_12_Prove, InductiveCounterexampleBorrowsAReachableTrace) {
  auto res = run("zephyr:evict-pinned", test::prove_request("zephyr-borrow"), [](const prove::Obligation& o) {
    return o.kind == prove::Kind::inductive && o.id == "INV-ZEPHYR-4" && o.op == "access";
  });
  ASSERT_EQ(res.size(), 1u);
  const prove::Result& r = res[0].second;
  EXPECT_EQ(r.status, prove::Status::counterexample) << r.detail;
  EXPECT_NE(r.replay.find("reachable: confirmed by replay, INV-ZEPHYR-4"), std::string::npos) << r.replay;
}

TEST(Zephyr_12_Prove, BoundsOutOfRangeAreRefusedByName) {
  test::expect_bounds_refused("zephyr", "zephyr", {{"pages", 9}, {"frames", 0}, {"cpus", 2}});
}

// spec/prove.md §7: before each operation, the model's state as Z3 numerals; the encoded
// operation's post-state must equal the model's, field by field.
// Seeds 7 and 8 give the store fewer slots than pages and one more, so that it fills up
// and the slots the state does not keep (smt::encoded_slots) enter the refusal rule.
TEST(Zephyr_12_Prove, EncodingAgreesWithTheModelOnRandomStates) {
  std::uint64_t compared = 0;
  const std::vector<smt::Bounds> shapes = {{4, 2}, {5, 3}, {3, 3}};
  for (const char* variant : {"fixed", "eager", "upstream", "seed", "evict-pinned", "no-evict-flush", "map-allocates",
                              "no-guard", "unmap-keeps-guards", "unmap-leaks-frame", "dirty-bit-only", "no-fault-slot"})
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      const smt::Bounds b = shapes[seed % shapes.size()];
      const std::string profile = std::string("zephyr:") + variant;
      vocab::Profile resolved = vocab::resolve_profile(profile);
      if (seed > 6)
        resolved = vocab::with_params(resolved, {{"backing_pages", seed == 7 ? b.pages - 1 : b.pages + 1}},
                                      {"test", 1, 4096, b.frames});
      const auto& params = *resolved.params<zephyr::ZephyrParams>("zephyr");
      z3::context zc;
      smt::Encoding enc(zc, params, b);
      model::Model m(resolved, 1, b.frames, 4096);
      zephyr::MapArgs map;
      map.len = std::uint64_t{b.pages} << 12;
      m.apply(vocab::make_event(zephyr::ops::k_mem_map, map));
      const std::uint64_t start = smt::region_start(params, b.pages);
      std::mt19937_64 rng(seed);
      for (int k = 0; k < 120; ++k) {
        const smt::Plain pre = smt::plain_of(m, b);
        Pick op = random_op(rng, zc, enc, start);
        const smt::State s = enc.lift(pre);
        const std::string where = profile + " slots " + std::to_string(params.backing_pages) + " seed " +
                                  std::to_string(seed) + " step " + std::to_string(k) + " (" + smt::op_name(op.op) +
                                  " page " + std::to_string(op.args.page) + ")";
        for (const std::string& lemma : enc.lemmas())  // each lemma the profile claims holds where it runs
          ASSERT_TRUE(truth(enc.holds(lemma, s, enc.no_call()))) << where << ": " << lemma << " fails on the model's state";
        const std::vector<smt::Op> ops = enc.ops();
        if (std::find(ops.begin(), ops.end(), op.op) == ops.end() || !truth(enc.pre(op.op, s, op.args))) continue;
        smt::Plain want = plain_of(enc.apply(op.op, s, op.args).first);
        m.apply(op.event);
        ++compared;
        std::string d = differ(want, smt::plain_of(m, b));
        ASSERT_EQ(d, "") << where << ": the encoding and the model disagree on " << d;
      }
    }
  EXPECT_GT(compared, 5000u) << "too few operations compared";
}
