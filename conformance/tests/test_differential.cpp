// Model against the x86-64 implementation: RapidCheck stateful tests (every command is
// applied to both and the whole observable state compared), clean campaigns, and one
// test per deliberately broken variant showing it is caught within seconds.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <filesystem>

#include "vmref/conformance/replay.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/diff/differential.hpp"
#include "vmref/trace/codec.hpp"

using namespace vmref;
using model::Asid;
using model::Event;
using model::Op;

namespace {

constexpr unsigned kCpus = 2;
constexpr model::Va kWin = 0x10000000;

struct RcState {
  std::vector<Asid> spaces{1};
  std::vector<Asid> cpu_as = std::vector<Asid>(kCpus, 0);
  Asid next = 2;
  bool alive(Asid a) const { return std::find(spaces.begin(), spaces.end(), a) != spaces.end(); }
};

struct Sut {
  Sut() : d(config()) {
    Event e;
    e.op = Op::as_create;
    e.as = 1;
    d.step(e);
  }
  static diff::DiffConfig config() {
    diff::DiffConfig c;
    c.profile = model::profile_by_name("linux");
    c.cpus = kCpus;
    c.frames = 256;
    c.full_every = 1;  // compare the whole state after every command
    return c;
  }
  diff::Differential d;
};

using Cmd = rc::state::Command<RcState, Sut>;

/// One event; `pre` says when it still applies after shrinking, `post` updates the state.
struct Step : Cmd {
  Event e;
  void run(const RcState&, Sut& sut) const override {
    auto f = sut.d.step(e);
    RC_ASSERT(f.empty());  // on failure RapidCheck shrinks the command sequence
  }
  void show(std::ostream& os) const override { os << trace::event_to_json(e).dump(); }
};

model::Va page(int n) { return kWin + static_cast<model::Va>(n) * 4096; }

struct Mmap : Step {
  explicit Mmap(const RcState& s) {
    e.op = Op::mmap;
    e.as = *rc::gen::elementOf(s.spaces);
    e.addr = page(*rc::gen::inRange(0, 48));
    e.len = 4096 * *rc::gen::inRange<std::uint64_t>(1, 12);
    e.prot = {*rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>()};
    e.shared = *rc::gen::inRange(0, 5) == 0;
    e.placement = *rc::gen::inRange(0, 4) ? model::Placement::fixed : model::Placement::hint;
    e.populate = *rc::gen::inRange(0, 8) == 0;
    if (*rc::gen::inRange(0, 6) == 0) e.vm_flags.set(model::VmFlag::global);
    if (*rc::gen::inRange(0, 5) == 0) {
      e.anonymous = false;
      e.file = model::FileRef{"00:00:" + std::to_string(*rc::gen::inRange(1, 3)), "/f", true};
      e.offset = 4096 * *rc::gen::inRange<std::uint64_t>(0, 8);
    }
  }
  void checkPreconditions(const RcState& s) const override { RC_PRE(s.alive(e.as)); }
};

struct Range : Step {
  explicit Range(const RcState& s) {
    e.op = *rc::gen::element(Op::munmap, Op::mprotect);
    e.as = *rc::gen::elementOf(s.spaces);
    e.addr = page(*rc::gen::inRange(0, 56));
    e.len = 4096 * *rc::gen::inRange<std::uint64_t>(1, 12);
    e.prot = {*rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>()};
  }
  void checkPreconditions(const RcState& s) const override { RC_PRE(s.alive(e.as)); }
};

struct Access : Step {
  explicit Access(const RcState& s) {
    e.op = Op::access;
    e.cpu = *rc::gen::inRange<int>(0, kCpus);
    e.addr = page(*rc::gen::inRange(0, 60)) + *rc::gen::inRange<std::uint64_t>(0, 4096);
    e.kind = *rc::gen::element(model::AccessKind::read, model::AccessKind::write, model::AccessKind::exec);
    RC_PRE(s.cpu_as[static_cast<std::size_t>(e.cpu)] != 0);
  }
  void checkPreconditions(const RcState& s) const override {
    Asid a = s.cpu_as[static_cast<std::size_t>(e.cpu)];
    RC_PRE(a != 0 && s.alive(a));
  }
};

struct Switch : Step {
  explicit Switch(const RcState& s) {
    e.op = Op::switch_as;
    e.cpu = *rc::gen::inRange<int>(0, kCpus);
    e.as = *rc::gen::elementOf(s.spaces);
  }
  void checkPreconditions(const RcState& s) const override { RC_PRE(s.alive(e.as)); }
  void apply(RcState& s) const override { s.cpu_as[static_cast<std::size_t>(e.cpu)] = e.as; }
};

struct Fork : Step {
  explicit Fork(const RcState& s) {
    RC_PRE(s.spaces.size() < 4);
    e.op = Op::fork;
    e.as = *rc::gen::elementOf(s.spaces);
    e.child = s.next;
  }
  void checkPreconditions(const RcState& s) const override { RC_PRE(s.alive(e.as) && !s.alive(e.child)); }
  void apply(RcState& s) const override {
    s.spaces.push_back(e.child);
    s.next = std::max(s.next, e.child + 1);
  }
};

struct Destroy : Step {
  explicit Destroy(const RcState& s) {
    RC_PRE(s.spaces.size() > 1);
    e.op = Op::as_destroy;
    e.as = *rc::gen::elementOf(std::vector<Asid>(s.spaces.begin() + 1, s.spaces.end()));
  }
  void checkPreconditions(const RcState& s) const override { RC_PRE(e.as != 1 && s.alive(e.as)); }
  void apply(RcState& s) const override {
    std::erase(s.spaces, e.as);
    for (Asid& a : s.cpu_as)
      if (a == e.as) a = 0;
  }
};

struct Flush : Step {
  explicit Flush(const RcState& s) {
    e.op = Op::tlb_flush;
    e.scope = *rc::gen::element(model::FlushScope::all, model::FlushScope::asid, model::FlushScope::range);
    e.as = *rc::gen::elementOf(s.spaces);
    e.addr = page(*rc::gen::inRange(0, 56));
    e.len = 4096 * *rc::gen::inRange<std::uint64_t>(1, 8);
    e.broadcast = *rc::gen::arbitrary<bool>();
    e.cpu = *rc::gen::inRange<int>(0, kCpus);
    e.with_global = *rc::gen::arbitrary<bool>();
  }
  void checkPreconditions(const RcState& s) const override { RC_PRE(e.scope == model::FlushScope::all || s.alive(e.as)); }
};

}  // namespace

