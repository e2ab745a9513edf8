// x86-64 entry decoding and the generic walker over simulated memory (Intel SDM Vol 3A
// §4.5-§4.6): leaf sizes, reserved bits, rights combined across levels, canonical VAs.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
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

/// A raw image held in memory: byte `o` is PA `o`, nothing beyond it (as ImageFile).
struct Bytes : PhysReader {
  std::vector<unsigned char> data;
  mutable std::size_t reads = 0;  ///< successful ones: the walk's work
  bool read_u64(std::uint64_t pa, std::uint64_t& out) const override {
    if (pa > data.size() || data.size() - pa < 8) return false;
    std::memcpy(&out, data.data() + pa, 8);
    ++reads;
    return true;
  }
};

std::size_t count(const Walked& w, WalkIssueKind kind) {
  std::size_t n = 0;
  for (const WalkIssue& i : w.issues) n += i.kind == kind;
  return n;
}

/// Every leaf and issue of a walk; `rewalk`: entries re-walks of shared tables may read.
Walked walk_budget(const PhysReader& m, const Format& f, std::uint64_t root, std::uint64_t rewalk,
                   std::set<std::uint64_t>* tables = nullptr) {
  Walked w;
  walk_all(m, f, root, [&](const Leaf& l) { w.leaves.push_back(l); }, [&](const WalkIssue& i) { w.issues.push_back(i); },
           tables, rewalk);
  return w;
}

Walked walk(const PhysReader& m, const Format& f, std::uint64_t root) { return walk_budget(m, f, root, 0); }
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

TEST(X86_64, SelfReferencingRootIsReportedOnceNotFollowed) {
  SimMemory m;
  Format f({4, 46, true});
  for (unsigned i = 0; i < 512; ++i) m.write_u64(0x1000 + 8 * i, 0x1000 | kP | kRW);
  Walked w = walk(m, f, 0x1000);  // followed as the hardware would: 512^4 leaves
  EXPECT_TRUE(w.leaves.empty());
  ASSERT_EQ(w.issues.size(), 512u);
  for (unsigned i = 0; i < 512; ++i) {
    EXPECT_EQ(w.issues[i].kind, WalkIssueKind::aliased_table);
    EXPECT_EQ(w.issues[i].entry_pa, 0x1000u + 8 * i);
    EXPECT_EQ(w.issues[i].level, 0u);
  }
  EXPECT_NE(w.issues[0].what.find("PA 0x1000"), std::string::npos) << w.issues[0].what;
  EXPECT_NE(w.issues[0].what.find("cycle"), std::string::npos) << w.issues[0].what;
  Walked budget = walk_budget(m, f, 0x1000, 1 << 20);  // a cycle is never re-walked
  EXPECT_TRUE(budget.leaves.empty());
  EXPECT_EQ(budget.issues.size(), 512u);
}

// PDPT[0] and PDPT[1] share the PD at 0x3000, which holds two 2 MiB leaves.
SimMemory shared_pd() {
  SimMemory m;
  m.write_u64(0x1000, 0x2000 | kTable);
  m.write_u64(0x2000, 0x3000 | kTable);
  m.write_u64(0x2008, 0x3000 | kTable);
  m.write_u64(0x3000, 0x200000 | kP | kPS);
  m.write_u64(0x3008, 0x400000 | kP | kPS);
  return m;
}

TEST(X86_64, SharedTableIsWalkedOnceWithoutBudgetAndTheSecondEntryReported) {
  SimMemory m = shared_pd();
  Format f({4, 46, true});
  std::set<std::uint64_t> tables;
  Walked w = walk_budget(m, f, 0x1000, 0, &tables);
  ASSERT_EQ(w.leaves.size(), 2u);  // under PDPT[0] only
  EXPECT_EQ(w.leaves[1].va, 0x200000u);
  ASSERT_EQ(w.issues.size(), 1u);
  EXPECT_EQ(w.issues[0].kind, WalkIssueKind::aliased_table);
  EXPECT_EQ(w.issues[0].entry_pa, 0x2008u);
  EXPECT_EQ(w.issues[0].va, 1ull << 30);
  EXPECT_NE(w.issues[0].what.find("PA 0x3000"), std::string::npos) << w.issues[0].what;
  EXPECT_NE(w.issues[0].what.find("shared"), std::string::npos) << w.issues[0].what;
  EXPECT_EQ(tables, (std::set<std::uint64_t>{0x1000, 0x2000, 0x3000}));
}

