// The nova kernel (spec/kernels/nova.md), one suite per section, named after it: the
// geometry and the seed's bound (§2), prepare (§4), execute (§5), unmap (§7), access and
// big-page state (§8), the variants (§9, §10), the defects of the seed (§12), and
// model-only campaigns (§13).
#include <gtest/gtest.h>

#include <set>

#include "helpers.hpp"
#include "nova_model.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/trace/hex.hpp"

using namespace vmref;

namespace {
model::Model fresh(const std::string& profile) {
  model::Model m(profile, 1, 256, 4096);
  test::apply_clean(m, R"({"op":"as_create","as":1})");
  test::apply_clean(m, R"({"op":"nova_new","as":1})");
  return m;
}
const nova::NovaModel& layer(const model::Model& m) { return *m.layer<nova::NovaModel>(); }
const nova::Vmm& vmm(const model::Model& m) { return layer(m).vmms().at(1); }
std::set<std::string> ids_after(model::Model& m, const std::string& line) {
  auto v = test::violations_after(m, line);
  return {v.begin(), v.end()};
}
std::set<std::string> replay_ids(const std::string& path, const std::string& profile = "") {
  conformance::ReplayOptions o;
  o.profile = profile;
  auto r = conformance::replay_file(test::source_dir() + "/" + path, o);
  EXPECT_TRUE(r.error.empty()) << path << ": " << r.error;
  std::set<std::string> ids;
  for (const auto& [id, n] : r.by_id) ids.insert(id);
  return ids;
}
using Ids = std::set<std::string>;
}  // namespace

TEST(Nova_2_Geometry, LevelsIndicesAndUpperBound) {
  nova::Geometry v2{2}, v3{3};
  EXPECT_EQ(v2.vfn_bits() + 12, 49u);
  EXPECT_EQ(v3.vfn_bits() + 12, 57u);
  // v2: PDB 48:47, PD2 46:38, PD1 37:29, PD0 28:21 (dual, 256 entries), PT 20:12.
  EXPECT_EQ(v2.shift(0), 35u);
  EXPECT_EQ(v2.shift(1), 26u);
  EXPECT_EQ(v2.shift(3), 9u);
  EXPECT_EQ(v2.entries(0), 4u);
  EXPECT_EQ(v2.entries(3), 256u);
  EXPECT_EQ(v3.shift(0), 44u);
  EXPECT_EQ(v3.entries(0), 2u);
  EXPECT_EQ(v3.entries(4), 256u);
  EXPECT_EQ(v2.entry_size(3), 16u);
  // pt_pages_upper_bound: leaf tables, then each PDE level bottom-up, root included (N-C1).
  EXPECT_EQ(v2.upper_bound(1), 5u);
  EXPECT_EQ(v2.upper_bound(512), 5u);
  EXPECT_EQ(v2.upper_bound(513), 6u);
  EXPECT_EQ(v2.upper_bound(512 * 257), 257u + 2 + 1 + 1 + 1);
  EXPECT_EQ(v3.upper_bound(1), 6u);
}

