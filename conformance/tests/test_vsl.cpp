// The VSL: lookup, split and range removal (spec/vmm.md §1.2; the three-way split of
// spec/kernels/linux.md §2.3).
#include <gtest/gtest.h>

#include "vmref/model/vsl.hpp"

using namespace vmref::model;

namespace {
Vseg seg(Va s, Va e) {
  Vseg v;
  v.start = s;
  v.end = e;
  v.pgoff = s >> 12;
  return v;
}
}  // namespace

TEST(Vmm_1_2_Vsl, FindReturnsContainingVseg) {
  Vsl l;
  l.insert(seg(0x1000, 0x3000));
  l.insert(seg(0x5000, 0x6000));
  EXPECT_EQ(l.find(0x1000)->start, 0x1000u);
  EXPECT_EQ(l.find(0x2fff)->start, 0x1000u);
  EXPECT_EQ(l.find(0x3000), nullptr);
  EXPECT_EQ(l.find(0x5fff)->start, 0x5000u);
  EXPECT_EQ(l.find(0x0), nullptr);
}

TEST(Vmm_1_2_Vsl, RemoveRangeSplitsThreeWays) {
  Vsl l;
  l.insert(seg(0x10000, 0x13000));
  auto gone = l.remove_range(0x11000, 0x12000, 4096);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].start, 0x11000u);
  EXPECT_EQ(gone[0].pgoff, 0x11u);  // the cut piece keeps its own page offset
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l.find(0x10000)->end, 0x11000u);
  EXPECT_EQ(l.find(0x12000)->start, 0x12000u);
  EXPECT_EQ(l.find(0x12000)->pgoff, 0x12u);
}

TEST(Vmm_1_2_Vsl, OverlappingInsertIsKeptAndReported) {
  Vsl l;
  l.insert(seg(0x1000, 0x4000));
  EXPECT_FALSE(l.has_overlaps());
  l.insert(seg(0x2000, 0x3000));
  EXPECT_TRUE(l.has_overlaps());
  EXPECT_EQ(l.overlapping(0x2000, 0x2001).size(), 2u);
}
