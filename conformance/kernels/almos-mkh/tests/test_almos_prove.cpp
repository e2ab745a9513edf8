// `vmref prove` on almos-mkh (spec/kernels/almos-mkh.md §12, spec/prove.md): the fixed
// kernel proves clean, each broken variant the SMT form covers yields a bounded-model-
// checking counterexample that the C++ model confirms under the right ID, and the
// encoding agrees with the model on the states random operation sequences reach.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "almos_arith.hpp"
#include "helpers.hpp"
#include "almos_model.hpp"
#include "almos_smt.hpp"
#include "vmref/model/model.hpp"
#include "vmref/prove/obligation.hpp"

using namespace vmref;
namespace smt = almos::smt;

namespace {

std::vector<std::pair<prove::Obligation, prove::Result>> run(const std::string& profile, const prove::Request& req,
                                                             const std::function<bool(const prove::Obligation&)>& keep) {
  return test::run_obligations("almos-mkh", profile, req, keep);
}

prove::Request request(const std::string& name) { return test::prove_request("almos-" + name); }

/// Every BMC obligation of `ids` finds a counterexample that the model confirms.
void expect_found(const std::string& variant, const std::set<std::string>& ids) {
  std::size_t n = 0;
  for (auto& [ob, r] : run("almos-mkh:" + variant, request(variant), [&](const prove::Obligation& o) {
         return o.kind == prove::Kind::bmc && ids.count(o.id);
       })) {
    ++n;
    EXPECT_EQ(r.status, prove::Status::counterexample) << variant << " " << ob.id << ": " << r.detail;
    EXPECT_TRUE(r.confirmed) << variant << " " << ob.id << ": " << r.replay;
    EXPECT_TRUE(std::filesystem::exists(r.trace)) << r.trace;
  }
  EXPECT_EQ(n, ids.size());
}

}  // namespace

// §11: the arithmetic lemmas over all 2^64 inputs, on the model's own templates.
TEST(Almos_11_Lemmas, EveryLemmaIsProved) {
  auto res = run("almos-mkh", request("lemmas"), [](const prove::Obligation& o) { return o.kind == prove::Kind::lemma; });
  ASSERT_EQ(res.size(), 2u);
  for (auto& [ob, r] : res) EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
}

TEST(Almos_12_Prove, FixedProvesEveryLemmaAndInductiveStep) {
  std::size_t n = 0;
  for (auto& [ob, r] : run("almos-mkh", request("fixed"), [](const prove::Obligation& o) { return o.kind != prove::Kind::bmc; })) {
    ++n;
    EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
  }
  EXPECT_EQ(n, 2u + 9u + 10u * 11u) << "2 arithmetic lemmas, 9 base cases, 10 operations x 11 IDs";
}

TEST(Almos_12_Prove, FixedHasNoCounterexampleWithinFourOperations) {
  prove::Request req = request("fixed-bmc");
  req.depth = 4;
  req.explicit_bmc = true;  // run them: induction implies them (spec/prove.md §3)
  for (auto& [ob, r] : run("almos-mkh", req, [](const prove::Obligation& o) { return o.kind == prove::Kind::bmc; }))
    EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
}

// The broken variants of spec §8 that the SMT form covers, one test each.
TEST(Almos_12_Prove, ZombieAnyOrderBreaksInvariant3) { expect_found("zombie-any-order", {"INV-ALMOS-3"}); }
TEST(Almos_12_Prove, CowIgnoresForksBreaksInvariant6) { expect_found("cow-ignores-forks", {"INV-ALMOS-6"}); }
TEST(Almos_12_Prove, NoForksDecBreaksInvariant6) { expect_found("no-forks-dec", {"INV-ALMOS-6"}); }
TEST(Almos_12_Prove, NoGuardBreaksInvariants1And2) { expect_found("no-guard", {"INV-ALMOS-1", "INV-ALMOS-2"}); }
TEST(Almos_12_Prove, StaleCopyBreaksInvariant4) { expect_found("stale-copy", {"INV-ALMOS-4"}); }
TEST(Almos_12_Prove, FalseFaultAllocatesBreaksInvariants4And5) {
  expect_found("false-fault-allocates", {"INV-ALMOS-4", "INV-ALMOS-5"});
}
TEST(Almos_12_Prove, ResetKeepsZombiesBreaksInvariants3And7) {
  expect_found("reset-keeps-zombies", {"INV-ALMOS-3", "INV-ALMOS-7"});
}