TEST(Nova_4_Prepare, StagesEachMissingTableOnceAndSharesThePendingSet) {
  model::Model m = fresh("nova:fixed");
  EXPECT_EQ(test::apply_clean(m, R"({"op":"nova_prepare","as":1,"pages":"0x1","handle":"a"})").ret, 0u);
  EXPECT_EQ(vmm(m).pending.size(), 4u) << "L1, L2, the dual level's table and the leaf table";
  // A second prepare through the same slots walks through the pending pages.
  test::apply_clean(m, R"({"op":"nova_prepare","as":1,"pages":"0x200","handle":"b"})");
  EXPECT_EQ(vmm(m).pending.size(), 5u) << "one more leaf table for VFNs 512..";
  EXPECT_GE(vmm(m).cap, 5u) << "fixed reserves room for every pending page";
  // Bad input names its field.
  EXPECT_NE(test::replay_error("nova-dup-handle.jsonl",
                               "{\"vmref_trace\":1,\"profile\":\"nova\",\"cpus\":1}\n{\"op\":\"as_create\",\"as\":1}\n"
                               "{\"op\":\"nova_new\",\"as\":1}\n"
                               "{\"op\":\"nova_prepare\",\"as\":1,\"pages\":\"0x1\",\"handle\":\"a\"}\n"
                               "{\"op\":\"nova_prepare\",\"as\":1,\"pages\":\"0x1\",\"handle\":\"a\"}\n")
                .find("field 'handle'"),
            std::string::npos);
  EXPECT_TRUE(test::names_field(test::replay_error("nova-no-vmm.jsonl",
                                                   "{\"vmref_trace\":1,\"profile\":\"nova\",\"cpus\":1}\n"
                                                   "{\"op\":\"as_create\",\"as\":1}\n"
                                                   "{\"op\":\"nova_prepare\",\"as\":1,\"pages\":\"0x1\",\"handle\":\"a\"}\n"),
                                "as"));
  EXPECT_TRUE(test::names_field(test::replay_error("nova-half-range.jsonl",
                                                   "{\"vmref_trace\":1,\"profile\":\"nova\",\"cpus\":1}\n"
                                                   "{\"op\":\"as_create\",\"as\":1}\n{\"op\":\"nova_new\",\"as\":1}\n"
                                                   "{\"op\":\"nova_prepare\",\"as\":1,\"pages\":\"0x1\",\"handle\":\"a\","
                                                   "\"range_start\":\"0x0\"}\n"),
                                "range_end"));
  EXPECT_TRUE(test::names_field(test::replay_error("nova-bad-mmu.jsonl",
                                                   "{\"vmref_trace\":1,\"profile\":\"nova\",\"cpus\":1,"
                                                   "\"params\":{\"mmu\":4}}\n{\"op\":\"as_create\",\"as\":1}\n"),
                                "params.mmu"));
}

TEST(Nova_4_Prepare, FailedPrepareLeavesItsPagesPendingOnPostedOnly) {
  for (const char* profile : {"nova", "nova:fixed"}) {
    model::Model m = fresh(profile);
    auto o = test::apply_clean(m, R"({"op":"nova_prepare","as":1,"pages":"0x1","handle":"a","fail_pt":"0x2"})");
    EXPECT_EQ(o.err, vocab::Err::enomem);
    EXPECT_TRUE(vmm(m).va.empty()) << "the VA allocation is dropped";
    EXPECT_EQ(vmm(m).pending.size(), std::string(profile) == "nova" ? 2u : 0u) << profile;
  }
}

TEST(Nova_5_Execute, InstallsPdesThenPtesWithOneFlushAndNoAllocation) {
  model::Model m = fresh("nova:fixed");
  test::apply_clean(m, R"({"op":"nova_prepare","as":1,"pages":"0x3","handle":"a","range_start":"0x1fe000","range_end":"0x201000"})");
  const std::uint64_t next = layer(m).vram().size();
  test::apply_clean(m, R"({"op":"nova_execute","as":1,"handle":"a","pfn":"0x40"})");
  EXPECT_EQ(layer(m).vram().size(), next) << "execute allocates no table page";
  EXPECT_TRUE(vmm(m).pending.empty());
  EXPECT_EQ(vmm(m).allocs.size(), 5u) << "two leaf tables across the 2 MiB boundary";
  ASSERT_EQ(layer(m).notes().size(), 1u);
  EXPECT_EQ(layer(m).notes()[0].flushes, 1u);
  EXPECT_EQ(test::apply_clean(m, R"({"op":"nova_access","as":1,"va":"0x200008"})").ret, 0x42008u);
}

TEST(Nova_5_Execute, EveryInjectedStepFailureIsCleanOnFixed) {
  for (const char* step : {R"("fail_at":"window")", R"("fail_at":"pde","fail_index":"0x0")",
                           R"("fail_at":"pde","fail_index":"0x3")", R"("fail_at":"pte","fail_index":"0x0")",
                           R"("fail_at":"pte","fail_index":"0x1")", R"("fail_at":"flush")"}) {
    model::Model m = fresh("nova:fixed");
    test::apply_clean(m, R"({"op":"nova_prepare","as":1,"pages":"0x2","handle":"a"})");
    auto o = test::apply_clean(m, std::string(R"({"op":"nova_execute","as":1,"handle":"a","pfn":"0x40",)") + step + "}");
    EXPECT_EQ(o.err, vocab::Err::efault) << step;
    // The VMM stays usable: a new map succeeds and is clean.
    EXPECT_EQ(test::apply_clean(m, R"({"op":"nova_map","as":1,"pages":"0x2","handle":"b","pfn":"0x80"})").err,
              vocab::Err::ok)
        << step;
    test::apply_clean(m, R"({"op":"nova_unmap","as":1,"handle":"b"})");
    test::apply_clean(m, R"({"op":"nova_drop","as":1})");
  }
}

