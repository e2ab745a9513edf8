// spec/vmm.md §2.3, §3.2: what a CPU may hold under TLB tags, root switches that flush or
// not, and flushes scoped to one tag (model::CpuTlb).
#include <gtest/gtest.h>

#include "vmref/model/tlb.hpp"

namespace vmref {
namespace {

using model::CpuTlb;
using model::Held;
using model::TagUse;

Held stale_to(model::FrameId f, model::Tag t) {
  Held h;
  h.frame = f;
  h.tag = t;
  return h;
}

TEST(Vmm_2_3_Switch, TagLoadedForAnotherRootWithoutFlushKeepsTheOldRootsTranslations) {
  CpuTlb c;
  std::vector<std::uint64_t> idx;
  EXPECT_FALSE(c.load_tag(1, {1, 10, 1}, false, idx));
  EXPECT_FALSE(c.load_tag(1, {1, 10, 1}, false, idx)) << "the same root again is no reuse";
  auto was = c.load_tag(1, {2, 20, 1}, false, idx);
  ASSERT_TRUE(was);
  EXPECT_EQ(was->as, 1u);
  EXPECT_TRUE(c.holds_space(1)) << "as 1's translations are still cached under tag 1";
  EXPECT_TRUE(c.holds_space(2));
  EXPECT_FALSE(c.load_tag(1, {3, 30, 1}, true, idx)) << "a flushing load is no reuse";
  EXPECT_FALSE(c.holds_space(1));
  EXPECT_FALSE(c.holds_space(2));
}

TEST(Vmm_2_3_Switch, RootAllocatedAgainCountsAsAnotherRoot) {
  CpuTlb c;
  std::vector<std::uint64_t> idx;
  c.load_tag(4, {1, 10, 1}, false, idx);
  EXPECT_TRUE(c.load_tag(4, {1, 10, 2}, false, idx));
}

TEST(Vmm_3_2_Flushes, TagScopedFlushLeavesOtherTagsEntries) {
  CpuTlb c;
  std::vector<std::uint64_t> idx;
  c.load_tag(1, {1}, false, idx);
  c.load_tag(2049, {1}, false, idx);
  c.add_stale(1, 0x10, stale_to(5, 1), idx);
  c.add_stale(1, 0x10, stale_to(5, 2049), idx);
  c.flush_range(1, 0x10, 1, false, idx, model::Tag{1});
  ASSERT_EQ(c.stale().size(), 1u);
  EXPECT_EQ(c.stale().begin()->second.at(0).tag, 2049u);
  EXPECT_EQ(idx.at(5), 1u);
  c.flush_range(1, 0x10, 1, false, idx);  // no tag: every tag of the space
  EXPECT_TRUE(c.stale().empty());
  EXPECT_EQ(idx.at(5), 0u);
}

TEST(Vmm_3_2_Flushes, FlushOfTheRunningTagKeepsItsCurrentSpaceOnly) {
  CpuTlb c;
  std::vector<std::uint64_t> idx;
  c.load_tag(1, {1}, false, idx);
  c.load_tag(1, {2}, false, idx);  // a reuse: as 1 still cached under tag 1
  c.flush_asid(2, false, idx, model::Tag{1});
  EXPECT_FALSE(c.holds_space(1));
  EXPECT_TRUE(c.holds_space(2)) << "the CPU runs as 2 under tag 1 and refills it";
  EXPECT_FALSE(c.load_tag(1, {2}, false, idx));
}

TEST(Vmm_2_3_Switch, UntaggedFlushingSwitchDropsEveryUntaggedSpace) {
  CpuTlb c;
  std::vector<std::uint64_t> idx;
  c.load_space(1, false, idx);
  Held g = stale_to(6, model::kSpaceTag);
  g.global = true;
  c.add_stale(1, 0x20, stale_to(5, model::kSpaceTag), idx);
  c.add_stale(1, 0x21, g, idx);
  c.load_space(2, true, idx);
  EXPECT_FALSE(c.holds_space(1));
  EXPECT_TRUE(c.holds_space(2));
  ASSERT_EQ(c.stale().size(), 1u) << "global entries survive a CR3 load (Intel SDM Vol 3A §4.10.4.1)";
  EXPECT_TRUE(c.stale().begin()->second.at(0).global);
}

}  // namespace
}  // namespace vmref