TEST(X86_64, SharedTableIsWalkedAgainWithinTheBudget) {
  SimMemory m = shared_pd();
  Format f({4, 46, true});
  Walked w = walk_budget(m, f, 0x1000, 512);  // one re-walk of a 512-entry PD
  EXPECT_TRUE(w.issues.empty());
  ASSERT_EQ(w.leaves.size(), 4u);  // as the hardware sees it: under both PDPT entries
  EXPECT_EQ(w.leaves[2].va, (1ull << 30));
  EXPECT_EQ(w.leaves[3].pa, 0x400000u);
  Walked short_of = walk_budget(m, f, 0x1000, 511);
  EXPECT_EQ(short_of.leaves.size(), 2u);
  ASSERT_EQ(short_of.issues.size(), 1u);
  EXPECT_EQ(short_of.issues[0].kind, WalkIssueKind::aliased_table);
}

TEST(X86_64, FanOutThroughSharedTablesIsCutAtTheBudget) {
  // Every PML4, PDPT and PD entry points at the one next table, the PT maps 512 pages:
  // 512^4 leaves to the hardware, from four table pages.
  Bytes img;
  img.data.resize(5 * 4096);
  for (std::uint64_t level = 0; level < 4; ++level)
    for (std::uint64_t i = 0; i < 512; ++i) {
      std::uint64_t v = level < 3 ? ((level + 2) << 12) | kTable : (i << 12) | kP;
      std::memcpy(img.data.data() + ((level + 1) << 12) + 8 * i, &v, 8);
    }
  Format f({4, 46, true});
  constexpr std::uint64_t kBudget = 5 * 512;
  Walked w = walk_budget(img, f, 0x1000, kBudget);
  EXPECT_LE(img.reads, 4 * 512 + kBudget);
  EXPECT_EQ(w.leaves.size(), 512u * 6);  // the first PT, then five re-walks
  EXPECT_GT(count(w, WalkIssueKind::aliased_table), 0u);
  EXPECT_EQ(count(w, WalkIssueKind::aliased_table), w.issues.size());
}

TEST(X86_64, IssuesTellTheirKind) {
  Bytes img;
  img.data.resize(0x2000);
  Format f({4, 46, true});
  std::uint64_t entries[] = {0x1000 | kTable | kPS, 0x9000 | kTable};  // PS in a PML4E; a PDPT past the end
  std::memcpy(img.data.data() + 0x1000, entries, sizeof entries);
  Walked w = walk(img, f, 0x1000);
  ASSERT_EQ(w.issues.size(), 2u);
  EXPECT_EQ(w.issues[0].kind, WalkIssueKind::reserved_bits);
  EXPECT_EQ(w.issues[1].kind, WalkIssueKind::outside_image);
  EXPECT_EQ(w.issues[1].entry_pa, 0x9000u);
}

// Hostile images: whatever the bytes, the walk enters each table page once plus the
// re-walks the budget allows, so it reads at most pages x 512 + budget entries and makes
// at most one callback per entry read. Followed blindly, images like these run for hours.
TEST(X86_64, RandomImagesFinishWithinPagesTimesEntries) {
  constexpr std::uint64_t kPages = 16;  // 64 KiB
  std::mt19937_64 rng(13);
  Format f({4, 46, true});
  std::size_t aliased = 0, leaves = 0;
  for (unsigned image = 0; image < 50; ++image) {
    Bytes img;
    img.data.resize(kPages * 4096);
    for (std::uint64_t pa = 0; pa < img.data.size(); pa += 8) {
      std::uint64_t v = rng();
      // Half the entries point into the image (no address bits above it, so no bits above
      // MAXPHYADDR either): walks go deep and meet cycles and sharing.
      if (v & 2) v = (v & ~0x000ffffffffff000ull) | (rng() % kPages) << 12;
      std::memcpy(img.data.data() + pa, &v, 8);
    }
    std::uint64_t root = (image % kPages) << 12;
    for (std::uint64_t rewalk : {std::uint64_t{0}, kPages * 512}) {
      img.reads = 0;
      Walked w = walk_budget(img, f, root, rewalk);
      EXPECT_LE(img.reads, kPages * 512 + rewalk) << "image " << image;
      EXPECT_LE(w.leaves.size() + w.issues.size(), img.reads) << "image " << image;
      aliased += count(w, WalkIssueKind::aliased_table);
      leaves += w.leaves.size();
    }
  }
  EXPECT_GT(aliased, 0u);  // the images did exercise cycles and sharing
  EXPECT_GT(leaves, 0u);
}
