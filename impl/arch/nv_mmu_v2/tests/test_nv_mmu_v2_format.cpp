// NVIDIA VER2 entries ([NV-MMU2] tu102 dev_mmu.h: PTE VALID 0, APERTURE 2:1, VOL 3,
// PRIVILEGE 5, READ_ONLY 6, ADDRESS_VID 32:8; PDE IS_PTE 0, APERTURE 2:1; DUAL_PDE big
// half ADDRESS_BIG_VID 32:4 shift 8, small half APERTURE_SMALL 66:65, ADDRESS_SMALL_VID
// 96:72 shift 12), the engine on the dual PDE, and the architectural walk with the big-page
// states and sparse encodings ([NV-PASCAL]).
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "nv_mmu_v2_format.hpp"
#include "nv_mmu_v2_mutants.hpp"
#include "nv_mmu_v2_walk.hpp"
#include "vmref/impl/frame_pool.hpp"
#include "vmref/impl/radix_table.hpp"
#include "vmref/impl/radix_walk.hpp"

using namespace vmref::impl;
using namespace vmref::impl::nv_mmu_v2;

namespace {
// Hand-built words from the field definitions above.
std::uint64_t pde_vid(std::uint64_t pa) { return (pa >> 12) << 8 | 1u << 1; }       // APERTURE 1 = VIDEO
std::uint64_t big_vid(std::uint64_t pa) { return (pa >> 8) << 4 | 1u << 1; }        // shift 8
std::uint64_t pte_vid(std::uint64_t pa, std::uint64_t bits = 0) { return (pa >> 12) << 8 | 1u | bits; }  // aperture 0

std::vector<Leaf> own_walk(const SimMemory& m, const Format& f, std::uint64_t pdb, std::vector<WalkIssue>* issues = nullptr) {
  std::vector<Leaf> out;
  walk(m, f, pdb, [&](const Leaf& l) { out.push_back(l); }, [&](const WalkIssue& i) { if (issues) issues->push_back(i); });
  return out;
}

/// PD3 0x1000 -> PD2 0x2000 -> PD1 0x3000 -> PD0 0x4000; VA 0 .. 2 MiB is PD0 entry 0.
void chain(SimMemory& m) {
  m.write_u64(0x1000, pde_vid(0x2000));
  m.write_u64(0x2000, pde_vid(0x3000));
  m.write_u64(0x3000, pde_vid(0x4000));
}
}  // namespace