RC_GTEST_PROP(DifferentialX86_64, ModelAndImplementationAgreeAfterEveryCommand, ()) {
  // Sequences five times RapidCheck's default size: COW and TLB bugs need a few
  // map / access / fork / switch steps in the right order before they show.
  auto cmds = *rc::gen::scale(5.0, rc::state::gen::commands(
      RcState{}, rc::state::gen::execOneOfWithArgs<Mmap, Mmap, Range, Access, Access, Access, Switch, Fork, Destroy, Flush>()));
  Sut sut;
  rc::state::runAll(cmds, RcState{}, sut);
}

TEST(DifferentialX86_64, CleanCampaignOnBothLayers) {
  diff::CampaignOptions o;
  o.ops = 30000;
  o.seed = 11;
  diff::CampaignResult r = diff::run_campaign(o);
  EXPECT_EQ(r.findings, 0u) << (r.examples.empty() ? "" : r.examples[0].id + ": " + r.examples[0].message);
  EXPECT_TRUE(r.first_error.empty()) << r.first_error;
  EXPECT_GT(r.table_ops, 1000u);
  EXPECT_GT(r.op_kinds["fork"], 50u);
  EXPECT_GT(r.shapes["tables.large_leaf_pages_compared"], 0u);
}

class MutantTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MutantTest, IsCaughtWithinSecondsAndItsCounterexampleReplays) {
  diff::CampaignOptions o;
  o.ops = 50000;
  o.seed = 3;
  o.stop_at_first = true;  // the time to the first finding is what "caught within seconds" means
  o.mutant = *impl::parse_mutant(GetParam());
  o.profile = impl::mutant_profile(o.mutant);  // zephyr-* mutants live in the Zephyr paging code
  o.out_dir = (std::filesystem::temp_directory_path() / ("vmref-mutant-" + GetParam())).string();
  diff::CampaignResult r = diff::run_campaign(o);
  ASSERT_GT(r.findings, 0u) << GetParam() << " was not caught";
  EXPECT_LT(r.seconds, 30.0);
  ASSERT_FALSE(r.examples.empty());
  const diff::Counterexample& c = r.examples[0];
  EXPECT_TRUE(c.reproduces);
  EXPECT_LE(c.minimized, c.original);
  if (c.file.find(".tables.") != std::string::npos) {
    EXPECT_FALSE(diff::replay_counterexample(c.file, o.mutant, 4).empty());
    EXPECT_TRUE(diff::replay_counterexample(c.file, impl::Mutant::none, 4).empty()) << "clean without the mutant";
  } else {
    conformance::ReplayOptions ro;
    ro.impl = "x86_64";
    ro.mutant = GetParam();
    EXPECT_EQ(conformance::replay_file(c.file, ro).verdict(), conformance::Verdict::findings);
    ro.mutant.clear();
    EXPECT_EQ(conformance::replay_file(c.file, ro).verdict(), conformance::Verdict::clean) << "clean without the mutant";
  }
  std::filesystem::remove_all(o.out_dir);
}

INSTANTIATE_TEST_SUITE_P(All, MutantTest, ::testing::ValuesIn(impl::mutant_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(DifferentialX86_64, NonCanonicalAccessDoesNotAliasAMappedPage) {
  diff::Differential d(Sut::config());
  auto ev = [](Op op) {
    Event e;
    e.op = op;
    e.as = 1;
    e.cpu = 0;
    return e;
  };
  EXPECT_TRUE(d.step(ev(Op::as_create)).empty());
  EXPECT_TRUE(d.step(ev(Op::switch_as)).empty());
  Event m = ev(Op::mmap);
  m.addr = kWin;
  m.len = 4096;
  m.prot = {true, true, false};
  m.placement = model::Placement::fixed;
  EXPECT_TRUE(d.step(m).empty());
  Event a = ev(Op::access);
  a.kind = model::AccessKind::write;
  a.addr = kWin;
  EXPECT_TRUE(d.step(a).empty());
  a.addr = kWin | (1ull << 48);  // the same low 48 bits, not canonical
  EXPECT_TRUE(d.step(a).empty());
  EXPECT_EQ(d.last_outcome().access, model::AccessResult::segv_maperr);
}
