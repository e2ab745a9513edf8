// AArch64 VMSAv8-64 stage-1 descriptors: encoding and decoding, the geometry per granule
// and width, reserved encodings, hierarchical permissions, the walk over simulated
// memory, hardware AF/DBM updates and TTBR0_EL1 (Arm ARM DDI 0487 D8.2-D8.4, D19.2).
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "aarch64_format.hpp"
#include "aarch64_mutants.hpp"
#include "vmref/impl/frame_pool.hpp"
#include "vmref/impl/radix_table.hpp"
#include "vmref/impl/radix_walk.hpp"

using namespace vmref::impl;
using namespace vmref::impl::aarch64;
namespace a = vmref::impl::aarch64::arith;

namespace {
constexpr std::uint64_t kTable = 3, kBlock = 1, kPage = 3;

std::vector<Leaf> leaves(const SimMemory& m, const Format& f, std::uint64_t root, std::vector<WalkIssue>* issues = nullptr) {
  std::vector<Leaf> out;
  walk_all(m, f, root, [&](const Leaf& l) { out.push_back(l); },
           [&](const WalkIssue& i) { if (issues) issues->push_back(i); });
  return out;
}

Config cfg(unsigned granule, unsigned va_bits) { return Config{granule, va_bits, false, nullptr}; }
}  // namespace

// D8.2.7 and Linux ARM64_HW_PGTABLE_LEVELS: (region - 4) / (page_shift - 3) levels; the
// engine's root resolves the TTBR-selecting bit besides the region's level-0 index.
TEST(Aarch64_D8_2_Geometry, LevelsPerGranuleAndWidth) {
  struct Row { unsigned granule, va_bits, levels, root_bits; };
  for (Row r : {Row{4, 48, 4, 9}, Row{4, 39, 3, 9}, Row{4, 42, 4, 3}, Row{16, 49, 4, 2}, Row{16, 47, 3, 11},
                Row{64, 42, 2, 13}, Row{64, 48, 3, 6}}) {
    Format f(cfg(r.granule, r.va_bits));
    EXPECT_EQ(f.levels(), r.levels) << r.granule << "K/" << r.va_bits;
    EXPECT_EQ(f.index_bits(0), r.root_bits) << r.granule << "K/" << r.va_bits;
    EXPECT_EQ(f.shift(f.levels() - 1), f.page_shift());
    EXPECT_EQ(f.shift(0) + f.index_bits(0), r.va_bits);
  }
  EXPECT_EQ(Format(cfg(4, 48)).arch_level(0), 0);
  EXPECT_EQ(Format(cfg(4, 39)).arch_level(0), 1);
  EXPECT_EQ(Format(cfg(4, 48)).txsz(), 17u);
}

TEST(Aarch64_D8_2_Geometry, RefusedConfigurations) {
  EXPECT_THROW(Format(cfg(8, 48)), std::invalid_argument);
  // 4K granule, 40-bit tree: each 39-bit region's level-0 table has 512 entries, a whole page.
  EXPECT_THROW(Format(cfg(4, 40)), std::invalid_argument);
  EXPECT_THROW(Format(cfg(16, 48)), std::invalid_argument) << "a 2048-entry level-0 table per region";
  EXPECT_THROW(Format(Config{16, 48, true, nullptr}), std::invalid_argument) << "the engine builds 4 KiB tables";
  EXPECT_NO_THROW(Format(Config{4, 48, true, nullptr}));
}

TEST(Aarch64_D8_3_Descriptor, LeafRoundTripsAtEveryLevelThatHoldsOne) {
  for (unsigned granule : {4u, 16u, 64u}) {
    Format f(cfg(granule, granule == 16 ? 49 : 48));
    for (unsigned level = 0; level < f.levels(); ++level) {
      if (!f.leaf_allowed(level)) continue;
      std::uint64_t pa = 0x0000'8000'0000'0000ull >> 1 & ~((1ull << f.shift(level)) - 1);
      for (unsigned bits = 0; bits < 128; ++bits) {
        LeafAttrs at;
        at.rights = {static_cast<bool>(bits & 1), static_cast<bool>(bits & 2), static_cast<bool>(bits & 4)};
        at.global = bits & 8;
        at.accessed = bits & 16;
        at.dirty = bits & 32;
        at.soft = bits & 3;
        at.arch = bits >> 4 & 7;
        std::uint64_t raw = f.encode_leaf(pa, level, at);
        ASSERT_TRUE(f.is_present(raw));
        ASSERT_TRUE(f.is_leaf(raw, level));
        EXPECT_EQ(f.reserved_bits(raw, level), 0u) << granule << "K level " << level;
        EXPECT_EQ(f.address(raw, level), pa);
        EXPECT_EQ(f.leaf_attrs(raw, level), at);
        EXPECT_EQ(raw & kShInner, kShInner);
        EXPECT_EQ(raw & 3, level + 1 == f.levels() ? kPage : kBlock);
        // The walk's rights of a leaf under tables that grant everything are its own.
        Rights r = f.combine_at(f.combine_at(Rights{}, f.encode_table(0x1000 << 4), 0), raw, level);
        EXPECT_EQ(r, at.rights) << std::hex << raw;
      }
    }
  }
}

