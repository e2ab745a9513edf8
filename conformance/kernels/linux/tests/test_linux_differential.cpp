// The linux kernel's model against its implementation over the default page-table
// format (spec/differential.md): RapidCheck stateful tests (every command is applied to
// both and the whole observable state compared) and a clean campaign on both layers.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <map>
#include <filesystem>

#include "vmref/conformance/replay.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/diff/differential.hpp"
#include "helpers.hpp"
#include "linux_events.hpp"
#include "vmref/trace/codec.hpp"

using namespace vmref;
using vocab::Asid;
using vocab::Event;
using vocab::make_event;
namespace ops = linux_mm::ops;

namespace {

constexpr unsigned kCpus = 2;
constexpr vocab::Va kWin = 0x10000000;

struct RcState {
  std::vector<Asid> spaces{1};
  std::vector<Asid> cpu_as = std::vector<Asid>(kCpus, 0);
  std::vector<std::map<std::uint32_t, Asid>> tags = std::vector<std::map<std::uint32_t, Asid>>(kCpus);
  Asid next = 2;
  bool alive(Asid a) const { return std::find(spaces.begin(), spaces.end(), a) != spaces.end(); }
};

struct SystemUnderTest {
  SystemUnderTest() : d(config()) {
    vocab::AsCreateArgs a;
    a.as = 1;
    d.step(make_event(vocab::ops::as_create, a));
  }
  static diff::DiffConfig config() {
    diff::DiffConfig c;
    c.profile = linux_mm::kKernel;
    c.cpus = kCpus;
    c.frames = 256;
    c.full_every = 1;  // compare the whole state after every command
    return c;
  }
  diff::Differential d;
};

using Cmd = rc::state::Command<RcState, SystemUnderTest>;

/// One event; `pre` says when it still applies after shrinking, `post` updates the state.
struct Step : Cmd {
  Event e;
  void run(const RcState&, SystemUnderTest& sut) const override {
    auto f = sut.d.step(e);
    RC_ASSERT(f.empty());  // on failure RapidCheck shrinks the command sequence
  }
  void show(std::ostream& os) const override { os << trace::event_to_json(e).dump(); }
};

vocab::Va page(int n) { return kWin + static_cast<vocab::Va>(n) * 4096; }

struct Mmap : Step {
  Asid as;
  explicit Mmap(const RcState& s) {
    linux_mm::MmapArgs a;
    a.as = as = *rc::gen::elementOf(s.spaces);
    a.addr = page(*rc::gen::inRange(0, 48));
    a.len = 4096 * *rc::gen::inRange<std::uint64_t>(1, 12);
    a.prot = {*rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>()};
    a.shared = *rc::gen::inRange(0, 5) == 0;
    a.placement = *rc::gen::inRange(0, 4) ? linux_mm::Placement::fixed : linux_mm::Placement::hint;
    a.populate = *rc::gen::inRange(0, 8) == 0;
    if (*rc::gen::inRange(0, 6) == 0) a.flags.set(vocab::VmFlag::global);
    if (*rc::gen::inRange(0, 5) == 0) {
      a.anonymous = false;
      a.file = vocab::FileRef{"00:00:" + std::to_string(*rc::gen::inRange(1, 3)), "/f", true};
      a.offset = 4096 * *rc::gen::inRange<std::uint64_t>(0, 8);
    }
    e = make_event(ops::mmap, a);
  }
  void checkPreconditions(const RcState& s) const override { RC_PRE(s.alive(as)); }
};

struct Range : Step {
  Asid as;
  explicit Range(const RcState& s) {
    bool unmap = *rc::gen::arbitrary<bool>();
    linux_mm::MprotectArgs a;
    a.as = as = *rc::gen::elementOf(s.spaces);
    a.addr = page(*rc::gen::inRange(0, 56));
    a.len = 4096 * *rc::gen::inRange<std::uint64_t>(1, 12);
    a.prot = {*rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>()};
    if (unmap) {
      linux_mm::MunmapArgs u;
      u.as = a.as, u.addr = a.addr, u.len = a.len;
      e = make_event(ops::munmap, u);
    } else {
      e = make_event(ops::mprotect, a);
    }
  }
  void checkPreconditions(const RcState& s) const override { RC_PRE(s.alive(as)); }
};

struct Access : Step {
  explicit Access(const RcState& s) {
    int cpu = *rc::gen::inRange<int>(0, kCpus);
    vocab::AccessArgs a;
    a.va = page(*rc::gen::inRange(0, 60)) + *rc::gen::inRange<std::uint64_t>(0, 4096);
    a.kind = *rc::gen::element(vocab::AccessKind::read, vocab::AccessKind::write, vocab::AccessKind::exec);
    RC_PRE(s.cpu_as[static_cast<std::size_t>(cpu)] != 0);
    e = make_event(vocab::ops::access, a, cpu);
  }
  void checkPreconditions(const RcState& s) const override {
    Asid a = s.cpu_as[static_cast<std::size_t>(e.cpu)];
    RC_PRE(a != 0 && s.alive(a));
  }
};

struct Switch : Step {
  Asid as;
  explicit Switch(const RcState& s) {
    int cpu = *rc::gen::inRange<int>(0, kCpus);
    vocab::SwitchArgs a;
    a.as = as = *rc::gen::elementOf(s.spaces);
    e = make_event(vocab::ops::switch_as, a, cpu);
  }
  void checkPreconditions(const RcState& s) const override { RC_PRE(s.alive(as)); }
  void apply(RcState& s) const override { s.cpu_as[static_cast<std::size_t>(e.cpu)] = as; }
};

/// A switch under a PCID-like tag, flushed when this CPU last loaded the tag for
/// another address space (as a correct kernel does, INV-TLB-6), and now and then anyway.
struct TaggedSwitch : Step {
  Asid as;
  std::uint32_t tag;
  explicit TaggedSwitch(const RcState& s) {
    int cpu = *rc::gen::inRange<int>(0, kCpus);
    vocab::SwitchArgs a;
    a.as = as = *rc::gen::elementOf(s.spaces);
    a.tag = tag = *rc::gen::inRange<std::uint32_t>(1, 4);
    auto it = s.tags[static_cast<std::size_t>(cpu)].find(tag);
    a.flush = (it != s.tags[static_cast<std::size_t>(cpu)].end() && it->second != as) || *rc::gen::inRange(0, 8) == 0;
    e = make_event(vocab::ops::switch_as, a, cpu);
  }
  void checkPreconditions(const RcState& s) const override {
    auto& t = s.tags[static_cast<std::size_t>(e.cpu)];
    auto it = t.find(tag);
    RC_PRE(s.alive(as) && (e.get<vocab::SwitchArgs>().flush || it == t.end() || it->second == as));
  }
  void apply(RcState& s) const override {
    s.cpu_as[static_cast<std::size_t>(e.cpu)] = as;
    s.tags[static_cast<std::size_t>(e.cpu)][tag] = as;
  }
};

struct Fork : Step {
  Asid as, child;
  explicit Fork(const RcState& s) {
    RC_PRE(s.spaces.size() < 4);
    linux_mm::ForkArgs a;
    a.as = as = *rc::gen::elementOf(s.spaces);
    a.child = child = s.next;
    e = make_event(ops::fork, a);
  }
  void checkPreconditions(const RcState& s) const override { RC_PRE(s.alive(as) && !s.alive(child)); }
  void apply(RcState& s) const override {
    s.spaces.push_back(child);
    s.next = std::max(s.next, child + 1);
  }
};

struct Destroy : Step {
  Asid as;
  explicit Destroy(const RcState& s) {
    RC_PRE(s.spaces.size() > 1);
    vocab::SpaceArgs a;
    a.as = as = *rc::gen::elementOf(std::vector<Asid>(s.spaces.begin() + 1, s.spaces.end()));
    e = make_event(vocab::ops::as_destroy, a);
  }
  void checkPreconditions(const RcState& s) const override { RC_PRE(as != 1 && s.alive(as)); }
  void apply(RcState& s) const override {
    std::erase(s.spaces, as);
    for (Asid& a : s.cpu_as)
      if (a == as) a = 0;
  }
};

struct Flush : Step {
  explicit Flush(const RcState& s) {
    vocab::TlbFlushArgs a;
    a.scope = *rc::gen::element(vocab::FlushScope::all, vocab::FlushScope::asid, vocab::FlushScope::range);
    a.as = *rc::gen::elementOf(s.spaces);
    a.va = page(*rc::gen::inRange(0, 56));
    a.len = 4096 * *rc::gen::inRange<std::uint64_t>(1, 8);
    a.broadcast = *rc::gen::arbitrary<bool>();
    int cpu = *rc::gen::inRange<int>(0, kCpus);
    a.with_global = *rc::gen::arbitrary<bool>();
    e = make_event(vocab::ops::tlb_flush, a, cpu);
  }
  void checkPreconditions(const RcState& s) const override {
    const auto& a = e.get<vocab::TlbFlushArgs>();
    RC_PRE(a.scope == vocab::FlushScope::all || s.alive(a.as));
  }
};

}  // namespace