TEST(Nova_7_Unmap, TablesStayAndRemapAllocatesNothing) {
  model::Model m = fresh("nova:fixed");
  test::apply_clean(m, R"({"op":"nova_map","as":1,"pages":"0x2","handle":"a","pfn":"0x40"})");
  const std::size_t pages = layer(m).vram().size();
  test::apply_clean(m, R"({"op":"nova_unmap","as":1,"handle":"a"})");
  EXPECT_EQ(vmm(m).allocs.size(), 4u) << "table pages are kept until the drop";
  EXPECT_TRUE(vmm(m).may_hold.empty()) << "ACK GLOBALLY removed the translations";
  test::apply_clean(m, R"({"op":"nova_map","as":1,"pages":"0x2","handle":"b","pfn":"0x80"})");
  EXPECT_EQ(layer(m).vram().size(), pages) << "the second map reuses every table";
  EXPECT_EQ(test::apply_clean(m, R"({"op":"nova_access","as":1,"va":"0x1000"})").ret, 0x81000u);
}

TEST(Nova_8_BigPages, SmallPtesUnderAHidingBigPteAreCaught) {
  model::Model m = fresh("nova:fixed");
  test::apply_clean(m, R"({"op":"nova_map","as":1,"pages":"0x1","handle":"a","pfn":"0x40"})");
  EXPECT_EQ(ids_after(m, R"({"op":"nova_set_big","as":1,"va":"0x0","state":"I"})"), Ids{"INV-NOVA-8"});
  EXPECT_EQ(test::apply_clean(m, R"({"op":"nova_set_big","as":1,"va":"0x0","state":"U"})").err, vocab::Err::ok);
  test::apply_clean(m, R"({"op":"nova_set_big","as":1,"va":"0x10000","state":"S"})");
  EXPECT_EQ(test::apply_clean(m, R"({"op":"nova_access","as":1,"va":"0x10000"})").err, vocab::Err::efault);
  // fixed refuses to map under the sparse chunk; posted would map a hidden PTE.
  EXPECT_EQ(test::apply_clean(m, R"({"op":"nova_map","as":1,"pages":"0x1","handle":"b","pfn":"0x50","range_start":"0x10000","range_end":"0x11000"})").err,
            vocab::Err::eexist);
}

TEST(Nova_10_Invariants, BrokenVariantsAreCaughtByTheirOwnIdOnly) {
  EXPECT_EQ(replay_ids("traces/violations/nova/INV-NOVA-1.jsonl"), Ids{"INV-NOVA-1"});
  EXPECT_EQ(replay_ids("traces/violations/nova/INV-NOVA-6.jsonl"), Ids{"INV-NOVA-6"});
  EXPECT_EQ(replay_ids("traces/violations/nova/INV-NOVA-7.jsonl"), Ids{"INV-NOVA-7"});
  for (const char* id : {"1", "6", "7"})
    EXPECT_EQ(replay_ids(std::string("traces/violations/nova/INV-NOVA-") + id + ".jsonl", "nova:fixed"), Ids{}) << id;
}

TEST(Nova_12_Defects, FlaggedOnPostedCleanOnFixed) {
  const std::pair<const char*, Ids> cases[] = {
      {"defect-P2-two-prepares-one-execute", {"INV-NOVA-2", "INV-NOVA-4"}},
      {"defect-P4-execute-fails-mid-pte", {"INV-NOVA-3", "INV-NOVA-5"}},
      {"defect-P5-unmap-flush-fails", {"INV-NOVA-5", "INV-NOVA-10"}},
      {"defect-P6-unmap-ack-none", {"INV-NOVA-5"}},
      {"defect-P7-new-small-clears-big", {"INV-NOVA-8"}},
      {"defect-P8-map-larger-range", {"INV-NOVA-9"}},
      {"defect-P9-unmap-walk-fails", {"INV-NOVA-3", "INV-NOVA-5", "INV-NOVA-10"}},
      {"found-bound-straddle", {"INV-NOVA-2", "INV-NOVA-4"}},
  };
  for (const auto& [name, ids] : cases) {
    const std::string path = std::string("traces/scenarios/nova/") + name + ".jsonl";
    EXPECT_EQ(replay_ids(path), ids) << name << " on nova (posted)";
    EXPECT_EQ(replay_ids(path, "nova:fixed"), Ids{}) << name << " on nova:fixed";
  }
}

