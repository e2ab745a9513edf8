// x86-64 entry decoding and the generic walker over simulated memory (Intel SDM Vol 3A
// §4.5-§4.6): leaf sizes, reserved bits, rights combined across levels, canonical VAs.
#include <gtest/gtest.h>

#include <vector>

#include "vmref/impl/radix_walk.hpp"
#include "x86_64_format.hpp"

using namespace vmref::impl;
using namespace vmref::impl::x86_64;

namespace {
constexpr std::uint64_t kTable = kP | kRW | kUS;

struct Walked {
  std::vector<Leaf> leaves;
  std::vector<WalkIssue> issues;
};

Walked walk(const SimMemory& m, const Format& f, std::uint64_t root) {
  Walked w;
  walk_all(m, f, root, [&](const Leaf& l) { w.leaves.push_back(l); }, [&](const WalkIssue& i) { w.issues.push_back(i); });
  return w;
}
}  // namespace

TEST(X86_64, FourKilobyteTwoMegabyteAndOneGigabyteLeaves) {
  SimMemory m;
  Format f({4, 46, true});
  // PML4 at 0x1000 -> PDPT 0x2000: [0] -> PD 0x3000, [1] = 1 GiB page at 0x40000000.
  m.write_u64(0x1000, 0x2000 | kTable);
  m.write_u64(0x2000, 0x3000 | kTable);
  m.write_u64(0x2008, 0x40000000 | kP | kRW | kPS);
  m.write_u64(0x3000, 0x4000 | kTable);             // PD[0] -> PT
  m.write_u64(0x3008, 0x200000 | kP | kPS | kUS);    // PD[1]: 2 MiB page, read-only
  m.write_u64(0x4000 + 8 * 5, 0x7000 | kP | kRW | kUS | kXD);
  Walked w = walk(m, f, 0x1000);
  ASSERT_TRUE(w.issues.empty());
  ASSERT_EQ(w.leaves.size(), 3u);
  EXPECT_EQ(w.leaves[0].va, 0x5000u);
  EXPECT_EQ(w.leaves[0].pa, 0x7000u);
  EXPECT_EQ(w.leaves[0].size, 0x1000u);
  EXPECT_FALSE(w.leaves[0].rights.x);
  EXPECT_EQ(w.leaves[1].va, 0x200000u);
  EXPECT_EQ(w.leaves[1].size, 0x200000u);
  EXPECT_FALSE(w.leaves[1].rights.w);
  EXPECT_EQ(w.leaves[2].size, 1ull << 30);
  EXPECT_FALSE(w.leaves[2].rights.u);  // U/S clear in the leaf: supervisor
}

TEST(X86_64, RightsAreAndedAndXdOredAcrossLevels) {
  SimMemory m;
  Format f({4, 46, true});
  m.write_u64(0x1000, 0x2000 | kP | kUS | kXD);  // read-only, no-execute at the top
  m.write_u64(0x2000, 0x3000 | kTable);
  m.write_u64(0x3000, 0x4000 | kTable);
  m.write_u64(0x4000, 0x5000 | kP | kRW | kUS);
  Walked w = walk(m, f, 0x1000);
  ASSERT_EQ(w.leaves.size(), 1u);
  EXPECT_FALSE(w.leaves[0].rights.w);
  EXPECT_FALSE(w.leaves[0].rights.x);
  EXPECT_TRUE(w.leaves[0].rights.u);
}

TEST(X86_64, ReservedBitsAreReportedNotDecoded) {
  SimMemory m;
  Format f({4, 40, true});
  m.write_u64(0x1000, 0x2000 | kTable | kPS);                 // PS in a PML4E
  m.write_u64(0x1008, (1ull << 45) | 0x3000 | kTable);        // above MAXPHYADDR 40
  m.write_u64(0x1010, 0x4000 | kTable);
  m.write_u64(0x4000, 0x5000 | kTable);
  m.write_u64(0x5000, 0x201000 | kP | kPS);                   // 2 MiB page with bit 12 set... PAT
  m.write_u64(0x5008, 0x202000 | kP | kPS);                   // bit 13: reserved in a 2 MiB leaf
  Walked w = walk(m, f, 0x1000);
  ASSERT_EQ(w.issues.size(), 3u);
  EXPECT_NE(w.issues[0].what.find("PS set"), std::string::npos);
  EXPECT_NE(w.issues[1].what.find("reserved bits"), std::string::npos);
  EXPECT_NE(w.issues[2].what.find("0x2000"), std::string::npos);
  ASSERT_EQ(w.leaves.size(), 1u);  // bit 12 of a large leaf is PAT, not an address bit
  EXPECT_EQ(w.leaves[0].pa, 0x200000u);
}

TEST(X86_64, CanonicalUpperHalfAndFiveLevels) {
  SimMemory m;
  Format f4({4, 46, true});
  m.write_u64(0x1000 + 8 * 256, 0x2000 | kTable);
  m.write_u64(0x2000, 0x3000 | kTable);
  m.write_u64(0x3000, 0x4000 | kTable);
  m.write_u64(0x4000, 0x9000 | kP | kG);
  Walked w = walk(m, f4, 0x1000);
  ASSERT_EQ(w.leaves.size(), 1u);
  EXPECT_EQ(w.leaves[0].va, 0xffff800000000000ull);
  EXPECT_EQ(qemu_tlb_line(w.leaves[0].va, w.leaves[0].raw, w.leaves[0].size),
            "ffff800000000000: 0000000000009000 -G-------");
  Format f5({5, 46, true});
  EXPECT_EQ(f5.canonical(1ull << 56), 0xff00000000000000ull);
  EXPECT_EQ(f5.shift(0), 48u);
}