RC_GTEST_PROP(Differential_2_Linux, ModelAndImplementationAgreeAfterEveryCommand, ()) {
  // Sequences five times RapidCheck's default size: COW and TLB bugs need a few
  // map / access / fork / switch steps in the right order before they show.
  auto cmds = *rc::gen::scale(5.0, rc::state::gen::commands(
      RcState{}, rc::state::gen::execOneOfWithArgs<Mmap, Mmap, Range, Access, Access, Access, Switch, TaggedSwitch, Fork,
                                                    Destroy, Flush>()));
  SystemUnderTest sut;
  rc::state::runAll(cmds, RcState{}, sut);
}

TEST(Differential_2_Linux, CleanCampaignOnBothLayers) {
  diff::CampaignOptions o;
  o.profile = linux_mm::kKernel;
  o.ops = 30000;
  o.seed = 11;
  diff::CampaignResult r = diff::run_campaign(o);
  EXPECT_EQ(r.findings, 0u) << (r.examples.empty() ? "" : r.examples[0].id + ": " + r.examples[0].message);
  EXPECT_TRUE(r.first_error.empty()) << r.first_error;
  EXPECT_GT(r.table_ops, 1000u);
  EXPECT_GT(r.op_kinds["fork"], 50u);
  EXPECT_GT(r.shapes["tables.large_leaf_pages_compared"], 0u);
}