TEST(NvMmuV2_5_1_Levels, GeometryIsPd3ToPd0ThenPt) {
  Format f({});
  ASSERT_EQ(f.levels(), 5u);
  const unsigned shifts[] = {47, 38, 29, 21, 12}, bits[] = {2, 9, 9, 8, 9};
  for (unsigned l = 0; l < 5; ++l) {
    EXPECT_EQ(f.shift(l), shifts[l]);
    EXPECT_EQ(f.index_bits(l), bits[l]);
    EXPECT_EQ(f.entry_words(l), l == kPd0 ? 2u : 1u) << "16-byte dual PDE at PD0 only";
    EXPECT_EQ((1u << bits[l]) * f.entry_words(l) * 8 <= 4096, true);
  }
  EXPECT_EQ(f.canonical(0x1'0000'0000'1000ull), 0xffff'0000'0000'1000ull) << "choice V2-C9: bit 48 copied up";
  EXPECT_EQ(f.canonical(0xffff'ffff'f000ull), 0xffff'ffff'f000ull);
  EXPECT_EQ(f.canonical(0xffff'ffff'ffff'f000ull), 0xffff'ffff'ffff'f000ull);
}

TEST(NvMmuV2_5_1_Levels, LeafSizesDependOnTheGeneration) {
  EXPECT_TRUE(Format({kTuring}).leaf_allowed(kPt));
  EXPECT_TRUE(Format({kTuring}).leaf_allowed(kPd0));
  EXPECT_FALSE(Format({kTuring}).leaf_allowed(kPd1)) << "512 MiB from GA10X only";
  EXPECT_TRUE(Format({kAmpere}).leaf_allowed(kPd1));
  EXPECT_TRUE(Format({kAda}).leaf_allowed(kPd1));
  EXPECT_FALSE(Format({kAda}).leaf_allowed(kPd2));
  EXPECT_THROW(Format({90}), std::invalid_argument);
}

TEST(NvMmuV2_5_2_Pte, LeafRoundTripsAndSetsTheManualsBits) {
  Format f({kAmpere});
  for (unsigned level : {kPt, kPd0, kPd1}) {
    std::uint64_t pa = 0x10'0000'0000ull;  // 64 GiB, 512 MiB aligned, inside ADDRESS_VID
    for (unsigned bits = 0; bits < 64; ++bits) {
      LeafAttrs a;
      a.rights = {static_cast<bool>(bits & 1), static_cast<bool>(bits & 2), static_cast<bool>(bits & 4)};
      a.global = bits & 8;
      a.accessed = bits & 16;
      a.dirty = bits & 32;
      a.soft = bits & 3;
      std::uint64_t raw = f.encode_leaf(pa, level, a);
      EXPECT_EQ(raw & kValid, kValid);
      EXPECT_EQ(aperture(raw), kPteVid);
      EXPECT_EQ((raw & kReadOnly) != 0, !a.rights.w);
      EXPECT_EQ((raw & kPrivilege) != 0, !a.rights.u);
      EXPECT_EQ(raw >> kKindShift, 0u) << "kind 0 (pitch)";
      EXPECT_TRUE(f.is_leaf(raw, level));
      EXPECT_EQ(f.reserved_bits(raw, level), 0u);
      EXPECT_EQ(f.address(raw, level), pa);
      EXPECT_EQ(f.leaf_attrs(raw, level), a);
    }
  }
}

TEST(NvMmuV2_5_2_Pte, SysmemAddressUsesTheWideField) {
  Format f({});
  std::uint64_t raw = (0x3'0000'0000'0000ull >> 12) << 8 | 1u | 2u << 1;  // SYSTEM_COHERENT, PA bit 49
  EXPECT_EQ(f.address(raw, kPt), 0x3'0000'0000'0000ull);
  std::uint64_t vid = (0x1'0000'0000'0000ull >> 12) << 8 | 1u;  // the same bits as VIDEO: 32:8 only
  EXPECT_EQ(f.address(vid, kPt), 0u);
}

TEST(NvMmuV2_5_3_Pde, PresentIffApertureAndIsPteMakesALeaf) {
  Format f({});
  std::uint64_t raw = f.encode_table(0x8020'3000);
  EXPECT_EQ(raw, pde_vid(0x8020'3000));
  EXPECT_TRUE(f.is_present(raw));
  EXPECT_FALSE(f.is_leaf(raw, kPd2));
  EXPECT_FALSE(f.decode(kVol, kPd2).present) << "aperture 0 with VOL: sparse, not present";
  EXPECT_FALSE(f.decode(0x1234'5600, kPd1).present) << "aperture 0: the other fields are undefined";
  Entry e = f.decode(pte_vid(0x8000'0000), kPd2);
  EXPECT_TRUE(e.leaf);
  EXPECT_NE(e.reserved, "") << "no page size at PD2 in v2";
  EXPECT_NE(f.decode(pte_vid(0x2000'0000), kPd1).reserved, "") << "Turing has no 512 MiB page";
  EXPECT_EQ(Format({kAmpere}).decode(pte_vid(0x2000'0000), kPd1).reserved, "");
  EXPECT_NE(f.decode(pte_vid(0x20'1000), kPd0).reserved, "") << "misaligned 2 MiB page";
  EXPECT_FALSE(f.decode(2u << 1, kPt).present) << "a PTE is present iff VALID";
}

TEST(NvMmuV2_5_3_DualPde, SmallHalfInTheUpperWordBigHalfKept) {
  Format f({});
  std::uint64_t w[2] = {0, 0};
  f.store(w, kPd0, f.encode_table(0x5000));
  EXPECT_EQ(w[0], 0u) << "the big half stays invalid (all zero, not IS_PTE)";
  EXPECT_EQ(w[1], pde_vid(0x5000)) << "APERTURE_SMALL 66:65, ADDRESS_SMALL_VID 96:72";
  EXPECT_EQ(f.load(w, kPd0), pde_vid(0x5000));
  f.store(w, kPd0, f.encode_leaf(0x20'0000, kPd0, {}));
  EXPECT_EQ(w[0] & kValid, kValid) << "a 2 MiB PTE fills the low word";
  EXPECT_EQ(w[1], 0u);
  f.store(w, kPd0, 0);
  EXPECT_EQ(w[0] | w[1], 0u);
  // A big half in use shows in the view, and the generic engine leaves it alone.
  w[0] = big_vid(0x6100);
  w[1] = pde_vid(0x7000);
  std::uint64_t v = f.load(w, kPd0);
  EXPECT_EQ(v & kViewBigInUse, kViewBigInUse);
  EXPECT_NE(f.decode(v, kPd0).reserved, "");
  f.store(w, kPd0, v);
  EXPECT_EQ(w[0], big_vid(0x6100));
}

TEST(NvMmuV2_5_3_DualPde, MutantWritesTheSmallHalfWithShift8) {
  Format bad({kTuring, &kSmallHalfShift8}), arch({});
  std::uint64_t w[2] = {0, 0};
  bad.store(w, kPd0, bad.encode_table(0x5000));
  EXPECT_EQ(bad.address(bad.load(w, kPd0), kPd0), 0x5000u) << "the mutant reads its own writes back";
  EXPECT_EQ(arch.address(arch.load(w, kPd0), kPd0), 0x50000u) << "the GMMU reads 16 times the address";
}

TEST(NvMmuV2_5_3_Engine, RadixTableMapsThroughTheDualPde) {
  SimMemory mem;
  FramePool pool(mem);
  Format f({});
  RadixTable t(pool, f);
  LeafAttrs rw;
  t.map(0x1'0000'0000ull, 0x40'0000, 0x3000, rw);
  t.map(0x1'0020'0000ull, 0x80'0000, 0x20'0000, rw, 0x20'0000);
  auto m = t.lookup(0x1'0000'1000ull);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pa, 0x40'1000u);
  auto big = walk_one(mem, f, t.root(), 0x1'0020'1234ull);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->size, 0x20'0000u);
  EXPECT_EQ(big->level, kPd0);
  std::vector<Leaf> own = own_walk(mem, f, t.root());
  ASSERT_EQ(own.size(), 4u);
  EXPECT_EQ(own[3].size, 0x20'0000u);
  Translation tr = t.translate(0x1'0000'2010ull, true, false);
  EXPECT_EQ(tr.fault, WalkFault::none);
  EXPECT_EQ(tr.pa, 0x40'2010u);
  EXPECT_TRUE(t.lookup(0x1'0000'2000ull)->attrs.dirty);
  t.unmap(0x1'0000'0000ull, 0x3000);
  t.unmap(0x1'0020'0000ull, 0x20'0000);
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.table_pages(), 1u);
}

TEST(NvMmuV2_5_2_BigPageStates, EachStateDecidesWhetherSmallPtesAreRead) {
  EXPECT_EQ(big_state(0), BigState::unmapped);
  EXPECT_EQ(big_state(kPrivilege), BigState::invalid);
  EXPECT_EQ(big_state(kVol), BigState::sparse);
  EXPECT_EQ(big_state(kVol | kPrivilege), BigState::invalid);
  EXPECT_EQ(big_state(pte_vid(0x10000)), BigState::valid);
  // PD0[0]: big PT at 0x6100 (256-byte aligned), small PT at 0x7000. Chunk 0: V (64 KiB
  // page at 0x100000); chunk 1: U, small PTE at VA 0x10000; chunk 2: I, small PTE hidden;
  // chunk 3: S, small PTE hidden; chunk 4: U with no small PTE.
  SimMemory m;
  chain(m);
  m.write_u64(0x4000, big_vid(0x6100));
  m.write_u64(0x4008, pde_vid(0x7000));
  m.write_u64(0x6100, pte_vid(0x10'0000));
  m.write_u64(0x6100 + 16, kPrivilege);
  m.write_u64(0x6100 + 24, kVol);
  m.write_u64(0x7000 + 8 * 16, pte_vid(0x20'0000, kReadOnly));
  m.write_u64(0x7000 + 8 * 32, pte_vid(0x30'0000));
  m.write_u64(0x7000 + 8 * 48, pte_vid(0x40'0000));
  m.write_u64(0x7000 + 8 * 0, pte_vid(0x50'0000)) /* hidden by the valid big PTE */;
  std::vector<WalkIssue> issues;
  std::vector<Leaf> l = own_walk(m, Format({}), 0x1000, &issues);
  EXPECT_TRUE(issues.empty());
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].va, 0u);
  EXPECT_EQ(l[0].size, 0x10000u);
  EXPECT_EQ(l[0].pa, 0x10'0000u);
  EXPECT_EQ(l[1].va, 0x10000u);
  EXPECT_EQ(l[1].size, 0x1000u);
  EXPECT_FALSE(l[1].rights.w);
}

TEST(NvMmuV2_5_3_Sparse, SparseDualPdeAndSparsePteMapNothing) {
  SimMemory m;
  chain(m);
  m.write_u64(0x4000, kVol);                         // PD0[0]: both apertures 0, VOL_BIG: sparse
  m.write_u64(0x4010, kVol);                         // PD0[1]: VOL_BIG but a small pointer: not sparse
  m.write_u64(0x4018, pde_vid(0x7000));
  m.write_u64(0x7000, kVol);                         // a sparse small PTE (VALID 0, VOL 1)
  m.write_u64(0x7008, pte_vid(0x9000));
  std::vector<Leaf> l = own_walk(m, Format({}), 0x1000);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].va, 0x20'1000u);
  EXPECT_TRUE(dual_pde_sparse(kVol, 0));
  EXPECT_FALSE(dual_pde_sparse(kVol, pde_vid(0x7000)));
}

TEST(NvMmuV2_5_3_Walk, HostileTablesEndWithIssues) {
  SimMemory m;
  m.write_u64(0x1000, pde_vid(0x1000));  // PD3 -> itself
  m.write_u64(0x1008, pde_vid(0x7fff'f000));  // beyond the memory
  std::vector<WalkIssue> issues;
  own_walk(m, Format({}), 0x1000, &issues);
  EXPECT_FALSE(issues.empty());
}

TEST(NvMmuV2_Pdb, RootRegisterIsTheAlignedPdb) {
  EXPECT_EQ(pdb_address(0x20'0000), 0x20'0000u);
  EXPECT_THROW(pdb_address(0x20'0100), std::invalid_argument);
  EXPECT_THROW(pdb_address(1ull << 40), std::invalid_argument);
}
