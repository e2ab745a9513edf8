// The generic radix engine with the x86-64 codec: leaf encodings (SDM Vol 3A Table 4-20,
// §4.5), large leaves and their splitting, table reclaim, the hardware walk (rights
// combined, A/D set, §4.6, §4.8), 5-level paging and canonical upper-half addresses.
#include <gtest/gtest.h>

#include "vmref/impl/engine_mutants.hpp"
#include "vmref/impl/radix_table.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "x86_64_format.hpp"

using namespace vmref::impl;
using namespace vmref::impl::x86_64;

namespace {
constexpr std::uint64_t k2M = 1ull << 21, k1G = 1ull << 30;

struct Fixture {
  explicit Fixture(unsigned levels = 4, Mutant m = nullptr) : fmt({levels, 52, true}), pool(mem), t(pool, fmt, m) {}
  SimMemory mem;
  Format fmt;
  FramePool pool;
  RadixTable t;
};

LeafAttrs rw_user() {
  LeafAttrs a;
  a.rights = {true, true, false};
  return a;
}
}  // namespace

TEST(RadixTable, LeafEncodingFollowsTheSdmLayout) {
  Format f({4, 52, true});
  LeafAttrs a;
  a.rights = {true, true, false};
  a.global = true;
  a.arch = 7 | 0xb << 3;  // arch_fields(): cache = PAT | PCD | PWT, then pkey 0xb
  std::uint64_t small = f.encode_leaf(0x5000, 3, a);
  EXPECT_EQ(small, 0x5000 | kP | kRW | kUS | kG | kPWT | kPCD | kPatSmall | (0xbull << 59) | kXD);
  std::uint64_t large = f.encode_leaf(0x200000, 2, a);  // PAT moves to bit 12 beside PS
  EXPECT_EQ(large, 0x200000 | kP | kRW | kUS | kG | kPWT | kPCD | kPatLarge | kPS | (0xbull << 59) | kXD);
  EXPECT_EQ(f.leaf_attrs(small, 3), a);
  EXPECT_EQ(f.leaf_attrs(large, 2), a);
  EXPECT_TRUE(f.decode(large, 2).reserved.empty()) << "bit 12 is PAT in a 2 MiB leaf, not address";
}

TEST(RadixTable, MapsLargeLeavesWhereAlignedAndSplitsThemOnPartialChange) {
  Fixture x;
  x.t.map(k1G, 0x80000000, k1G, rw_user(), k1G);          // one 1 GiB leaf
  x.t.map(4 * k1G, 0x40200000, 2 * k2M, rw_user(), k2M);   // two 2 MiB leaves
  EXPECT_EQ(x.t.lookup(k1G + 0x1234)->size, k1G);
  EXPECT_EQ(x.t.lookup(4 * k1G + k2M)->size, k2M);
  EXPECT_EQ(x.t.table_pages(), 3u);  // PML4, PDPT, and a PD for the 2 MiB pair
  // Write-protect one 4 KiB page inside the 1 GiB leaf: split to 2 MiB, then to 4 KiB.
  x.t.protect(k1G + 0x5000, 0x1000, [](std::uint64_t, std::uint64_t, LeafAttrs& a) { a.rights.w = false; });
  auto m = x.t.lookup(k1G + 0x5000);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->size, 4096u);
  EXPECT_EQ(m->pa, 0x80005000u);
  EXPECT_FALSE(m->attrs.rights.w);
  EXPECT_TRUE(x.t.lookup(k1G + 0x6000)->attrs.rights.w);
  EXPECT_EQ(x.t.lookup(k1G + k2M)->size, k2M) << "only the 2 MiB block containing the change is split";
  EXPECT_EQ(x.t.lookup(k1G + k2M - 0x1000)->pa, 0x80000000u + k2M - 0x1000) << "the last 4 KiB entry survives the split";
  std::uint64_t pages = 0;
  walk_all(x.mem, x.fmt, x.t.root(), [&](const Leaf& l) { pages += l.size / 4096; }, [](const WalkIssue&) { FAIL(); });
  EXPECT_EQ(pages, (k1G + 2 * k2M) / 4096);
}

TEST(RadixTable, ReclaimsEmptiedTablePagesButNotTheRoot) {
  Fixture x;
  x.t.map(0x10000000, 0x5000, 3 * 4096, rw_user());
  EXPECT_EQ(x.t.table_pages(), 4u);
  x.t.unmap(0x10000000, 4096);
  EXPECT_EQ(x.t.table_pages(), 4u) << "two entries still live in the PT";
  std::vector<std::uint64_t> gone;
  x.t.unmap(0x10001000, 2 * 4096, [&](const Mapping& m) { gone.push_back(m.pa); });
  EXPECT_EQ(gone, (std::vector<std::uint64_t>{0x6000, 0x7000}));
  EXPECT_EQ(x.t.table_pages(), 1u);
  EXPECT_EQ(x.pool.in_use(), 1u);
}

TEST(RadixTable, MutantReclaimDropsALiveEntry) {
  Fixture x(4, &kReclaimLiveTable);
  x.t.map(0x10000000, 0x5000, 2 * 4096, rw_user());
  x.t.unmap(0x10000000, 4096);
  EXPECT_FALSE(x.t.lookup(0x10001000)) << "the broken variant frees the PT under its last live entry";
}

TEST(RadixTable, HardwareWalkCombinesRightsAndSetsAccessedDirty) {
  Fixture x;
  LeafAttrs ro = rw_user();
  ro.rights.w = false;
  x.t.map(0x400000, 0x9000, 4096, ro);
  EXPECT_EQ(x.t.translate(0x400010, true, false).fault, WalkFault::protection);
  EXPECT_EQ(x.t.translate(0x400010, false, true).fault, WalkFault::protection) << "XD set";
  EXPECT_FALSE(x.t.lookup(0x400000)->attrs.accessed) << "a faulting access sets no A bit";
  Translation t = x.t.translate(0x400010, false, false);
  EXPECT_EQ(t.fault, WalkFault::none);
  EXPECT_EQ(t.pa, 0x9010u);
  EXPECT_TRUE(x.t.lookup(0x400000)->attrs.accessed);
  EXPECT_FALSE(x.t.lookup(0x400000)->attrs.dirty);
  x.t.map(0x401000, 0xa000, 4096, rw_user());
  x.t.translate(0x401000, true, false);
  EXPECT_TRUE(x.t.lookup(0x401000)->attrs.dirty);
  EXPECT_EQ(x.t.translate(0x402000, false, false).fault, WalkFault::not_present);
  EXPECT_EQ(x.t.translate(0x400010 | (1ull << 48), false, false).fault, WalkFault::non_canonical)
      << "bits 63:48 must copy bit 47: no aliasing onto the mapped page";
}

TEST(RadixTable, FiveLevelPagingAndTheCanonicalUpperHalf) {
  Fixture x(5);
  std::uint64_t high = 0xff00000000000000ull;  // canonical with LA57 (bit 56 set, copied above)
  ASSERT_TRUE(x.fmt.is_canonical(high));
  x.t.map(high, 0x1234000, 4096, rw_user());
  auto m = x.t.lookup(high);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->va, high);
  EXPECT_EQ(x.t.table_pages(), 5u);
  auto leaf = walk_one(x.mem, x.fmt, x.t.root(), high);
  ASSERT_TRUE(leaf);
  EXPECT_EQ(leaf->pa, 0x1234000u);
  Format four({4, 52, true});
  EXPECT_FALSE(four.is_canonical(0x0000800000000000ull)) << "bit 47 set but not copied above";
}
