// RISC-V PTE encoding and decoding, the walk over simulated memory (leaves at every level,
// misaligned superpages, reserved encodings), canonical VAs per mode, satp, and the A/D
// policy (RISC-V Privileged ISA 20211203 §4.1.11, §4.3.1-§4.3.2, §4.4-§4.6).
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "riscv_format.hpp"
#include "riscv_mutants.hpp"
#include "vmref/impl/frame_pool.hpp"
#include "vmref/impl/radix_table.hpp"
#include "vmref/impl/radix_walk.hpp"

using namespace vmref::impl;
using namespace vmref::impl::riscv;

namespace {
std::uint64_t ptr(std::uint64_t pa) { return (pa >> 12) << kPpnShift | kV; }
std::uint64_t leaf(std::uint64_t pa, std::uint64_t bits) { return (pa >> 12) << kPpnShift | kV | bits; }

std::vector<Leaf> leaves(const SimMemory& m, const Format& f, std::uint64_t root, std::vector<WalkIssue>* issues = nullptr) {
  std::vector<Leaf> out;
  walk_all(m, f, root, [&](const Leaf& l) { out.push_back(l); },
           [&](const WalkIssue& i) { if (issues) issues->push_back(i); });
  return out;
}
}  // namespace

TEST(Riscv_4_3_Pte, LeafRoundTripsAtEveryLevelOfEveryMode) {
  for (unsigned sv : {39u, 48u, 57u}) {
    Format f({sv});
    ASSERT_EQ(f.levels(), (sv - 12) / 9);
    for (unsigned level = 0; level < f.levels(); ++level) {
      std::uint64_t pa = 0x00f0'0000'0000'0000ull >> 8 & ~((1ull << f.shift(level)) - 1);  // bit 47: inside 56-bit PA
      for (unsigned bits = 0; bits < 64; ++bits) {
        LeafAttrs a;
        a.rights = {static_cast<bool>(bits & 1), static_cast<bool>(bits & 2), static_cast<bool>(bits & 4)};
        a.global = bits & 8;
        a.accessed = bits & 16;
        a.dirty = bits & 32;
        a.soft = bits & 3;
        std::uint64_t raw = f.encode_leaf(pa, level, a);
        EXPECT_TRUE(f.is_present(raw));
        EXPECT_TRUE(f.is_leaf(raw, level));
        EXPECT_TRUE(raw & kR) << "every leaf the codec writes is readable";
        EXPECT_EQ(f.reserved_bits(raw, level), 0u) << "Sv" << sv << " level " << level;
        EXPECT_EQ(f.address(raw, level), pa);
        EXPECT_EQ(f.leaf_attrs(raw, level), a);
      }
    }
  }
}

