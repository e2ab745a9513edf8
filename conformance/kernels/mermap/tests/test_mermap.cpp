// The mermap kernel (spec/kernels/mermap.md), one suite per section, named after it:
// mermap_get (§2), mermap_put (§3), the variants (§5: the review's findings caught on
// `rfc` and absent on `fixed`, each broken variant caught by its invariant of §8), and
// the implementation against the model in fuzz campaigns (§6).
#include <gtest/gtest.h>

#include <set>

#include "helpers.hpp"
#include "mermap_model.hpp"
#include "vmref/diff/campaign.hpp"

using namespace vmref;

namespace {
constexpr vocab::Va kBase = 0xffffeb0000000000ull;

model::Model prepared(const std::string& variant) {
  model::Model m(variant, 2, 256, 4096);
  for (const char* l : {R"({"op":"as_create","as":1})", R"({"op":"switch","cpu":0,"as":1})",
                        R"({"op":"switch","cpu":1,"as":1})", R"({"op":"mermap_prepare","as":1})"})
    test::apply_clean(m, l);
  return m;
}

const mermap::State& state(const model::Model& m) { return *m.layer<mermap::MermapModel>()->state(1); }

std::set<std::string> violations_of(model::Model& m, const std::string& line) {
  m.apply(test::ev(line));
  std::vector<model::Violation> v;
  model::check_invariants(m, true, v);
  std::set<std::string> ids;
  for (auto& x : v) ids.insert(x.id);
  return ids;
}

std::string get(int cpu, const char* len, const char* handle, bool reserve = false) {
  return std::string(R"({"op":"mermap_get","as":1,"cpu":)") + std::to_string(cpu) + R"(,"len":")" + len +
         R"(","handle":")" + handle + "\"" + (reserve ? R"(,"reserve":true})" : "}");
}
}  // namespace

TEST(Mermap_2_Get, InOrderBumpAllocationAndFlushBeforeReuse) {
  model::Model m = prepared("mermap");
  EXPECT_EQ(test::apply_clean(m, get(0, "0x4000", "a")).ret, kBase);
  EXPECT_EQ(test::apply_clean(m, get(1, "0x1000", "b")).ret, kBase + 0x10000) << "each CPU has its own region";
  test::apply_clean(m, R"({"op":"mermap_put","as":1,"cpu":0,"handle":"a"})");
  EXPECT_EQ(test::apply_clean(m, get(0, "0x1000", "c")).ret, kBase + 0x4000) << "freed space is not reused before a flush";
  EXPECT_EQ(state(m).flushes, 0u);
  EXPECT_EQ(test::apply_clean(m, get(0, "0xa000", "d")).ret, kBase + 0x5000);
  test::apply_clean(m, R"({"op":"mermap_put","as":1,"cpu":0,"handle":"c"})");
  test::apply_clean(m, R"({"op":"mermap_put","as":1,"cpu":0,"handle":"d"})");
  EXPECT_EQ(test::apply_clean(m, get(0, "0x2000", "e")).ret, kBase) << "out of space: one local flush, back to the base";
  EXPECT_EQ(state(m).flushes, 1u);
  EXPECT_EQ(state(m).migrate_disabled, 2u) << "b and e are live";
}

TEST(Mermap_3_Put, PutFromAnotherCpuIsImpossibleInput) {
  model::Model m = prepared("mermap");
  test::apply_clean(m, get(0, "0x1000", "a"));
  EXPECT_THROW(m.apply(test::ev(R"({"op":"mermap_put","as":1,"cpu":1,"handle":"a"})")), model::ModelError);
  EXPECT_THROW(m.apply(test::ev(R"({"op":"mermap_put","as":1,"cpu":0,"handle":"zz"})")), model::ModelError);
}

TEST(Mermap_5_Variants, ReviewFindingsAreCaughtOnRfcAndAbsentOnFixed) {
  for (std::string v : {"mermap:rfc", "mermap"}) {
    bool rfc = v == "mermap:rfc";
    {  // R1: four normal allocations live, then a reserved get
      model::Model m = prepared(v);
      for (const char* h : {"n0", "n1", "n2", "n3"}) m.apply(test::ev(get(0, "0x1000", h)));
      EXPECT_EQ(violations_of(m, get(0, "0x1000", "r", true)).count("INV-MERMAP-4"), rfc ? 1u : 0u) << v;
    }
    {  // R2: the PTE write fails after one page
      model::Model m = prepared(v);
      auto ids = violations_of(m, R"({"op":"mermap_get","as":1,"cpu":0,"len":"0x3000","handle":"a","fail_after":"0x1"})");
      EXPECT_EQ(ids.count("INV-MERMAP-5"), rfc ? 1u : 0u) << v;
      EXPECT_EQ(ids.count("INV-MERMAP-7"), rfc ? 1u : 0u) << v;
    }
    {  // R3: teardown from cpu 0 with a live allocation on cpu 1
      model::Model m = prepared(v);
      m.apply(test::ev(get(1, "0x1000", "a")));
      auto ids = violations_of(m, R"({"op":"mermap_teardown","as":1,"cpu":0})");
      EXPECT_EQ(ids.count("INV-MERMAP-6"), rfc ? 1u : 0u) << v;
    }
    {  // R5: a live reserved last page makes cpu_end - new_next wrap
      model::Model m = prepared(v);
      m.apply(test::ev(get(0, "0xf000", "a")));
      m.apply(test::ev(get(0, "0x1000", "r", true)));
      m.apply(test::ev(R"({"op":"mermap_put","as":1,"cpu":0,"handle":"a"})"));
      auto ids = violations_of(m, get(0, "0x1000", "b"));
      EXPECT_EQ(ids.count("INV-MERMAP-1"), rfc ? 1u : 0u) << v;
    }
  }
}

