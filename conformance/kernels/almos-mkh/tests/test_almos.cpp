// The almos-mkh kernel (spec/kernels/almos-mkh.md), suites named after the section they
// cover: §5 true and false faults on replicated GPTs and pending-fork COW (Almos_5_Faults),
// §8 fuzz campaigns that catch every broken variant with its invariant while `fixed`
// stays clean (Almos_8_Variants), and the implementation against the model
// (spec/differential.md §4.2: Differential_4_2_Almos).
#include <gtest/gtest.h>

#include <set>

#include "helpers.hpp"
#include "vmref/diff/campaign.hpp"
#include "vmref/diff/differential.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "almos_model.hpp"
#include "almos_vmm.hpp"

using namespace vmref;

namespace {
constexpr vocab::Va kMmap = 0x40000000;
const almos::State& state(const model::Model& m) { return m.layer<almos::AlmosModel>()->state(); }

}  // namespace

TEST(Almos_5_Faults, FalseFaultCopiesTheReferencePteWithoutAllocating) {
  model::Model m("almos-mkh", 2, 4096, 4096);
  test::apply_clean(m, R"({"op":"almos_process","pid":1,"cluster":0})");
  test::apply_clean(m, R"({"op":"almos_vseg","pid":1,"type":"anon","len":"0x3000"})");
  test::apply_clean(m, R"({"op":"almos_access","pid":1,"cluster":0,"va":"0x40000000","kind":"write"})");
  std::uint64_t before = state(m).allocated;
  test::apply_clean(m, R"({"op":"almos_access","pid":1,"cluster":1,"va":"0x40000000","kind":"read"})");
  EXPECT_EQ(state(m).allocated, before);
  const almos::Process& p = state(m).procs.at(1);
  EXPECT_EQ(p.gpt.at(1).at(kMmap >> 12), p.gpt.at(0).at(kMmap >> 12));
  EXPECT_EQ(p.vsl.at(kMmap >> 12).pages, 4u) << "3 pages are served as 2^2";
}

TEST(Almos_5_Faults, LastCowWriterReusesThePageInPlace) {
  model::Model m("almos-mkh", 2, 4096, 4096);
  for (const char* l : {R"({"op":"almos_process","pid":1,"cluster":0})", R"({"op":"almos_vseg","pid":1,"type":"anon","len":"0x1000"})",
                        R"({"op":"almos_access","pid":1,"cluster":0,"va":"0x40000000","kind":"write"})",
                        R"({"op":"almos_fork","pid":1,"child":2,"cluster":0})", R"({"op":"almos_fork","pid":1,"child":3,"cluster":1})"})
    test::apply_clean(m, l);
  std::uint64_t ppn = state(m).procs.at(1).gpt.at(0).at(kMmap >> 12).ppn;
  EXPECT_EQ(state(m).pages.at(ppn).forks, 2u);
  test::apply_clean(m, R"({"op":"almos_access","pid":3,"cluster":1,"va":"0x40000000","kind":"write"})");
  test::apply_clean(m, R"({"op":"almos_access","pid":1,"cluster":0,"va":"0x40000000","kind":"write"})");
  EXPECT_EQ(state(m).pages.at(ppn).forks, 0u);
  test::apply_clean(m, R"({"op":"almos_access","pid":2,"cluster":0,"va":"0x40000000","kind":"write"})");
  EXPECT_EQ(state(m).procs.at(2).gpt.at(0).at(kMmap >> 12).ppn, ppn) << "the last writer keeps the page";
}

TEST(Almos_8_Variants, FuzzCampaignIsCleanOnFixed) {
  diff::CampaignResult r = test::model_campaign("almos-mkh", 10000, false);
  EXPECT_TRUE(r.model_only);
  EXPECT_EQ(r.findings, 0u) << (r.examples.empty() ? "" : r.examples[0].id + ": " + r.examples[0].message);
  EXPECT_GT(r.op_kinds["almos_fork"], 150u);
  EXPECT_GT(r.op_kinds["almos_munmap"], 500u);
}

