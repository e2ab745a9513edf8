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
  EXPECT_EQ(n, 2u + 6u + 7u * 7u) << "2 arithmetic lemmas, 6 base cases, 7 operations x 7 IDs";
}

TEST(Almos_12_Prove, FixedHasNoCounterexampleWithinFourOperations) {
  prove::Request req = request("fixed-bmc");
  req.depth = 4;
  for (auto& [ob, r] : run("almos-mkh", req, [](const prove::Obligation& o) { return o.kind == prove::Kind::bmc; }))
    EXPECT_EQ(r.status, prove::Status::proved) << ob.name() << ": " << r.detail;
}

// The broken variants of spec §8 that the SMT form covers, one test each.
TEST(Almos_12_Prove, ZombieAnyOrderBreaksInvariant3) { expect_found("zombie-any-order", {"INV-ALMOS-3"}); }
TEST(Almos_12_Prove, CowIgnoresForksBreaksInvariant6) { expect_found("cow-ignores-forks", {"INV-ALMOS-6"}); }
TEST(Almos_12_Prove, NoForksDecBreaksInvariant6) { expect_found("no-forks-dec", {"INV-ALMOS-6"}); }
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

constexpr unsigned kProcs = 3, kBlocks = 4, kPages = 2;

/// What both sides are compared on.
struct View {
  struct Pr {
    bool alive = false;
    std::uint64_t ff = 0;
    std::set<std::pair<std::uint64_t, std::uint64_t>> live;           // (base, order)
    std::map<std::uint64_t, std::vector<std::uint64_t>> zombies;      // order -> bases, oldest first
    std::vector<int> inseg;
    std::vector<std::tuple<int, std::uint64_t, int, int>> pte;        // valid, canonical page, W, COW
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
  for (const auto& [ppn, pg] : st.pages) {
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
      const auto& ref = q.gpt.at(q.ref_cluster);
      for (unsigned v = 0; v < kPages; ++v) {
        const almos::Vseg* vs = q.vseg_at(p.elf_base + v);
        pr.inseg[v] = vs && vs->type == almos::VsegType::data;
        if (auto e = ref.find(p.elf_base + v); e != ref.end())
          pr.pte[v] = {true, e->second.writable, e->second.cow, index.at(e->second.ppn)};
      }
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
      for (const smt::Plain::Ent& e : p.pte) {
        if (!e.valid) {
          v.pte.emplace_back(0, 0, 0, 0);
          continue;
        }
        if (!canon.count(e.frame)) {
          canon[e.frame] = canon.size();
          out.pages.push_back({s.frames[e.frame].refs, s.frames[e.frame].forks});
        }
        v.pte.emplace_back(1, canon[e.frame], e.w, e.cow);
      }
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
    smt::Plain::Pr pr{truth(p.alive), num(p.ff), {}, {}, {}};
    for (const smt::Block& b : p.blocks)
      pr.blocks.push_back({truth(b.used), truth(b.zombie), num(b.base), num(b.order), num(b.stamp)});
    for (const z3::expr& i : p.inseg) pr.inseg.push_back(truth(i));
    for (const smt::Entry& e : p.pte) pr.pte.push_back({truth(e.valid), truth(e.w), truth(e.cow), num(e.frame)});
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
  std::uint64_t fresh = 0;
  while (fresh < pre.frames.size() && pre.frames[fresh].alloc) ++fresh;
  a.fresh = zc.bv_val(fresh, 8);
  const std::uint64_t upid = pid + 1;
  const almos::AlmosParams& p = m.params();
  switch (pick(10)) {
    case 0:
    case 1: {
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
    case 2: {
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
    case 3: {
      a.page = pick(kPages);
      almos::MunmapArgs u;
      u.pid = upid;
      u.addr = (p.elf_base + a.page) << 12;
      u.len = 0x1000;
      return Pick{vocab::make_event(almos::ops::munmap, u), smt::Op::unmap_page, a};
    }
    case 4:
    case 5:
    case 6: {
      a.page = pick(kPages);
      bool write = pick(2);
      a.write = zc.bool_val(write);
      almos::AccessArgs x;
      x.pid = upid;
      x.va = (p.elf_base + a.page) << 12;
      x.kind = write ? vocab::AccessKind::write : vocab::AccessKind::read;
      return Pick{vocab::make_event(almos::ops::access, x), smt::Op::fault, a};
    }
    case 7: {
      if (dead.empty()) return std::nullopt;
      a.child = dead[pick(dead.size())];
      almos::ForkArgs f;
      f.pid = upid;
      f.child = a.child + 1;
      return Pick{vocab::make_event(almos::ops::fork, f), smt::Op::fork, a};
    }
    case 8: {
      almos::PidArgs x;
      x.pid = upid;
      return Pick{vocab::make_event(almos::ops::exec, x), smt::Op::exec, a};
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
  for (const char* variant : {"fixed", "zombie-any-order", "cow-ignores-forks", "no-forks-dec", "reset-keeps-zombies"})
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      const std::string profile = std::string("almos-mkh:") + variant;
      const vocab::Profile resolved = vocab::resolve_profile(profile);
      z3::context zc;
      smt::Encoding enc(zc, *resolved.params<almos::AlmosParams>("almos-mkh"), {kProcs, kBlocks, kPages});
      model::Model m(profile, 1, 65536, 4096);
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
