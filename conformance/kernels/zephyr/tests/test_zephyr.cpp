// The zephyr kernel (spec/kernels/zephyr.md): on-demand anonymous maps, the RAM backing store
// with its fault slot, NRU eviction and pinning, and fuzz campaigns that catch every
// broken variant with the invariant named for it while `fixed` stays clean. Suites are
// named after the section they check: Zephyr_2_Map (§2 k_mem_map), Zephyr_7_Variants (§7),
// Zephyr_9_Invariants (§9, INV-ZEPHYR-1..8) and Differential_4_1_Zephyr (the
// implementation against the model, spec/differential.md §4.1).
#include <gtest/gtest.h>

#include <set>

#include "helpers.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/diff/differential.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "zephyr_generator.hpp"
#include "zephyr_model.hpp"

using namespace vmref;

namespace {
constexpr vocab::Va kTop = 0x80400000;  // K_MEM_VIRT_RAM_END of the default parameters
constexpr std::uint64_t kPage = 4096;

std::string map(std::uint64_t pages, const char* extra = "") {
  return R"({"op":"k_mem_map","len":")" + trace::hex(pages * kPage) + "\"" + extra + "}";
}
std::string access(vocab::Va va, const char* kind) {
  return R"({"op":"access","cpu":0,"va":")" + trace::hex(va) + R"(","kind":")" + kind + "\"}";
}
const zephyr::ZephyrState& state(const model::Model& m) { return m.layer<zephyr::ZephyrModel>()->state(); }

}  // namespace

TEST(Zephyr_2_Map, OnDemandMapTakesNoFrameUntilTouched) {
  model::Model m("zephyr", 1, 8, kPage);
  vocab::Outcome o = m.apply(test::ev(map(4)));
  ASSERT_EQ(o.err, vocab::Err::ok);
  EXPECT_EQ(o.ret, kTop - 6 * kPage);  // the reserved top page, a guard, then 4 pages
  EXPECT_EQ(m.frames().in_use(), 0u);
  EXPECT_EQ(state(m).paged_out.size(), 4u);
  test::apply_clean(m, access(o.ret + kPage, "read"));
  EXPECT_EQ(m.frames().in_use(), 1u);
  EXPECT_EQ(state(m).stats.faults, 1u);
  EXPECT_EQ(m.apply(test::ev(access(o.ret - kPage, "read"))).access, vocab::AccessResult::segv_maperr)
      << "the guard page below must fault";
}

TEST(Zephyr_2_Map, EagerConfigurationFailsAtFramesPlusAllButOneSlot) {
  // 8 frames, 16 slots: an eager map of 8 + 15 pages fits, 8 + 16 does not and rolls back.
  model::Model m("zephyr:eager", 1, 8, kPage);
  EXPECT_EQ(m.apply(test::ev(map(24))).err, vocab::Err::enomem);
  EXPECT_EQ(m.frames().in_use(), 0u);
  std::vector<model::Violation> v;
  model::check_invariants(m, true, v);
  EXPECT_TRUE(v.empty()) << v.front().id << ": " << v.front().message;
  EXPECT_EQ(m.apply(test::ev(map(23))).err, vocab::Err::ok);
}

TEST(Zephyr_9_Invariants, SeedKeepsWhatAFailedEagerMapTook) {
  model::Model m("zephyr:seed", 1, 4, kPage);
  m.apply(test::ev(map(5, R"(,"lock":true)")));
  std::vector<model::Violation> v;
  model::check_invariants(m, false, v);
  std::set<std::string> ids;
  for (auto& x : v) ids.insert(x.id);
  EXPECT_TRUE(ids.count("INV-ZEPHYR-6"));
}

TEST(Zephyr_7_Variants, FuzzCampaignIsCleanOnFixedAndEager) {
  for (const char* p : {"zephyr", "zephyr:eager"}) {
    diff::CampaignResult r = test::model_campaign(p, 10000, false);
    EXPECT_TRUE(r.model_only);
    EXPECT_EQ(r.findings, 0u) << p << ": " << (r.examples.empty() ? "" : r.examples[0].id + ": " + r.examples[0].message);
    EXPECT_GT(r.op_kinds["access"], 4000u);
    EXPECT_GT(r.op_kinds["k_mem_page_out"], 250u);
  }
}