// An inductive counterexample of a broken variant borrows the BMC trace of its ID.
TEST(Almos_12_Prove, InductiveCounterexampleBorrowsAReachableTrace) {
  auto res = run("almos-mkh:cow-ignores-forks", request("cif-inductive"), [](const prove::Obligation& o) {
    return o.kind == prove::Kind::inductive && o.id == "INV-ALMOS-6" && o.op == "fault";
  });
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].second.status, prove::Status::counterexample) << res[0].second.detail;
  EXPECT_TRUE(res[0].second.confirmed) << res[0].second.replay;
  EXPECT_NE(res[0].second.replay.find("reachable"), std::string::npos) << res[0].second.replay;
}

TEST(Almos_12_Prove, BoundsOutOfRangeAreRefusedByName) {
  const prove::ProverInfo* p = prove::find_prover("almos-mkh");
  prove::Request req = request("bad");
  req.bounds["procs"] = 5;
  EXPECT_THROW(p->obligations("almos-mkh", req), std::invalid_argument);
  req.bounds = {{"cpus", 2}};
  EXPECT_THROW(p->obligations("almos-mkh", req), std::invalid_argument);
}

// Faithfulness (spec/prove.md §7): on every state a random sequence of the encoded calls
// reaches, each encoded operation gives the model's post-state, compared as a canonical
// view (pool pages renamed by first use, zombie lists in LIFO order).
namespace {

constexpr unsigned kProcs = 3, kBlocks = 4, kPages = 2, kClusters = 2, kSlots = 2;

/// What both sides are compared on.
struct View {
  struct Pr {
    bool alive = false;
    std::uint64_t ff = 0;
    std::set<std::pair<std::uint64_t, std::uint64_t>> live;           // (base, order)
    std::map<std::uint64_t, std::vector<std::uint64_t>> zombies;      // order -> bases, oldest first
    std::vector<int> inseg;
    std::vector<std::tuple<int, std::uint64_t, int, int>> pte;        // valid, canonical page, W, COW
    std::vector<std::vector<std::tuple<int, std::uint64_t, int, int>>> copy;  // clusters 1.., as pte
    std::vector<std::tuple<bool, bool, std::vector<bool>>> slots;  // bit, live, first page mapped per cluster
  };
  std::vector<Pr> procs;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> pages;         // refs, forks by canonical page
  std::size_t unmapped_pages = 0;                                     // allocated, mapped by no entry
};

/// The model's state as a Plain state of the encoding (or nothing beyond the bounds),
/// with the pool index of each ppn.
std::optional<smt::Plain> plain_of(const almos::AlmosModel& m, std::map<std::uint64_t, std::uint64_t>& index) {
  const almos::State& st = m.state();
  const almos::AlmosParams& p = m.params();
  smt::Plain out;
  index.clear();
  std::set<std::uint64_t> stack_pages;  // private pages of stacks (the zone above the rest): outside the pool
  for (const auto& [pid, q] : st.procs)
    for (const auto& [k, g] : q.gpt)
      for (const auto& [vpn, pte] : g)
        if (vpn >= p.stack_base) stack_pages.insert(pte.ppn);
  for (const auto& [ppn, pg] : st.pages) {
    if (stack_pages.count(ppn)) continue;
    if (index.size() == kProcs * kPages) return std::nullopt;
    out.frames.push_back({true, pg.refs, pg.forks});
    index[ppn] = index.size();
  }
  out.frames.resize(kProcs * kPages);
  std::uint64_t stamp = 0;
  for (unsigned i = 0; i < kProcs; ++i) {
    smt::Plain::Pr pr;
    pr.blocks.resize(kBlocks);
    pr.inseg.assign(kPages, false);
    pr.pte.resize(kPages);
    pr.copy.assign(kClusters - 1, std::vector<smt::Plain::Ent>(kPages));
    pr.slots.assign(kSlots, {false, false, std::vector<bool>(kClusters, false)});
    auto it = st.procs.find(i + 1);
    if (it != st.procs.end()) {
      const almos::Process& q = it->second;
      pr.alive = true;
      pr.ff = q.first_free_vpn;
      unsigned k = 0;
      for (const auto& [b, v] : q.vsl)
        if (almos::is_mmap(v.type)) {
          if (k == kBlocks) return std::nullopt;
          pr.blocks[k++] = {true, false, v.block, v.order, 0};
        }
      for (const auto& [order, list] : q.zombies)
        for (vocab::Vpn z : list) {
          if (k == kBlocks) return std::nullopt;
          pr.blocks[k++] = {true, true, z, order, stamp++};
        }
      EXPECT_EQ(q.ref_cluster, 0u) << "the encoding's reference cluster";
      for (unsigned l = 0; l < kSlots; ++l) {
        pr.slots[l].bit = q.stack_bitmap[l];
        for (const auto& [b, v] : q.vsl) pr.slots[l].live = pr.slots[l].live || (v.type == almos::VsegType::stack && v.ltid == l);
        for (const auto& [k, g] : q.gpt) pr.slots[l].guard.at(k) = g.count(p.stack_base + l * p.stack_slot_pages) > 0;
      }
      for (unsigned v = 0; v < kPages; ++v) {
        const almos::Vseg* vs = q.vseg_at(p.elf_base + v);
        pr.inseg[v] = vs && vs->type == almos::VsegType::data;
      }
      for (const auto& [k, g] : q.gpt)
        for (unsigned v = 0; v < kPages; ++v)
          if (auto e = g.find(p.elf_base + v); e != g.end())
            (k == 0 ? pr.pte[v] : pr.copy.at(k - 1)[v]) = {true, e->second.writable, e->second.cow, index.at(e->second.ppn)};
    }
    out.procs.push_back(pr);
  }
  out.clock = stamp;
  return out;
}

View view_of(const smt::Plain& s) {
  View out;
  std::map<std::uint64_t, std::uint64_t> canon;
  for (const smt::Plain::Pr& p : s.procs) {
    View::Pr v;
    v.alive = p.alive;
    if (p.alive) {
      v.ff = p.ff;
      std::map<std::uint64_t, std::map<std::uint64_t, std::uint64_t>> by_stamp;  // order -> stamp -> base
      for (const smt::Plain::Blk& b : p.blocks)
        if (b.used && !b.zombie) v.live.insert({b.base, b.order});
        else if (b.used) by_stamp[b.order][b.stamp] = b.base;
      for (const auto& [order, list] : by_stamp)
        for (const auto& [st, base] : list) v.zombies[order].push_back(base);
      for (bool i : p.inseg) v.inseg.push_back(i);
      auto entry = [&](const smt::Plain::Ent& e) -> std::tuple<int, std::uint64_t, int, int> {
        if (!e.valid) return {0, 0, 0, 0};
        if (!canon.count(e.frame)) {
          canon[e.frame] = canon.size();
          out.pages.push_back({s.frames[e.frame].refs, s.frames[e.frame].forks});
        }
        return {1, canon[e.frame], e.w, e.cow};
      };
      for (const smt::Plain::Ent& e : p.pte) v.pte.push_back(entry(e));
      for (const auto& g : p.copy) {
        v.copy.emplace_back();
        for (const smt::Plain::Ent& e : g) v.copy.back().push_back(entry(e));
      }
      for (const smt::Plain::Sl& sl : p.slots) v.slots.emplace_back(sl.bit, sl.live, sl.guard);
    }
    out.procs.push_back(v);
  }
  for (std::uint64_t f = 0; f < s.frames.size(); ++f)
    if (s.frames[f].alloc && !canon.count(f)) ++out.unmapped_pages;
  return out;
}

/// The first field in which two views differ, or "".
std::string differ(const View& a, const View& b) {
  for (std::size_t i = 0; i < a.procs.size(); ++i) {
    const View::Pr &x = a.procs[i], &y = b.procs[i];
    std::string pid = "pid " + std::to_string(i + 1) + " ";
    if (x.alive != y.alive) return pid + "alive";
    if (x.ff != y.ff) return pid + "first_free_vpn";
    if (x.live != y.live) return pid + "live blocks";
    if (x.zombies != y.zombies) return pid + "zombie lists";
    if (x.inseg != y.inseg) return pid + "DATA vseg pages";
    for (std::size_t v = 0; v < x.pte.size() && v < y.pte.size(); ++v)
      if (x.pte[v] != y.pte[v]) return pid + "entry of DATA page " + std::to_string(v);
    if (x.slots != y.slots) return pid + "STACK slots (bit, vseg, first page mapped)";
    for (std::size_t k = 0; k < x.copy.size() && k < y.copy.size(); ++k)
      if (x.copy[k] != y.copy[k]) return pid + "cluster " + std::to_string(k + 1) + " copy of the DATA entries";
  }
  for (std::size_t f = 0; f < a.pages.size() && f < b.pages.size(); ++f) {
    if (a.pages[f].first != b.pages[f].first) return "refs of page " + std::to_string(f);
    if (a.pages[f].second != b.pages[f].second) return "forks of page " + std::to_string(f);
  }
  if (a.pages.size() != b.pages.size() || a.unmapped_pages != b.unmapped_pages) return "allocated pages";
  return "";
}

std::uint64_t num(const z3::expr& x) { return x.simplify().get_numeral_uint64(); }
bool truth(const z3::expr& x) { return x.simplify().is_true(); }

/// The encoding's concrete state read back as a Plain one.
smt::Plain plain_of(const smt::State& s) {
  smt::Plain out;
  out.clock = num(s.clock);
  for (const smt::Proc& p : s.procs) {
    smt::Plain::Pr pr{truth(p.alive), num(p.ff), {}, {}, {}, {}, {}};
    for (const smt::Block& b : p.blocks)
      pr.blocks.push_back({truth(b.used), truth(b.zombie), num(b.base), num(b.order), num(b.stamp)});
    for (const z3::expr& i : p.inseg) pr.inseg.push_back(truth(i));
    for (const smt::Entry& e : p.pte) pr.pte.push_back({truth(e.valid), truth(e.w), truth(e.cow), num(e.frame)});
    for (const auto& g : p.copy) {
      pr.copy.emplace_back();
      for (const smt::Entry& e : g) pr.copy.back().push_back({truth(e.valid), truth(e.w), truth(e.cow), num(e.frame)});
    }
    for (const smt::Slot& sl : p.slots) {
      smt::Plain::Sl x{truth(sl.bit), truth(sl.live), {}};
      for (const z3::expr& g : sl.guard) x.guard.push_back(truth(g));
      pr.slots.push_back(x);
    }
    out.procs.push_back(pr);
  }
  for (const smt::Frame& f : s.frames) out.frames.push_back({truth(f.alloc), num(f.refs), num(f.forks)});
  return out;
}

/// One random operation of the encoded kinds on a living process, as the model's event
/// and the encoding's step.
struct Pick {
  vocab::Event event;
  smt::Op op;
  smt::OpArgs args;
};

std::optional<Pick> random_op(std::mt19937_64& rng, z3::context& zc, const smt::Encoding& enc, const almos::AlmosModel& m,
                              const smt::Plain& pre) {
  auto pick = [&](std::uint64_t n) { return static_cast<unsigned>(rng() % n); };
  std::vector<unsigned> alive, dead;
  for (unsigned i = 0; i < kProcs; ++i) (pre.procs[i].alive ? alive : dead).push_back(i);
  if (alive.empty()) return std::nullopt;
  unsigned pid = alive[pick(alive.size())];
  smt::OpArgs a = enc.args("x", pid, 0, 0, 0);
  a.len = zc.bv_val(std::uint64_t{0}, 64);
  a.order = zc.bv_val(std::uint64_t{0}, 64);
  a.write = zc.bool_val(false);
  a.cluster = zc.bv_val(0, 8);
  std::uint64_t fresh = 0;
  while (fresh < pre.frames.size() && pre.frames[fresh].alloc) ++fresh;
  a.fresh = zc.bv_val(fresh, 8);
  const std::uint64_t upid = pid + 1;
  const almos::AlmosParams& p = m.params();
  auto access = [&](std::uint64_t vpn, smt::Op op) {  // a read or write of `vpn` in a random cluster
    const bool write = pick(2);
    const unsigned cluster = pick(kClusters);
    a.write = zc.bool_val(write);
    a.cluster = zc.bv_val(cluster, 8);
    almos::AccessArgs x;
    x.pid = upid;
    x.cluster = cluster;
    x.va = vpn << 12;
    x.kind = write ? vocab::AccessKind::write : vocab::AccessKind::read;
    return std::optional<Pick>(Pick{vocab::make_event(almos::ops::access, x), op, a});
  };
  // Faults weigh most and exec least: exec removes the DATA vseg for good, and the
  // states worth comparing have entries in the reference and the copies.
  static const int kind_of[24] = {0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 5, 6, 6, 7, 7, 8, 9};
  switch (kind_of[pick(24)]) {
    case 0: {
      static const std::uint64_t lens[] = {1, 0x1000, 0x1001, 0x2000, 0x3000, 0x4000, 0x8000, 0, 0xfffffffffffff000ull};
      std::uint64_t len = lens[pick(std::size(lens))];
      a.len = zc.bv_val(len, 64);
      const std::uint64_t pages = (len + 4095) >> 12;
      a.order = zc.bv_val(pages ? almos::arith::mmap_order<std::uint64_t>(pages) : 0, 64);
      almos::VsegArgs v;
      v.pid = upid;
      v.type = almos::VsegType::anon;
      v.len = len;
      return Pick{vocab::make_event(almos::ops::vseg, v), smt::Op::mmap, a};
    }
    case 1: {
      std::vector<unsigned> live;
      for (unsigned i = 0; i < kBlocks; ++i)
        if (pre.procs[pid].blocks[i].used && !pre.procs[pid].blocks[i].zombie) live.push_back(i);
      if (live.empty()) return std::nullopt;
      a.block = live[pick(live.size())];
      const smt::Plain::Blk& b = pre.procs[pid].blocks[a.block];
      almos::MunmapArgs u;
      u.pid = upid;
      u.addr = b.base << 12;
      u.len = (std::uint64_t{1} << b.order) << 12;
      return Pick{vocab::make_event(almos::ops::munmap, u), smt::Op::unmap_block, a};
    }
    case 2: {
      a.page = pick(kPages);
      a.at = zc.bv_val(a.page, 8);
      almos::MunmapArgs u;
      u.pid = upid;
      u.addr = (p.elf_base + a.page) << 12;
      u.len = 0x1000;
      return Pick{vocab::make_event(almos::ops::munmap, u), smt::Op::unmap_page, a};
    }
    case 3: {
      a.page = pick(kPages);
      a.at = zc.bv_val(a.page, 8);
      return access(p.elf_base + a.page, smt::Op::fault);
    }
    case 4: {
      if (dead.empty()) return std::nullopt;
      a.child = dead[pick(dead.size())];
      almos::ForkArgs f;
      f.pid = upid;
      f.child = a.child + 1;
      return Pick{vocab::make_event(almos::ops::fork, f), smt::Op::fork, a};
    }
    case 5: {
      almos::PidArgs x;
      x.pid = upid;
      return Pick{vocab::make_event(almos::ops::exec, x), smt::Op::exec, a};
    }
    case 7: {  // a STACK vseg in a slot, or a fault on a slot's first page (the guard)
      a.slot = pick(kSlots);
      almos::VsegArgs v;
      v.pid = upid;
      v.type = almos::VsegType::stack;
      v.ltid = a.slot;
      return Pick{vocab::make_event(almos::ops::vseg, v), smt::Op::stack, a};
    }
    case 8: {
      a.slot = pick(kSlots);
      return access(enc.slot_vpn(a.slot), smt::Op::stack_fault);
    }
    case 9: {
      a.slot = pick(kSlots);
      if (!pre.procs[pid].slots[a.slot].live) return std::nullopt;
      almos::MunmapArgs u;
      u.pid = upid;
      u.addr = enc.stack_base(a.slot) << 12;
      u.len = enc.stack_pages() << 12;
      return Pick{vocab::make_event(almos::ops::munmap, u), smt::Op::unmap_stack, a};
    }
    default: {
      if (alive.size() == 1) return std::nullopt;  // keep one process running
      almos::PidArgs x;
      x.pid = upid;
      return Pick{vocab::make_event(almos::ops::exit, x), smt::Op::exit, a};
    }
  }
}

}  // namespace