TEST(Nova_12_Defects, TheSeedsFlowsAreFlaggedOnlyForTheirAckNoneUnmaps) {
  for (const char* name : {"map-unmap-1-511-512-513", "execute-after-failed-prepare", "unmap-then-remap"}) {
    const std::string path = std::string("traces/scenarios/nova/") + name + ".jsonl";
    EXPECT_EQ(replay_ids(path), Ids{}) << name << " on its own profile (fixed)";
    EXPECT_EQ(replay_ids(path, "nova"), Ids{"INV-NOVA-5"}) << name << " on posted";
  }
  EXPECT_EQ(replay_ids("traces/scenarios/nova/posted-map-flows.jsonl", "nova:fixed"), Ids{});
  // Three prepares pending at once: on posted the third (another L2 entry) brings the
  // pending pages to 6 with room for 5, so the first execute hits P2 and fails (ENOMEM):
  // the flow's later unmap of that range is then impossible.
  for (const char* name : {"two-pending-prepares", "v3-two-pending-prepares"}) {
    conformance::ReplayOptions o;
    o.profile = "nova";
    auto r = conformance::replay_file(test::source_dir() + "/traces/scenarios/nova/" + name + ".jsonl", o);
    EXPECT_NE(r.error.find("no mapped range 'b'"), std::string::npos) << name << ": " << r.error;
    EXPECT_TRUE(r.by_id.count("INV-NOVA-2") && r.by_id.count("INV-NOVA-4")) << name;
  }
  EXPECT_EQ(replay_ids("traces/scenarios/nova/map-unmap-1-511-512-513.jsonl", "nova"), Ids{"INV-NOVA-5"});
}

TEST(Nova_13_Campaigns, ModelCampaignsAreCleanOnFixedAndFindThePostedDefects) {
  diff::CampaignResult fixed = test::model_campaign("nova:fixed", 6000, false);
  EXPECT_EQ(fixed.findings, 0u) << (fixed.examples.empty() ? "" : fixed.examples[0].id + ": " + fixed.examples[0].message);
  EXPECT_GT(fixed.op_kinds["nova_execute"] + fixed.op_kinds["nova_map"], 1500u);
  // Each finding ends its episode, and nearly every posted episode ends at its first
  // unmap (INV-NOVA-5): many short episodes reach the other defects.
  diff::CampaignOptions o;
  o.ops = 20000;
  o.episode = 40;
  o.seed = 7;
  o.profile = "nova";
  o.model_only = true;
  o.table_layer = false;
  diff::CampaignResult posted = diff::run_campaign(o);
  for (const auto& c : posted.examples) EXPECT_TRUE(c.reproduces) << c.id;
  for (const char* id : {"INV-NOVA-3", "INV-NOVA-5", "INV-NOVA-9", "INV-NOVA-10"})
    EXPECT_TRUE(posted.by_id.count(id)) << id << " not found on posted";
  for (const auto& [variant, id] : {std::pair<const char*, const char*>{"nova:lazy-pt", "INV-NOVA-1"},
                                    {"nova:keep-pending", "INV-NOVA-6"},
                                    {"nova:no-flush", "INV-NOVA-7"}})
    EXPECT_TRUE(test::model_campaign(variant, 3000, true).by_id.count(id)) << variant;
}