TEST(Differential_4_2_Almos, ImplementationKeepsOneTablePerClusterAndSetsCowEverywhere) {
  // A write in the owner cluster, a false fault in cluster 1, then fork: both page
  // tables of pid 1 map the same page, read-only with the COW mark after the fork.
  diff::DiffConfig c;
  c.profile = "almos-mkh";
  diff::Differential d(c);
  for (const char* l : {R"({"op":"almos_process","pid":1,"cluster":0})", R"({"op":"almos_vseg","pid":1,"type":"anon","len":"0x1000"})",
                        R"({"op":"almos_access","pid":1,"cluster":0,"va":"0x40000000","kind":"write"})",
                        R"({"op":"almos_access","pid":1,"cluster":1,"va":"0x40000000","kind":"read"})",
                        R"({"op":"almos_fork","pid":1,"child":2,"cluster":1})"}) {
    auto f = d.step(test::ev(l));
    EXPECT_TRUE(f.empty()) << l << ": " << (f.empty() ? "" : f[0].id + " " + f[0].message);
  }
  const almos::AlmosVmm& a = *d.vmm().layer<almos::AlmosVmm>();
  const almos::AlmosVmm::Process& p = a.processes().at(1);
  ASSERT_EQ(p.gpt.size(), 2u) << "the reference and the copy of cluster 1";
  auto fmt = impl::all_formats().front()->decoder({});  // the default format's architectural decoder
  std::uint64_t pa = 0;
  for (const auto& [k, t] : p.gpt) {
    auto leaf = impl::walk_one(d.vmm().core().memory(), *fmt, t->root(), kMmap);
    ASSERT_TRUE(leaf) << "cluster " << k;
    EXPECT_FALSE(leaf->rights.w) << "cluster " << k;
    EXPECT_TRUE(fmt->leaf_attrs(leaf->raw, leaf->level).soft & 1) << "cluster " << k << ": COW";
    if (pa) {
      EXPECT_EQ(leaf->pa, pa) << "the copy maps the reference's page";
    }
    pa = leaf->pa;
  }
  EXPECT_EQ(a.page(pa >> 12).forks, 1u);
  EXPECT_EQ(a.page(pa >> 12).refs, 2u);
}

TEST(Differential_4_2_Almos, DifferentialCampaignIsClean) {
  diff::CampaignOptions o;
  o.ops = 10000;
  o.seed = 7;
  o.profile = "almos-mkh";
  o.table_layer = false;
  diff::CampaignResult r = diff::run_campaign(o);
  EXPECT_FALSE(r.model_only) << "the implementation runs in lock step";
  EXPECT_EQ(r.findings, 0u) << (r.examples.empty() ? "" : r.examples[0].id + ": " + r.examples[0].message);
  EXPECT_TRUE(r.first_error.empty()) << r.first_error;
  EXPECT_GT(r.op_kinds["almos_fork"], 150u);
}

TEST(Almos_8_Variants, FuzzCampaignCatchesEveryBrokenVariant) {
  const std::vector<std::pair<const char*, std::set<std::string>>> cases{
      {"no-guard", {"INV-ALMOS-1", "INV-ALMOS-2"}},  {"zombie-any-order", {"INV-ALMOS-3"}},
      {"stale-copy", {"INV-ALMOS-4", "INV-ALMOS-6"}}, {"false-fault-allocates", {"INV-ALMOS-4", "INV-ALMOS-5"}},
      {"cow-ignores-forks", {"INV-ALMOS-6"}},        {"no-forks-dec", {"INV-ALMOS-6"}},
      {"reset-keeps-zombies", {"INV-ALMOS-3", "INV-ALMOS-7"}}};
  for (const auto& [variant, ids] : cases) {
    diff::CampaignResult r = test::model_campaign(std::string("almos-mkh:") + variant, 100000, true);
    ASSERT_FALSE(r.examples.empty()) << variant << " not caught";
    EXPECT_TRUE(ids.count(r.examples[0].id)) << variant << " caught by " << r.examples[0].id;
    EXPECT_TRUE(r.examples[0].reproduces) << variant;
  }
}