TEST(Differential_4_1_Zephyr, ImplementationWritesKernelPtesAndRoundTripsContentsThroughTheStore) {
  // 4 frames: a supervisor-only region and a K_MEM_PERM_USER one, a write, a page-out, a
  // write to another page, then the first page back from its slot holding its write.
  diff::DiffConfig c;
  c.profile = "zephyr";
  c.cpus = 1;
  c.frames = 4;
  diff::Differential d(c);
  auto step = [&](const std::string& line) {
    auto f = d.step(test::ev(line));
    EXPECT_TRUE(f.empty()) << line << ": " << (f.empty() ? "" : f[0].id + " " + f[0].message);
    return d.last_outcome();
  };
  vocab::Va k = step(map(2)).ret, u = step(map(1, R"(,"user":true)")).ret;
  step(access(k, "write"));
  step(access(u, "read"));
  const impl::VmmCore& v = d.vmm().core();
  auto fmt = impl::all_formats().front()->decoder({});  // the default format's architectural decoder
  auto leaf = [&](vocab::Va va) {
    return impl::walk_one(v.memory(), *fmt, v.space(zephyr::kKernelAs)->table.root(), va);
  };
  ASSERT_TRUE(leaf(k) && leaf(u));
  EXPECT_FALSE(leaf(k)->rights.u) << "a kernel region is U/S = 0";
  EXPECT_TRUE(leaf(u)->rights.u) << "K_MEM_PERM_USER is U/S = 1";
  std::uint64_t written = v.version(leaf(k)->pa >> 12);
  EXPECT_EQ(written, 1u);
  step(R"({"op":"k_mem_page_out","addr":")" + trace::hex(k) + R"(","len":"0x1000"})");
  EXPECT_FALSE(leaf(k)) << "paged out: no PTE";
  step(access(k + kPage, "write"));
  EXPECT_EQ(step(access(k, "read")).access, vocab::AccessResult::ok);
  ASSERT_TRUE(leaf(k));
  EXPECT_EQ(v.version(leaf(k)->pa >> 12), written) << "the write came back from the slot";
  EXPECT_EQ(step(R"({"op":"k_mem_stat","stat":"faults"})").ret, 4u);
}

TEST(Differential_4_1_Zephyr, DifferentialCampaignIsCleanOnFixedAndEager) {
  for (const char* p : {"zephyr", "zephyr:eager"}) {
    diff::CampaignOptions o;
    o.ops = 10000;
    o.seed = 7;
    o.profile = p;
    o.table_layer = false;
    diff::CampaignResult r = diff::run_campaign(o);
    EXPECT_FALSE(r.model_only) << "the implementation runs in lock step";
    EXPECT_EQ(r.findings, 0u) << p << ": " << (r.examples.empty() ? "" : r.examples[0].id + ": " + r.examples[0].message);
    EXPECT_TRUE(r.first_error.empty()) << r.first_error;
    EXPECT_GT(r.op_kinds["k_mem_page_out"], 250u);
  }
}

TEST(Zephyr_7_Variants, FuzzCampaignCatchesEveryBrokenVariant) {
  // Each campaign stops at its first finding, which must carry the variant's ID (seed
  // has two faults: whichever shows first). The counterexample must replay.
  const std::vector<std::pair<const char*, std::set<std::string>>> cases{
      {"upstream", {"INV-ZEPHYR-7"}},       {"seed", {"INV-ZEPHYR-6", "INV-ZEPHYR-7"}},
      {"no-guard", {"INV-ZEPHYR-8"}},       {"evict-pinned", {"INV-ZEPHYR-4"}},
      {"dirty-bit-only", {"INV-ZEPHYR-5"}}, {"no-fault-slot", {"INV-ZEPHYR-7"}},
      {"no-evict-flush", {"INV-TLB-1", "INV-TLB-2"}}, {"unmap-keeps-guards", {"INV-ZEPHYR-8"}},
      {"map-allocates", {"INV-ZEPHYR-2"}},  {"unmap-leaks-frame", {"INV-ZEPHYR-1", "INV-FRAME-1"}}};
  for (const auto& [variant, ids] : cases) {
    diff::CampaignResult r = test::model_campaign(std::string("zephyr:") + variant, 200000, true);
    ASSERT_FALSE(r.examples.empty()) << variant << " not caught";
    EXPECT_TRUE(ids.count(r.examples[0].id)) << variant << " caught by " << r.examples[0].id;
    EXPECT_TRUE(r.examples[0].reproduces) << variant;
  }
}