TEST(Aarch64_D8_3_Descriptor, TableRoundTrips) {
  Format f(cfg(4, 48));
  std::uint64_t raw = f.encode_table(0x8020'3000);
  EXPECT_EQ(raw, 0x8020'3000u | kTable);
  EXPECT_FALSE(f.is_leaf(raw, 0));
  EXPECT_TRUE(f.is_leaf(raw, 3)) << "0b11 at the last level is a page";
  EXPECT_EQ(f.address(raw, 1), 0x8020'3000u);
  EXPECT_EQ(f.reserved_bits(raw, 1), 0u);
}

TEST(Aarch64_D8_3_Descriptor, ReservedEncodings) {
  Format f(cfg(4, 48));
  EXPECT_NE(f.reserved_bits(0x4000'0000 | kBlock, 0), 0u) << "no block at level 0 without FEAT_LPA2";
  EXPECT_NE(f.reserved_bits(0x1000 | kBlock, 3), 0u) << "0b01 at level 3";
  EXPECT_EQ(f.reserved_bits(0x4000'0000 | kBlock, 1), 0u);
  EXPECT_NE(f.reserved_bits(0x4020'0000 | kBlock, 1), 0u) << "a 1 GiB block's OA bits below 2^30";
  EXPECT_NE(f.reserved_bits(1ull << 48 | 0x1000 | kPage, 3), 0u) << "OA bit 48 without LPA2";
  EXPECT_NE(f.decode(0x4000'0000 | kBlock, 0).reserved.find("block descriptor at level 0"), std::string::npos);
  EXPECT_NE(f.decode(0x4020'0000 | kBlock, 1).reserved.find("misaligned block"), std::string::npos);
  Format g(cfg(16, 49));
  EXPECT_NE(g.reserved_bits(0x10'0000'0000 | kBlock, 1), 0u) << "16K granule: no level-1 block";
  EXPECT_NE(g.reserved_bits(0x5000 | kPage, 3), 0u) << "16K granule: OA bits 13:12 are RES0";
  EXPECT_FALSE(f.decode(0x1000 | 2, 3).present) << "bit 0 clear: invalid, whatever else is set";
}

// D8.4.1.1: APTable[1] makes everything below read-only, APTable[0] removes EL0 access,
// UXNTable/PXNTable remove execution at EL0 / EL1; DBM makes an AP[2]=1 page writable
// with TCR_EL1.HD = 1.
TEST(Aarch64_D8_4_Permissions, HierarchicalRestrictionsCombine) {
  Format f(cfg(4, 48));
  LeafAttrs user_rwx{{true, true, true}, false, true, true};
  LeafAttrs kern_rwx{{true, false, true}, true, true, true};
  std::uint64_t up = f.encode_leaf(0x9000, 3, user_rwx), kp = f.encode_leaf(0xa000, 3, kern_rwx);
  auto under = [&](std::uint64_t table_bits, std::uint64_t leaf) {
    return f.combine_at(f.combine_at(Rights{}, f.encode_table(0x2000) | table_bits, 1), leaf, 3);
  };
  EXPECT_EQ(under(0, up), (Rights{true, true, true}));
  EXPECT_EQ(under(a::kApTable1, up), (Rights{false, true, true}));
  EXPECT_EQ(under(a::kApTable0, up), (Rights{true, false, false})) << "EL1-only now: PXN of a user page applies";
  EXPECT_EQ(under(a::kUxnTable, up), (Rights{true, true, false}));
  EXPECT_EQ(under(a::kPxnTable, up), (Rights{true, true, true})) << "PXNTable on user tables, as arm64 kernels set it";
  EXPECT_EQ(under(a::kPxnTable, kp), (Rights{true, false, false}));
  EXPECT_EQ(under(a::kUxnTable, kp), (Rights{true, false, true}));
  // Restrictions from two levels accumulate.
  Rights two = f.combine_at(f.combine_at(f.combine_at(Rights{}, 0x1000 | kTable | a::kUxnTable, 0), 0x2000 | kTable | a::kApTable1, 1),
                            up, 3);
  EXPECT_EQ(two, (Rights{false, true, false}));
  // A clean writable page (DBM=1, AP[2]=1) is writable; a read-only one is not.
  LeafAttrs clean = user_rwx;
  clean.dirty = false;
  std::uint64_t cp = f.encode_leaf(0x9000, 3, clean);
  EXPECT_TRUE(cp & a::kApRdonly);
  EXPECT_TRUE(under(0, cp).w);
  EXPECT_FALSE(under(0, cp & ~a::kDbm).w);
}

TEST(Aarch64_D8_4_Flags, HardwareSetsAfAndClearsApRdonlyOnAStoreToADbmPage) {
  Format f(cfg(4, 48));
  LeafAttrs at{{true, true, false}, false, false, false};
  std::uint64_t raw = f.encode_leaf(0x9000, 3, at);
  std::uint64_t read = f.mark_used(raw, true, false);
  EXPECT_TRUE(read & kAf);
  EXPECT_TRUE(read & a::kApRdonly) << "a load leaves the page clean";
  std::uint64_t wrote = f.mark_used(raw, true, true);
  EXPECT_FALSE(wrote & a::kApRdonly);
  EXPECT_TRUE(f.leaf_attrs(wrote, 3).dirty);
  std::uint64_t ro = f.encode_leaf(0x9000, 3, LeafAttrs{{false, true, false}, false, true, false});
  EXPECT_TRUE(f.mark_used(ro, true, true) & a::kApRdonly) << "no DBM: AP[2] stays";
  EXPECT_EQ(f.mark_used(0x2000 | kTable, false, true), 0x2000 | kTable) << "tables are not written";
}

TEST(Aarch64_D8_1_Canonical, TtbrHalves) {
  Format f(cfg(4, 48));
  EXPECT_EQ(f.canonical(0x0000'7fff'ffff'f000), 0x0000'7fff'ffff'f000u);
  EXPECT_EQ(f.canonical(0x0000'8000'0000'0000), 0xffff'8000'0000'0000u) << "bit 47 selects TTBR1";
  EXPECT_EQ(Format(cfg(4, 39)).canonical(0x40'0000'0000), 0xffff'ffc0'0000'0000u);
}

TEST(Aarch64_D19_Ttbr0, RootFromTtbr0) {
  EXPECT_EQ(root_from_ttbr0(0x0005'0000'8000'1000ull, 0x1000), 0x8000'1000u) << "ASID 5 in bits 63:48";
  EXPECT_EQ(root_from_ttbr0(0x8000'1001ull, 0x1000), 0x8000'1000u) << "CnP in bit 0";
  EXPECT_THROW(root_from_ttbr0(0x8000'1800ull, 0x1000), std::invalid_argument);
  EXPECT_EQ(root_from_ttbr0(0x8000'1040ull, 0x40), 0x8000'1040u) << "a small level-0 table is aligned to its size";
}

// The engine builds blocks and pages with this codec, and the architectural walk reads
// them back at both halves: 2 MiB blocks, a 1 GiB block, a split, and TTBR1's region.
TEST(Aarch64_D8_2_Walk, EngineBuildsBlocksAndPagesInBothRegions) {
  SimMemory mem;
  FramePool pool(mem);
  Format codec(Config{4, 48, true, nullptr});
  RadixTable t(pool, codec);
  LeafAttrs rw{{true, true, false}, false, true, true};
  LeafAttrs kx{{false, false, true}, true, true, false};
  t.map(0x4000'0000, 0x8000'0000, 1ull << 30, rw, 1ull << 30);
  t.map(0x20'0000, 0x60'0000, 2ull << 20, rw, 2ull << 20);
  t.map(0xffff'8000'0000'0000, 0x1'0000'0000, 0x3000, kx);
  t.protect(0x4000'1000, 0x1000, [](std::uint64_t, std::uint64_t, LeafAttrs& x) { x.rights.w = false; });
  std::vector<WalkIssue> issues;
  std::vector<Leaf> ls = leaves(mem, Format(cfg(4, 48)), t.root(), &issues);
  EXPECT_TRUE(issues.empty());
  std::uint64_t blocks = 0, pages = 0, high = 0;
  for (const Leaf& l : ls) {
    (l.size == 4096 ? pages : blocks) += 1;
    high += l.va >= 0xffff'8000'0000'0000ull;
    if (l.va == 0x4000'1000) {
      EXPECT_FALSE(l.rights.w);
    }
    if (l.va >= 0xffff'8000'0000'0000ull) {
      EXPECT_EQ(l.rights, kx.rights);
    }
  }
  EXPECT_EQ(blocks, 1u + 511u) << "one 2 MiB block, and 511 of the split 1 GiB block";
  EXPECT_EQ(pages, 512u + 3u);
  EXPECT_EQ(high, 3u);
  Translation tr = t.translate(0x20'1234, true, false, true);
  EXPECT_EQ(tr.fault, WalkFault::none);
  EXPECT_EQ(tr.pa, 0x60'1234u);
  EXPECT_EQ(tr.page_size, 2ull << 20);
}

TEST(Aarch64_Mutants, CodecMutantsWriteWhatTheArchitectureReadsDifferently) {
  Format arch(cfg(4, 48));
  LeafAttrs kern{{true, false, true}, true, true, true};
  Format el0(Config{4, 48, true, &kEl0AlwaysSet});
  EXPECT_TRUE(arch.leaf_attrs(el0.encode_leaf(0x9000, 3, kern), 3).rights.u);
  Format swapped(Config{4, 48, true, &kUxnPxnSwapped});
  EXPECT_FALSE(arch.leaf_attrs(swapped.encode_leaf(0x9000, 3, kern), 3).rights.x);
  Format af(Config{4, 48, true, &kAfNotSet});
  EXPECT_FALSE(af.mark_used(af.encode_leaf(0x9000, 3, LeafAttrs{}), true, false) & kAf);
}
