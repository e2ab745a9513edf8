// NVIDIA VER3 entries ([NV-MMU3] gh100 dev_mmu.h: PTE VALID 0, APERTURE 2:1, PCF 7:3 with
// valid bits UNCACHED, PRIVILEGE, RO, NO_ATOMIC, ACD and invalid values INVALID, SPARSE,
// MAPPING_NOWHERE, NO_VALID_4KB_PAGE, KIND 11:8, ADDRESS 51:12, PEER_ID 63:61; PDE IS_PTE 0,
// APERTURE 2:1, PCF 5:3, ADDRESS 51:12; DUAL_PDE ADDRESS_BIG 51:8 (shift 8), APERTURE_SMALL
// 66:65, PCF_SMALL 69:67, ADDRESS_SMALL 115:76), the engine on the dual PDE, and the
// architectural walk with the big-page states and sparse encodings.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "nv_mmu_v3_format.hpp"
#include "nv_mmu_v3_mutants.hpp"
#include "nv_mmu_v3_walk.hpp"
#include "vmref/impl/frame_pool.hpp"
#include "vmref/impl/radix_table.hpp"
#include "vmref/impl/radix_walk.hpp"

using namespace vmref::impl;
using namespace vmref::impl::nv_mmu_v3;

namespace {
std::uint64_t pde_vid(std::uint64_t pa) { return pa | 1u << 1; }                 // ADDRESS 51:12 in place, APERTURE 1
std::uint64_t big_vid(std::uint64_t pa) { return pa | 1u << 1; }                 // ADDRESS_BIG 51:8 in place
std::uint64_t pte_vid(std::uint64_t pa, std::uint64_t bits = 0) { return pa | 1u | bits; }
std::uint64_t invalid_pcf(unsigned v) { return std::uint64_t{v} << 3; }        // VALID 0, PCF 7:3

std::vector<Leaf> own_walk(const SimMemory& m, const Format& f, std::uint64_t pdb, std::vector<WalkIssue>* issues = nullptr) {
  std::vector<Leaf> out;
  walk(m, f, pdb, [&](const Leaf& l) { out.push_back(l); }, [&](const WalkIssue& i) { if (issues) issues->push_back(i); });
  return out;
}

/// PD4 0x1000 -> PD3 0x2000 -> PD2 0x3000 -> PD1 0x5000 -> PD0 0x4000; VA 0 .. 2 MiB is PD0 entry 0.
void chain(SimMemory& m) {
  m.write_u64(0x1000, pde_vid(0x2000));
  m.write_u64(0x2000, pde_vid(0x3000));
  m.write_u64(0x3000, pde_vid(0x5000));
  m.write_u64(0x5000, pde_vid(0x4000));
}
}  // namespace