TEST(Differential_2_Linux, NonCanonicalAccessDoesNotAliasAMappedPage) {
  diff::Differential d(SystemUnderTest::config());
  vocab::AsCreateArgs c;
  c.as = 1;
  EXPECT_TRUE(d.step(make_event(vocab::ops::as_create, c)).empty());
  vocab::SwitchArgs s;
  s.as = 1;
  EXPECT_TRUE(d.step(make_event(vocab::ops::switch_as, s, 0)).empty());
  linux_mm::MmapArgs m;
  m.as = 1;
  m.addr = kWin;
  m.len = 4096;
  m.prot = {true, true, false};
  m.placement = linux_mm::Placement::fixed;
  EXPECT_TRUE(d.step(make_event(ops::mmap, m)).empty());
  vocab::AccessArgs a;
  a.kind = vocab::AccessKind::write;
  a.va = kWin;
  EXPECT_TRUE(d.step(make_event(vocab::ops::access, a, 0)).empty());
  a.va = kWin | (1ull << 48);  // the same low 48 bits, not canonical
  EXPECT_TRUE(d.step(make_event(vocab::ops::access, a, 0)).empty());
  EXPECT_EQ(d.last_outcome().access, vocab::AccessResult::segv_maperr);
}

namespace {
Event tagged_switch(int cpu, Asid as, std::uint32_t tag, bool flush) {
  vocab::SwitchArgs a;
  a.as = as;
  a.tag = tag;
  a.flush = flush;
  return make_event(vocab::ops::switch_as, a, cpu);
}
/// Space 1 maps a page, CPU 1 caches it under tag 3, then the page is unmapped while
/// CPU 1 runs space 2 under tag 4: the shootdown must reach tag 3 on CPU 1.
std::vector<Event> tag_then_unmap() {
  linux_mm::MmapArgs m;
  m.as = 1, m.addr = kWin, m.len = 4096, m.prot = {true, true, false};
  m.placement = linux_mm::Placement::fixed;
  vocab::AccessArgs r;
  r.va = kWin, r.kind = vocab::AccessKind::write;
  linux_mm::MunmapArgs u;
  u.as = 1, u.addr = kWin, u.len = 4096;
  vocab::AsCreateArgs c;
  c.as = 2;
  return {make_event(ops::mmap, m), make_event(vocab::ops::as_create, c), tagged_switch(1, 1, 3, false),
          make_event(vocab::ops::access, r, 1), tagged_switch(1, 2, 4, false), make_event(ops::munmap, u)};
}
}  // namespace