TEST(Almos_12_Prove, EncodingAgreesWithTheModelOnRandomStates) {
  std::uint64_t compared = 0;
  for (const char* variant : {"fixed", "zombie-any-order", "cow-ignores-forks", "no-forks-dec", "reset-keeps-zombies",
                              "stale-copy", "false-fault-allocates", "no-guard"})
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      const std::string profile = std::string("almos-mkh:") + variant;
      const vocab::Profile resolved = vocab::resolve_profile(profile);
      z3::context zc;
      smt::Encoding enc(zc, *resolved.params<almos::AlmosParams>("almos-mkh"), {kProcs, kBlocks, kPages, kClusters, kSlots});
      model::Model m(profile, kClusters, 65536, 4096);
      const almos::AlmosModel& layer = *m.layer<almos::AlmosModel>();
      almos::ProcessArgs pa;
      pa.pid = 1;
      m.apply(vocab::make_event(almos::ops::process, pa));
      almos::VsegArgs data;
      data.pid = 1;
      data.type = almos::VsegType::data;
      data.addr = layer.params().elf_base << 12;
      data.len = kPages << 12;
      m.apply(vocab::make_event(almos::ops::vseg, data));
      std::mt19937_64 rng(seed);
      for (int k = 0; k < 150; ++k) {
        std::map<std::uint64_t, std::uint64_t> index;
        std::optional<smt::Plain> pre = plain_of(layer, index);
        if (!pre) break;  // beyond the bounds
        std::optional<Pick> op = random_op(rng, zc, enc, layer, *pre);
        if (!op) continue;
        smt::State s = enc.lift(*pre);
        for (const std::string& id : smt::kLemmas)  // every lemma the profile claims holds where the model goes
          if (enc.claims(id)) ASSERT_TRUE(truth(enc.holds(id, s, enc.no_call()))) << profile << " seed " << seed << " step " << k << ": " << id;
        const std::string where = profile + " seed " + std::to_string(seed) + " step " + std::to_string(k) + " (" +
                                  smt::op_name(op->op) + ")";
        if (!truth(enc.pre(op->op, s, op->args))) {  // only a step that leaves the bounds may fail it
          m.apply(op->event);
          auto [t, n] = enc.apply(op->op, s, op->args);
          ASSERT_FALSE(plain_of(layer, index).has_value())
              << where << ": the precondition refuses a step within the bounds (ff " << num(n.ff_before) << " -> "
              << num(n.ff_after) << ", clock " << pre->clock << ")" << [&] {
                   std::string t;
                   for (const auto& b : pre->procs[op->args.pid].blocks)
                     t += " [" + std::to_string(b.used) + std::to_string(b.zombie) + " " + std::to_string(b.base) + "/" +
                          std::to_string(b.order) + "]";
                   for (const auto& [pid, q] : layer.state().procs) {
                     t += " | pid " + std::to_string(pid) + " ff " + std::to_string(q.first_free_vpn);
                     for (const auto& [b, v] : q.vsl) t += " v" + std::to_string(b) + "/" + std::to_string(v.pages);
                     for (const auto& [o, l] : q.zombies)
                       for (auto z : l) t += " z" + std::to_string(z) + "/" + std::to_string(o);
                   }
                   return t;
                 }();
          break;
        }
        smt::Plain want = plain_of(enc.apply(op->op, s, op->args).first);
        m.apply(op->event);
        std::optional<smt::Plain> got = plain_of(layer, index);
        if (!got) break;
        ++compared;
        std::string d = differ(view_of(want), view_of(*got));
        EXPECT_EQ(d, "") << where << ": the encoding and the model disagree on " << d;
        if (!d.empty()) return;
      }
    }
  EXPECT_GT(compared, 3000u) << "too few operations compared";
}