TEST(NvMmuV3_5_1_Levels, GeometryIsPd4ToPd0ThenPt) {
  Format f({});
  ASSERT_EQ(f.levels(), 6u);
  const unsigned shifts[] = {56, 47, 38, 29, 21, 12}, bits[] = {1, 9, 9, 9, 8, 9};
  for (unsigned l = 0; l < 6; ++l) {
    EXPECT_EQ(f.shift(l), shifts[l]);
    EXPECT_EQ(f.index_bits(l), bits[l]);
    EXPECT_EQ(f.entry_words(l), l == kPd0 ? 2u : 1u);
  }
  EXPECT_EQ(f.canonical(~0ull), ~0ull);
  EXPECT_EQ(f.canonical(1ull << 56), 0xff00'0000'0000'0000ull) << "choice V3-C9: bit 56 copied up";
  EXPECT_EQ(f.canonical((1ull << 56) - 1), (1ull << 56) - 1);
}

TEST(NvMmuV3_5_1_Levels, BlackwellAdds256GiBAtPd2) {
  EXPECT_TRUE(Format({kHopper}).leaf_allowed(kPd1)) << "512 MiB on Hopper";
  EXPECT_FALSE(Format({kHopper}).leaf_allowed(kPd2));
  EXPECT_TRUE(Format({kBlackwell}).leaf_allowed(kPd2)) << "kgmmuFmtInitLevels_GB10X marks level index 2";
  EXPECT_FALSE(Format({kBlackwell}).leaf_allowed(kPd3));
  EXPECT_THROW(Format({75}), std::invalid_argument);
}

TEST(NvMmuV3_5_2_Pte, LeafRoundTripsWithPcfBits) {
  Format f({kBlackwell});
  for (unsigned level : {kPt, kPd0, kPd1, kPd2}) {
    std::uint64_t pa = 0x40'0000'0000ull;  // 256 GiB aligned
    for (unsigned bits = 0; bits < 64; ++bits) {
      LeafAttrs a;
      a.rights = {static_cast<bool>(bits & 1), static_cast<bool>(bits & 2), static_cast<bool>(bits & 4)};
      a.global = bits & 8;
      a.accessed = bits & 16;
      a.dirty = bits & 32;
      a.soft = bits & 3;
      std::uint64_t raw = f.encode_leaf(pa, level, a);
      EXPECT_EQ(aperture(raw), kPteVid);
      EXPECT_EQ((pcf(raw) >> 1 & 1) != 0, !a.rights.u) << "PCF bit 1 is PRIVILEGE";
      EXPECT_EQ((pcf(raw) >> 2 & 1) != 0, !a.rights.w) << "PCF bit 2 is RO";
      EXPECT_EQ(pcf(raw) >> 4 & 1, 1u) << "ACD, as nouveau writes";
      EXPECT_EQ(f.reserved_bits(raw, level), 0u);
      EXPECT_EQ(f.address(raw, level), pa);
      EXPECT_EQ(f.leaf_attrs(raw, level), a);
    }
  }
}

TEST(NvMmuV3_5_2_Pte, SwappedPcfMutantIsReadAsTheOtherRight) {
  Format bad({kHopper, &kPcfSwapped}), arch({});
  LeafAttrs ro;
  ro.rights = {false, true, false};
  std::uint64_t raw = bad.encode_leaf(0x5000, kPt, ro);
  EXPECT_EQ(bad.leaf_attrs(raw, kPt).rights, ro.rights);
  EXPECT_TRUE(arch.leaf_attrs(raw, kPt).rights.w) << "the GMMU sees a writable page";
  EXPECT_FALSE(arch.leaf_attrs(raw, kPt).rights.u) << "and a privileged one";
}

TEST(NvMmuV3_5_3_Pde, PresentIffApertureAndIsPteMakesALeaf) {
  Format f({});
  std::uint64_t raw = f.encode_table(0x8020'3000);
  EXPECT_EQ(raw, pde_vid(0x8020'3000));
  EXPECT_EQ(pcf(raw), 0u) << "PCF 0, as the Rust GPU driver writes for VRAM";
  EXPECT_FALSE(f.decode(invalid_pcf(1), kPd2).present) << "aperture 0, PCF sparse";
  EXPECT_NE(f.decode(pte_vid(0x80'0000'0000ull), kPd3).reserved, "") << "no page size at PD3";
  EXPECT_NE(f.decode(pte_vid(0x40'0000'0000ull), kPd2).reserved, "") << "256 GiB on Blackwell only";
  EXPECT_EQ(Format({kBlackwell}).decode(pte_vid(0x40'0000'0000ull), kPd2).reserved, "");
  EXPECT_NE(f.decode(pte_vid(0x20'1000), kPd0).reserved, "") << "misaligned 2 MiB page";
  EXPECT_NE(f.decode(pte_vid(0x5000, 1ull << kPeerShift), kPt).reserved, "") << "PEER_ID in a vidmem PTE";
}

TEST(NvMmuV3_5_3_DualPde, SmallHalfInTheUpperWord) {
  Format f({});
  std::uint64_t w[2] = {0, 0};
  f.store(w, kPd0, f.encode_table(0x5000));
  EXPECT_EQ(w[0], 0u);
  EXPECT_EQ(w[1], pde_vid(0x5000)) << "APERTURE_SMALL 66:65, ADDRESS_SMALL 115:76";
  EXPECT_EQ(f.load(w, kPd0), pde_vid(0x5000));
  w[0] = big_vid(0x6100);
  std::uint64_t v = f.load(w, kPd0);
  EXPECT_EQ(v & kViewBigInUse, kViewBigInUse);
  EXPECT_NE(f.decode(v, kPd0).reserved, "");
  Format bad({kHopper, &kSmallHalfShift8});
  std::uint64_t b[2] = {0, 0};
  bad.store(b, kPd0, bad.encode_table(0x5000));
  EXPECT_EQ(bad.address(bad.load(b, kPd0), kPd0), 0x5000u);
  EXPECT_EQ(f.address(f.load(b, kPd0), kPd0), 0x50000u) << "the GMMU reads 16 times the address";
}

TEST(NvMmuV3_5_3_Engine, RadixTableMapsThroughTheDualPde) {
  SimMemory mem;
  FramePool pool(mem);
  Format f({});
  RadixTable t(pool, f);
  LeafAttrs rw;
  t.map(0x100'0000'0000'0000ull, 0x40'0000, 0x3000, rw);  // VA bit 56: PD4 entry 1
  t.map(0x1'0020'0000ull, 0x80'0000, 0x20'0000, rw, 0x20'0000);
  auto m = t.lookup(0x100'0000'0000'1000ull);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pa, 0x40'1000u);
  auto big = walk_one(mem, f, t.root(), 0x1'0020'1234ull);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->size, 0x20'0000u);
  std::vector<Leaf> own = own_walk(mem, f, t.root());
  ASSERT_EQ(own.size(), 4u);
  EXPECT_EQ(own[0].size, 0x20'0000u);
  EXPECT_EQ(own[1].va, 0x100'0000'0000'0000ull);
  t.unmap(0x100'0000'0000'0000ull, 0x3000);
  t.unmap(0x1'0020'0000ull, 0x20'0000);
  EXPECT_TRUE(t.empty());
}

TEST(NvMmuV3_5_2_BigPageStates, PcfDecidesWhetherSmallPtesAreRead) {
  EXPECT_EQ(big_state(0), BigState::unmapped);
  EXPECT_EQ(big_state(invalid_pcf(kPcfSparse)), BigState::sparse);
  EXPECT_EQ(big_state(invalid_pcf(kPcfNoValid4K)), BigState::invalid);
  EXPECT_EQ(big_state(invalid_pcf(kPcfMappingNowhere)), BigState::invalid);
  EXPECT_EQ(big_state(pte_vid(0x10000)), BigState::valid);
  // PD0[0]: big PT 0x6100, small PT 0x7000. Chunk 0 V; 1 U (small shows); 2 I; 3 S.
  SimMemory m;
  chain(m);
  m.write_u64(0x4000, big_vid(0x6100));
  m.write_u64(0x4008, pde_vid(0x7000));
  m.write_u64(0x6100, pte_vid(0x10'0000));
  m.write_u64(0x6100 + 16, invalid_pcf(kPcfNoValid4K));
  m.write_u64(0x6100 + 24, invalid_pcf(kPcfSparse));
  m.write_u64(0x7000 + 8 * 16, pte_vid(0x20'0000, kReadOnly));
  m.write_u64(0x7000 + 8 * 32, pte_vid(0x30'0000));
  m.write_u64(0x7000 + 8 * 48, pte_vid(0x40'0000));
  std::vector<WalkIssue> issues;
  std::vector<Leaf> l = own_walk(m, Format({}), 0x1000, &issues);
  EXPECT_TRUE(issues.empty());
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].size, 0x10000u);
  EXPECT_EQ(l[1].va, 0x10000u);
  EXPECT_FALSE(l[1].rights.w);
}

TEST(NvMmuV3_5_3_Sparse, SparseDualPdeNeedsBothAperturesZero) {
  SimMemory m;
  chain(m);
  m.write_u64(0x4000, invalid_pcf(kPcfSparse));     // PD0[0]: PCF_BIG SPARSE, no pointer
  m.write_u64(0x4010, invalid_pcf(kPcfSparse));     // PD0[1]: the same with a small pointer
  m.write_u64(0x4018, pde_vid(0x7000));
  m.write_u64(0x7000, invalid_pcf(kPcfSparse));     // a sparse small PTE
  m.write_u64(0x7008, pte_vid(0x9000));
  std::vector<Leaf> l = own_walk(m, Format({}), 0x1000);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].va, 0x20'1000u);
  EXPECT_TRUE(dual_pde_sparse(invalid_pcf(kPcfSparse), 0));
  EXPECT_FALSE(dual_pde_sparse(invalid_pcf(kPcfSparse), pde_vid(0x7000)));
}

TEST(NvMmuV3_Pdb, RootRegisterIsTheAlignedPdb) {
  EXPECT_EQ(pdb_address(0x20'0000), 0x20'0000u);
  EXPECT_THROW(pdb_address(0x20'0100), std::invalid_argument);
  EXPECT_THROW(pdb_address(1ull << 53), std::invalid_argument);
}