TEST(Differential_2_Linux, ShootdownReachesEveryTagTheSpaceRanUnder) {
  for (const char* mutant : {"", "flush-own-pcid-only"}) {
    diff::DiffConfig c = SystemUnderTest::config();
    c.format.mutant = impl::find_mutant(mutant);
    diff::Differential d(c);
    vocab::AsCreateArgs a;
    a.as = 1;
    d.step(make_event(vocab::ops::as_create, a));
    std::vector<std::string> ids;
    for (const Event& e : tag_then_unmap())
      for (const auto& f : d.step(e)) ids.push_back(f.id);
    if (*mutant)
      EXPECT_NE(std::find(ids.begin(), ids.end(), "DIFF-TLB-1"), ids.end()) << "tag 3 kept the unmapped page";
    else
      EXPECT_TRUE(ids.empty()) << ids.front();
  }
}

TEST(Differential_2_Linux, ATagReusedWithoutFlushIsTheModelsFindingNotADivergence) {
  SystemUnderTest sut;
  vocab::AsCreateArgs c;
  c.as = 2;
  sut.d.step(make_event(vocab::ops::as_create, c));
  EXPECT_TRUE(sut.d.step(tagged_switch(0, 1, 2, false)).empty());
  auto f = sut.d.step(tagged_switch(0, 2, 2, false));  // PCID 2 recycled for space 2, no flush
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "INV-TLB-6");
  EXPECT_TRUE(sut.d.step(tagged_switch(0, 1, 2, true)).empty());
}

TEST(Differential_2_Linux, TagsOutsideThePcidRangeAreUnsupportedNamingTheField) {
  for (std::uint32_t tag : {0u, 4096u}) {
    SystemUnderTest sut;
    try {
      sut.d.step(tagged_switch(0, 1, tag, false));
      ADD_FAILURE() << "tag " << tag << " was accepted";
    } catch (const impl::Unsupported& u) {
      EXPECT_EQ(u.field, "tag");
    }
  }
}

// The broken variants of spec/kernels/linux.md §3 that break a shared invariant: a model
// campaign under each finds it, and the shrunk counterexample replays to the same ID.
TEST(Linux_3_Variants, FuzzCampaignCatchesEveryBrokenVariant) {
  const std::vector<std::pair<const char*, std::set<std::string>>> cases{
      {"frees-before-flush", {"INV-TLB-1"}},
      {"forgets-cow-count", {"INV-FRAME-1"}},
      {"mprotect-skips-flush", {"INV-TLB-3"}},
      {"mprotect-keeps-write", {"INV-GPT-2"}}};
  for (const auto& [variant, ids] : cases) {
    diff::CampaignResult r = test::model_campaign(std::string("linux:") + variant, 100000, true);
    ASSERT_FALSE(r.examples.empty()) << variant << " not caught";
    EXPECT_TRUE(ids.count(r.examples[0].id)) << variant << " caught by " << r.examples[0].id;
    EXPECT_TRUE(r.examples[0].reproduces) << variant;
  }
}