// Mechanism-level events (spec/kernels/nova.md §15): what the model cannot apply is bad
// input naming the field, never a crash or a silently skipped step.
TEST(Nova_15_Mechanism, StepsTheModelCannotApplyAreRefusedNamingTheField) {
  const std::string head = R"({"vmref_trace":1,"profile":"nova:fixed"}
{"op":"as_create","as":1}
{"op":"nova_new","as":1,"pdb":"0x20000"}
)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"op":"nova_pde_write","as":1,"addr":"0x30000000","value":"0x0"})", "addr"},       // no table page there
      {R"({"op":"nova_pde_write","as":1,"addr":"0x20000004","value":"0x0"})", "addr"},       // not 8-byte aligned
      {R"({"op":"nova_pde_write","as":1,"addr":"0x20000020","value":"0x0"})", "addr"},       // PD3 has 4 entries
      {R"({"op":"nova_pte_write","as":1,"addr":"0x20000000","value":"0x1"})", "addr"},       // a directory
      {R"({"op":"nova_pde_write","as":1,"addr":"0x20000000","value":"0x2000106"})", "value"}, // sysmem aperture
      {R"({"op":"nova_pde_write","as":1,"addr":"0x20000000","value":"0x2000103"})", "value"}, // IS_PTE
      {R"({"op":"nova_pt_alloc","as":1,"pfn":"0x20000","level":1})", "pfn"},                 // the live PDB
      {R"({"op":"nova_pt_alloc","as":1,"pfn":"0x1000000","level":1})", "pfn"},               // beyond 64 GiB
      {R"({"op":"nova_pt_alloc","as":1,"pfn":"0x21000","level":9})", "level"},
      {R"({"op":"nova_pt_alloc","as":1,"pfn":"0x21000","level":1,"big":true})", "big"},
      {R"({"op":"nova_pt_free","as":1,"pfn":"0x20000"})", "pfn"},                            // the PDB
      {R"({"op":"nova_pt_zero","as":1,"pfn":"0x21000"})", "pfn"},                            // never allocated
      {R"({"op":"nova_flush_done","as":1})", "as"},                                          // nothing in flight
      {R"({"op":"nova_va_free","as":1,"va":"0x1000"})", "va"},
      {R"({"op":"nova_va_alloc","as":1,"va":"0x1000","size":"0x0"})", "size"},
      {R"({"op":"nova_call","as":1,"call":"remap"})", "call"},
      // Refused by the model, past the decoder:
      {R"({"op":"nova_pt_alloc","as":1,"pfn":"0x21000","level":5})", "level"},              // v2 has levels 0..4
      {R"({"op":"nova_pde_write","as":1,"addr":"0x20000000","value":"0x1000000002000102"})", "value"},  // PDE bit 60 reserved
  };
  for (const auto& [line, field] : cases) {
    const std::string err = test::replay_error("nova-mechanism-bad", head + line + "\n");
    EXPECT_TRUE(test::names_field(err, field)) << line << " -> " << err;
  }
  // A PTE with PRIVILEGE, in a leaf table reached from the PDB (MMU v2: bit 5).
  std::string path = head;
  for (unsigned l = 1; l <= 4; ++l)
    path += R"({"op":"nova_pt_alloc","as":1,"pfn":")" + trace::hex(0x20000 + l) + R"(","level":)" + std::to_string(l) +
            "}\n";
  EXPECT_TRUE(test::names_field(
      test::replay_error("nova-mechanism-priv", path + R"({"op":"nova_pte_write","as":1,"addr":"0x20004000","value":"0x3000021"})" "\n"),
      "value"));
  // A peer ID (bits 35:33) in a VIDEO PTE (V2-C8).
  EXPECT_TRUE(test::names_field(
      test::replay_error("nova-mechanism-peer", path + R"({"op":"nova_pte_write","as":1,"addr":"0x20004000","value":"0x203000001"})" "\n"),
      "value"));
  // The small half of a dual PDE (offset 8 of PD0's 16-byte entry) with bit 4 (68) set,
  // and with bit 0 (64), which is unused there rather than IS_PTE.
  for (const char* v : {"0x2000412", "0x2000403"})
    EXPECT_TRUE(test::names_field(
        test::replay_error("nova-mechanism-small", path + R"({"op":"nova_pde_write","as":1,"addr":"0x20003008","value":")" + v + "\"}\n"),
        "value"))
        << v;
  EXPECT_EQ(test::replay_error("nova-mechanism-ok", path + R"({"op":"nova_pte_write","as":1,"addr":"0x20004000","value":"0x3000041"})" "\n"), "");
}