TEST(Riscv_4_3_Pte, PointerRoundTripsAndHasNoLeafBits) {
  Format f({39});
  std::uint64_t raw = f.encode_table(0x8020'3000);
  EXPECT_EQ(raw, ptr(0x8020'3000));
  EXPECT_FALSE(f.is_leaf(raw, 0));
  EXPECT_EQ(f.address(raw, 0), 0x8020'3000u);
  EXPECT_EQ(f.reserved_bits(raw, 1), 0u);
  EXPECT_NE(f.reserved_bits(raw, 2), 0u) << "a pointer at the last level faults (§4.3.2 step 5)";
  EXPECT_EQ(f.decode(raw, 2).reserved, "pointer (R=W=X=0) at the last level");
}

TEST(Riscv_4_3_Pte, ReservedBitsAndEncodings) {
  Format f({48});
  EXPECT_EQ(f.reserved_bits(leaf(0x1000, kR | kW), 3), 0u);
  EXPECT_EQ(f.reserved_bits(leaf(0x1000, kW), 3), kW) << "W without R is reserved";
  EXPECT_EQ(f.reserved_bits(leaf(0x1000, kW | kX), 3), kW) << "XWR = 110 is reserved";
  EXPECT_EQ(f.reserved_bits(leaf(0x1000, kX), 3), 0u) << "execute-only is allowed";
  EXPECT_EQ(f.reserved_bits(leaf(0x1000, kR) | 1ull << 54, 3), 1ull << 54);
  EXPECT_EQ(f.reserved_bits(leaf(0x1000, kR) | 1ull << 63, 3), 1ull << 63) << "N without Svnapot";
  EXPECT_EQ(f.reserved_bits(ptr(0x1000) | kA | kD | kU, 0), kA | kD | kU) << "A/D/U are reserved in a pointer";
  EXPECT_EQ(f.reserved_bits(ptr(0x1000) | kG, 0), 0u) << "G is allowed in a pointer";
  EXPECT_EQ(f.decode(leaf(0x1000, kW), 3).reserved, "W=1 with R=0 (reserved encoding)");
  EXPECT_TRUE(f.decode(0x7fe, 0).reserved.empty()) << "V=0: every other bit is the software's";
  EXPECT_FALSE(f.decode(0x7fe, 0).present);
}

TEST(Riscv_4_3_Pte, MisalignedSuperpageIsReserved) {
  Format f({39});
  // Level 1 leaf (2 MiB): PPN[0] must be 0; level 0 (1 GiB): PPN[1:0] must be 0.
  EXPECT_EQ(f.reserved_bits(leaf(0x4020'0000, kR), 1), 0u);
  EXPECT_EQ(f.reserved_bits(leaf(0x4020'1000, kR), 1), 1ull << kPpnShift);
  EXPECT_EQ(f.reserved_bits(leaf(0x4020'0000, kR), 0), 1ull << (kPpnShift + 9));
  EXPECT_EQ(f.reserved_bits(leaf(0x4020'1000, kR), 2), 0u) << "a 4 KiB leaf has no alignment rule";
  EXPECT_NE(f.decode(leaf(0x4020'1000, kR), 1).reserved.find("misaligned superpage"), std::string::npos);
}

TEST(Riscv_4_4_Walk, LeavesAtEveryLevelAndTheMisalignedOneFaults) {
  SimMemory m;
  Format f({39});
  // Root 0x1000: [0] -> 0x2000, [1] = 1 GiB leaf at 0x4000'0000, [2] = misaligned 1 GiB leaf.
  m.write_u64(0x1000, ptr(0x2000));
  m.write_u64(0x1008, leaf(0x4000'0000, kR | kW | kU));
  m.write_u64(0x1010, leaf(0x8020'0000, kR));
  m.write_u64(0x2000, ptr(0x3000));                          // VPN[1] = 0 -> level 2 table
  m.write_u64(0x2008, leaf(0x0060'0000, kR | kX | kG));      // 2 MiB at VA 0x20'0000
  m.write_u64(0x3000 + 5 * 8, leaf(0x9000, kR | kW | kU | kA | kD));  // 4 KiB at VA 0x5000
  std::vector<WalkIssue> issues;
  auto ls = leaves(m, f, 0x1000, &issues);
  ASSERT_EQ(ls.size(), 3u);
  EXPECT_EQ(ls[0].va, 0x5000u);
  EXPECT_EQ(ls[0].size, 4096u);
  EXPECT_EQ(ls[0].pa, 0x9000u);
  EXPECT_TRUE(ls[0].rights.w && ls[0].rights.u && !ls[0].rights.x);
  EXPECT_EQ(ls[1].va, 0x20'0000u);
  EXPECT_EQ(ls[1].size, 1ull << 21);
  EXPECT_TRUE(!ls[1].rights.w && !ls[1].rights.u && ls[1].rights.x);
  EXPECT_EQ(ls[2].va, 0x4000'0000u);
  EXPECT_EQ(ls[2].size, 1ull << 30);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].kind, WalkIssueKind::reserved_bits);
  EXPECT_EQ(issues[0].va, 0x8000'0000u);
  EXPECT_FALSE(walk_one(m, f, 0x1000, 0x8000'1234).has_value()) << "a misaligned superpage faults";
  auto one = walk_one(m, f, 0x1000, 0x4123'4567);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->pa + (0x4123'4567 - one->va), 0x4123'4567u);
}

TEST(Riscv_4_4_Walk, HighHalfVaIsSignExtended) {
  SimMemory m;
  Format f({39});
  m.write_u64(0x1000 + 511 * 8, leaf(0xc000'0000, kR | kW));  // root[511]: VA bit 38 set
  auto ls = leaves(m, f, 0x1000);
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0].va, 0xffff'ffff'c000'0000ull);
}

TEST(Riscv_4_4_Canonical, PerMode) {
  Format sv39({39}), sv48({48}), sv57({57});
  EXPECT_TRUE(sv39.is_canonical(0x3f'ffff'ffffull));
  EXPECT_FALSE(sv39.is_canonical(0x40'0000'0000ull));
  EXPECT_TRUE(sv39.is_canonical(0xffff'ffc0'0000'0000ull));
  EXPECT_FALSE(sv39.is_canonical(0xffff'8000'0000'0000ull)) << "Sv48's kernel half is not Sv39's";
  EXPECT_TRUE(sv48.is_canonical(0xffff'8000'0000'0000ull));
  EXPECT_FALSE(sv48.is_canonical(0x8000'0000'0000ull));
  EXPECT_TRUE(sv57.is_canonical(0x8000'0000'0000ull));
  EXPECT_FALSE(sv57.is_canonical(0x100'0000'0000'0000ull));
  EXPECT_EQ(sv39.canonical(0x40'0000'0000ull), 0xffff'ffc0'0000'0000ull);
  EXPECT_THROW(Format({32}), std::invalid_argument);
}

TEST(Riscv_4_1_11_Satp, RootAndModeChecks) {
  EXPECT_EQ(root_from_satp(9ull << 60 | 7ull << 44 | 0x80123, 48), 0x8012'3000u) << "ASID bits ignored";
  EXPECT_EQ(root_from_satp(8ull << 60 | 0x1, 39), 0x1000u);
  EXPECT_EQ(root_from_satp(10ull << 60 | 0x1, 57), 0x1000u);
  EXPECT_THROW(root_from_satp(0x80123, 48), std::invalid_argument) << "Bare";
  EXPECT_THROW(root_from_satp(8ull << 60 | 0x80123, 48), std::invalid_argument) << "Sv39 satp, Sv48 format";
}

TEST(Riscv_4_3_2_AccessedDirty, HardwareUpdateSetsLeafBitsOnly) {
  Format f({48});
  std::uint64_t l = leaf(0x5000, kR | kW);
  EXPECT_EQ(f.mark_used(l, true, false), l | kA);
  EXPECT_EQ(f.mark_used(l, true, true), l | kA | kD);
  EXPECT_EQ(f.mark_used(ptr(0x5000), false, true), ptr(0x5000)) << "a pointer's A/D are reserved";
  EXPECT_FALSE(f.ad_faults(l, true)) << "hardware policy never faults on A/D";
}

TEST(Riscv_4_3_2_AccessedDirty, SvadeFaultsOnClearAOrDOnAStore) {
  Format f({48, true});
  EXPECT_TRUE(f.ad_faults(leaf(0x5000, kR | kW), false)) << "A = 0";
  EXPECT_FALSE(f.ad_faults(leaf(0x5000, kR | kW | kA), false));
  EXPECT_TRUE(f.ad_faults(leaf(0x5000, kR | kW | kA), true)) << "a store with D = 0";
  EXPECT_FALSE(f.ad_faults(leaf(0x5000, kR | kW | kA | kD), true));
}

TEST(Riscv_4_4_Walk, EngineBuildsSuperpagesAndSplitsThem) {
  SimMemory mem;
  FramePool pool(mem);
  Format f({39});
  RadixTable t(pool, f);
  LeafAttrs a;
  a.rights = {true, true, false};
  t.map(0x4000'0000, 0x8000'0000, 1ull << 30, a, 1ull << 30);  // one 1 GiB leaf
  auto one = walk_one(mem, f, t.root(), 0x4000'1000);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->size, 1ull << 30);
  t.unmap(0x4000'0000, 4096);  // splits to 2 MiB, then 4 KiB
  EXPECT_FALSE(walk_one(mem, f, t.root(), 0x4000'0000).has_value());
  auto rest = walk_one(mem, f, t.root(), 0x4000'1000);
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->size, 4096u);
  EXPECT_EQ(rest->pa, 0x8000'1000u);
  EXPECT_EQ(walk_one(mem, f, t.root(), 0x4020'0000)->size, 1ull << 21);
  Translation tr = t.translate(0x4000'1000, true, false);
  EXPECT_EQ(tr.fault, WalkFault::none);
  EXPECT_EQ(t.translate(0x4000'1000, false, true).fault, WalkFault::protection) << "X = 0";
  EXPECT_EQ(t.translate(0x40'0000'0000ull, false, false).fault, WalkFault::non_canonical);
}

TEST(Riscv_Mutants, CodecMutantsWriteWhatTheArchitectureRefuses) {
  Format arch({39});
  LeafAttrs a;
  a.rights = {true, false, false};
  Format wr({39, false, &kWriteWithoutRead});
  std::uint64_t raw = wr.encode_leaf(0x5000, 2, a);
  EXPECT_EQ(wr.reserved_bits(raw, 2), 0u) << "the mutant walks its own encoding";
  EXPECT_EQ(arch.reserved_bits(raw, 2), kW);
  Format user({39, false, &kUserAlwaysSet});
  EXPECT_TRUE(arch.leaf_attrs(user.encode_leaf(0x5000, 2, a), 2).rights.u);
  Format mis({39, false, &kMisalignedSuperpage});
  raw = mis.encode_leaf(0x4020'0000, 1, a);
  EXPECT_EQ(mis.address(raw, 1), 0x4020'0000u);
  EXPECT_EQ(mis.reserved_bits(raw, 1), 0u);
  EXPECT_NE(arch.reserved_bits(raw, 1), 0u) << "PPN 0x201 is misaligned for a 2 MiB leaf";
  Format dirty({39, false, &kDirtyNotSet});
  EXPECT_FALSE(dirty.mark_used(leaf(0x5000, kR | kW), true, true) & kD);
}
