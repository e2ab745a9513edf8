// The nova implementation in lock step with the model (spec/differential.md §4.3,
// spec/kernels/nova.md §13): campaigns on both MMU versions, the seed's flows and
// defects replayed through it, format mutants reaching the GPU tables, and the MMU
// version the other NVIDIA format refuses.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "helpers.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/diff/differential.hpp"
#include "vmref/impl/format.hpp"

using namespace vmref;

namespace {
/// The NVIDIA format of GMMU version `v` (found in the registry, not named here).
std::string gpu(unsigned v) {
  const impl::FormatInfo* f = impl::find_gpu_format(v);
  return f ? f->name : "";
}

diff::CampaignResult campaign(const std::string& profile, const std::string& impl, unsigned mmu, std::uint64_t ops,
                              std::uint64_t episode = 2000) {
  diff::CampaignOptions o;
  o.profile = profile;
  o.impl = impl;
  o.params = {{"mmu", mmu}};
  o.ops = ops;
  o.episode = episode;
  o.seed = 11;
  o.table_layer = false;
  return diff::run_campaign(o);
}

std::string first(const diff::CampaignResult& r) {
  return r.examples.empty() ? "" : r.examples[0].id + ": " + r.examples[0].message;
}

conformance::ReplayResult replay(const std::string& path, const std::string& impl, const std::string& mutant = "",
                                 unsigned mmu = 0) {
  conformance::ReplayOptions o;
  o.impl = impl;
  o.mutant = mutant;
  if (mmu) o.params = {{"mmu", mmu}};  // over the header's, as --param mmu=N
  return conformance::replay_file(test::source_dir() + "/" + path, o);
}

bool any_diff(const conformance::ReplayResult& r) {
  for (const auto& [id, n] : r.by_id)
    if (id.rfind("DIFF-", 0) == 0) return true;
  return false;
}
}  // namespace

TEST(Differential_4_3_Nova, FixedCampaignsAreCleanOnBothMmuVersions) {
  for (unsigned mmu : {2u, 3u}) {
    const std::string impl = gpu(mmu);
    ASSERT_FALSE(impl.empty()) << "no NVIDIA format of version " << mmu;
    diff::CampaignResult r = campaign("nova:fixed", impl, mmu, 4000);
    EXPECT_EQ(r.findings, 0u) << impl << ": " << first(r);
    EXPECT_TRUE(r.first_error.empty()) << r.first_error;
    EXPECT_GT(r.op_kinds["nova_map"] + r.op_kinds["nova_execute"], 500u) << impl;
    EXPECT_GT(r.op_kinds["nova_access"], 100u) << impl;
  }
}

// The implementation follows the seed's defects as the model does: on `posted` only the
// model's INV-NOVA-* findings, never a DIFF-*.
TEST(Differential_4_3_Nova, PostedCampaignsDisagreeOnNothing) {
  for (unsigned mmu : {2u, 3u}) {
    const std::string impl = gpu(mmu);
    diff::CampaignResult r = campaign("nova", impl, mmu, 6000, 40);
    EXPECT_GT(r.findings, 0u) << impl;
    for (const auto& [id, n] : r.by_id) EXPECT_EQ(id.rfind("INV-NOVA-", 0), 0u) << impl << ": " << id;
  }
}

TEST(Differential_4_3_Nova, ScenariosReplayInLockStepWithTheirDeclaredFindingsOnly) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::source_dir() + "/traces/scenarios/nova")) {
    const std::string name = "traces/scenarios/nova/" + entry.path().filename().string();
    const bool v3 = name.find("/v3-") != std::string::npos;
    conformance::ReplayResult r = replay(name, gpu(v3 ? 3 : 2));
    EXPECT_TRUE(r.error.empty() || r.error.find("no mapped range") != std::string::npos) << name << ": " << r.error;
    EXPECT_FALSE(any_diff(r)) << name;
    EXPECT_GE(r.events, 3u) << name;
    ++n;
  }
  EXPECT_GE(n, 13u);
}

// The format's codec writes nova's tables, so its mutants break what nova writes.
TEST(Differential_4_3_Nova, FormatMutantsReachTheGpuTables) {
  const std::string flows = "traces/scenarios/nova/map-unmap-1-511-512-513.jsonl";
  // Every codec mutant of each GPU format that the seed's flows reach (those naming a
  // profile need big PTE states, 2 MiB leaves or targeted flushes; ACK NONE counted as
  // complete needs a flush that drops something) breaks what the kernel writes: on v3
  // tables with --param mmu=3 too.
  std::size_t codec_mutants = 0;
  for (unsigned mmu : {2u, 3u}) {
    EXPECT_FALSE(any_diff(replay(flows, gpu(mmu), "", mmu))) << gpu(mmu);
    for (const impl::MutantInfo* m : impl::all_mutants()) {
      const std::string name = m->name;
      if (m->owner != gpu(mmu) || *m->profile || name.find("ack-none") != std::string::npos) continue;
      EXPECT_TRUE(replay(flows, gpu(mmu), name, mmu).by_id.count("DIFF-PTE")) << name;
      ++codec_mutants;
    }
  }
  EXPECT_GE(codec_mutants, 6u);
}

TEST(Differential_4_3_Nova, TheOtherNvidiaVersionIsRefusedNamingParamsMmu) {
  diff::DiffConfig c;
  c.profile = "nova:fixed";
  c.impl = gpu(3);
  try {
    diff::Differential d(c);
    ADD_FAILURE() << c.impl << " accepted params.mmu = 2";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("params.mmu"), std::string::npos) << e.what();
  }
  c.params = {{"mmu", 3}};
  EXPECT_NO_THROW(diff::Differential{c});
  for (const impl::FormatInfo* f : impl::all_formats())
    if (!f->gmmu) {  // a CPU format: the GPU tables get a codec of their own
      c.impl = f->name;
      EXPECT_NO_THROW(diff::Differential{c}) << f->name;
    }
}

// nova_flush (spec/kernels/nova.md §8.1): its fields are checked when decoded, and its
// range against the version's VA by both sides.
TEST(Differential_4_3_Nova, DriverFlushRefusesBadFieldsNamingThem) {
  auto field_of = [](const std::string& line) {
    try {
      test::ev(line);
    } catch (const trace::TraceError& e) {
      return e.field;
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"va":"0x1000"})"), "size");
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"size":"0x1000"})"), "va");
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"va":"0x0","size":"0x0"})"), "size");
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"va":"0xffffffffffffffff","size":"0x2"})"), "size");
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"ack":"eventually"})"), "ack");
  EXPECT_EQ(field_of(R"({"op":"nova_flush","as":1,"ack":"intranode","va":"0x0","size":"0x1"})"), "(accepted)");
  const std::string beyond = R"({"vmref_trace":1,"profile":"nova:fixed"}
{"op":"as_create","as":1}
{"op":"nova_new","as":1}
{"op":"nova_flush","as":1,"va":"0x1fffffffff000","size":"0x2000"})";
  EXPECT_TRUE(test::names_field(test::replay_error("flush-beyond", beyond), "va")) << test::replay_error("flush-beyond", beyond);
}