TEST(Mermap_5_Variants, BrokenVariantsTripTheirInvariant) {
  {
    model::Model m = prepared("mermap:no-reserve-page");
    EXPECT_TRUE(violations_of(m, get(0, "0x10000", "a")).count("INV-MERMAP-1"));
  }
  {
    model::Model m = prepared("mermap:no-flush");
    m.apply(test::ev(get(0, "0xf000", "a")));
    m.apply(test::ev(R"({"op":"mermap_put","as":1,"cpu":0,"handle":"a"})"));
    EXPECT_TRUE(violations_of(m, get(0, "0x1000", "b")).count("INV-MERMAP-3"));
  }
  {
    model::Model m = prepared("mermap:overlap");
    m.apply(test::ev(get(0, "0xc000", "a")));
    m.apply(test::ev(get(0, "0x2000", "b")));
    m.apply(test::ev(R"({"op":"mermap_put","as":1,"cpu":0,"handle":"a"})"));
    EXPECT_TRUE(violations_of(m, get(0, "0xe000", "c")).count("INV-MERMAP-2"));
  }
  EXPECT_THROW(vocab::resolve_profile("mermap:nope"), std::invalid_argument);
}

TEST(Mermap_6_Implementation, FuzzCampaignsFindTheRfcBugsAndNothingOnFixed) {
  // Model and implementation in lock step: the implementation must agree with
  // the model on both variants (no DIFF-*), and the invariants must flag rfc only.
  for (bool model_only : {false, true}) {
    diff::CampaignOptions o;
    o.ops = 30000;
    o.seed = 5;
    o.model_only = model_only;
    o.vmm_layer = !model_only;
    o.table_layer = false;
    o.profile = "mermap";
    diff::CampaignResult fixed = diff::run_campaign(o);
    EXPECT_EQ(fixed.model_only, model_only);
    EXPECT_EQ(fixed.findings, 0u) << (fixed.examples.empty() ? "" : fixed.examples[0].id + ": " + fixed.examples[0].message);
    EXPECT_GT(fixed.op_kinds["mermap_get"], 7000u);
    o.profile = "mermap:rfc";
    o.episode = 300;  // each finding ends its episode: more, shorter episodes reach every bug
    diff::CampaignResult rfc = diff::run_campaign(o);
    for (const char* id : {"INV-MERMAP-1", "INV-MERMAP-4", "INV-MERMAP-5", "INV-MERMAP-6", "INV-MERMAP-7"})
      EXPECT_TRUE(rfc.by_id.count(id)) << id << " not found on rfc";
    for (const auto& [id, n] : rfc.by_id) EXPECT_NE(id.rfind("DIFF-", 0), 0u) << id << ": the implementation disagrees";
    for (const auto& c : rfc.examples) EXPECT_TRUE(c.reproduces) << c.id;
  }
}

// spec/kernels/mermap.md §9: allocator steps on an unprepared mermap, with a reused or
// unknown handle, from the wrong CPU, or enabling migration that was never disabled,
// name the field; a CPU-local PTE needs its CPU.
TEST(Mermap_9_Steps, ImpossibleStepsNameTheField) {
  const std::string h = "{\"vmref_trace\":1,\"profile\":\"mermap\",\"cpus\":2,\"phys_mem\":\"0x1000000\"}\n"
                        "{\"op\":\"as_create\",\"as\":1}\n";
  const std::string prep = "{\"op\":\"mermap_prepare\",\"as\":1}\n";
  const std::string alloc = R"({"op":"mermap_alloc","as":1,"cpu":0,"handle":"a","base":"0xffffeb0000000000","len":"0x1000"})" "\n";
  auto error_for = [&](const std::string& name, const std::string& lines) {
    return test::replay_error("mermap-steps-" + name, h + lines + "\n");
  };
  auto names = [&](const std::string& name, const std::string& lines, const char* field) {
    std::string err = error_for(name, lines);
    EXPECT_TRUE(test::names_field(err, field)) << name << ": " << err;
  };
  names("unprepared.jsonl", alloc, "as");
  names("twice.jsonl", prep + alloc + alloc, "handle");
  names("unknown.jsonl", prep + R"({"op":"mermap_free","as":1,"cpu":0,"handle":"x"})", "handle");
  names("cpu.jsonl", prep + alloc + R"({"op":"mermap_free","as":1,"cpu":1,"handle":"a"})", "cpu");
  names("enable.jsonl", prep + R"({"op":"mermap_migrate","as":1,"disable":false})", "disable");
  names("wrap.jsonl", prep + R"({"op":"mermap_alloc","as":1,"cpu":0,"handle":"a","base":"0xfffffffffffff000","len":"0x2000"})", "len");
  names("local.jsonl", R"({"op":"frame_alloc","frame":"F"})" "\n" R"({"op":"pte_set","as":1,"va":"0x1000","frame":"F","prot":"rw-","local":true})", "cpu");
  EXPECT_EQ(error_for("ok.jsonl", prep + alloc + R"({"op":"mermap_free","as":1,"cpu":0,"handle":"a"})"), "");
}