TEST(Zephyr_9_Invariants, IncrementalChecksSeeEveryViolationWhenItFirstAppears) {
  // INV-ZEPHYR-3/5/8 read only what an event touched: each ID the whole-state check
  // reports for the first time must be reported by the incremental check at that event.
  for (const char* variant : {"zephyr", "zephyr:no-guard", "zephyr:dirty-bit-only", "zephyr:evict-pinned",
                              "zephyr:unmap-keeps-guards", "zephyr:unmap-leaks-frame", "zephyr:seed"}) {
    zephyr::ZephyrGenerator gen(3, variant);
    model::Model m(variant, 1, zephyr::kCampaignFrames, kPage);
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {
      vocab::Event e = gen.next();
      gen.feedback(e, m.apply(e));
      std::vector<model::Violation> inc, full;
      model::check_invariants(m, false, inc);
      model::check_invariants(m, true, full);
      std::set<std::string> inc_ids;
      for (const auto& v : inc) inc_ids.insert(v.id);
      for (const auto& v : full) {
        if (!seen.insert(v.id).second) continue;
        EXPECT_TRUE(inc_ids.count(v.id)) << variant << " event " << i << ": " << v.id << ": " << v.message;
      }
    }
  }
}

// spec/kernels/zephyr.md §10: Zephyr steps naming a frame, slot or page that does not
// exist name the field.
TEST(TraceFormat_3_1_ZephyrSteps, ImpossibleStepsNameTheField) {
  const std::string h = "{\"vmref_trace\":1,\"profile\":\"zephyr\",\"cpus\":1,\"phys_mem\":\"0x20000\"}\n"
                        "{\"op\":\"k_mem_map\",\"len\":\"0x1000\"}\n{\"op\":\"frame_alloc\",\"frame\":\"F\"}\n";
  auto error_for = [&](const std::string& name, const std::string& lines) {
    return test::replay_error("zephyr-steps-" + name, h + lines + "\n");
  };
  auto names = [&](const std::string& name, const std::string& line, const char* field) {
    std::string err = error_for(name, line);
    EXPECT_TRUE(test::names_field(err, field)) << name << ": " << err;
  };
  names("zf.jsonl", R"({"op":"zephyr_frame","frame":"nope","mapped":true,"va":"0x803fd000"})", "frame");
  names("zv.jsonl", R"({"op":"zephyr_frame","frame":"F","mapped":true})", "va");
  names("zs.jsonl", R"({"op":"zephyr_slot","slot":16})", "slot");
  names("zo.jsonl", R"({"op":"zephyr_page_out","frame":"F","slot":99})", "slot");
  names("zi.jsonl", R"({"op":"zephyr_page_in","frame":"F","va":"0x1000"})", "va");
  names("zl.jsonl", R"({"op":"zephyr_location","va":"0x803fd000"})", "slot");
  names("zt.jsonl", R"({"op":"zephyr_location","va":"0x803fd000","token":"zero"})", "token");
  EXPECT_EQ(error_for("ok.jsonl", R"({"op":"zephyr_page_in","frame":"F","va":"0x803fd000"})"), "");
}

// §11: the arithmetic lemmas over all 2^64 inputs, on the model's own templates.
TEST(Zephyr_11_Lemmas, EveryLemmaIsProved) {
  auto res = vmref::test::run_obligations("zephyr", "zephyr", vmref::test::prove_request("zephyr-lemmas"),
                                          [](const vmref::prove::Obligation& o) { return o.kind == vmref::prove::Kind::lemma; });
  ASSERT_EQ(res.size(), 2u);
  for (auto& [ob, r] : res) EXPECT_EQ(r.status, vmref::prove::Status::proved) << ob.name() << ": " << r.detail;
}
