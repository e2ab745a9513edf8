// The x86-64 TLB against the invalidation rules of Intel SDM Vol 3A §4.10.4.1 and Vol 2
// (INVLPG, INVPCID, MOV to CR3), and the PCID-aware Mmu built on it.
#include <gtest/gtest.h>

#include <map>

#include "x86_64_tlb.hpp"
#include "x86_64_mutants.hpp"

using namespace vmref::impl;
using namespace vmref::impl::x86_64;

namespace {
Translation tr(std::uint64_t pa, bool global = false) {
  Translation t;
  t.page_pa = pa;
  t.pa = pa;
  t.page_size = 4096;
  t.rights = {true, true, true};
  t.global = global;
  return t;
}
bool holds(const Tlb& t, std::uint16_t pcid, std::uint64_t va) { return t.find(pcid, va) != nullptr; }
}  // namespace

TEST(X86Tlb, InvlpgReachesTheCurrentPcidAndGlobalsOnly) {
  Tlb t;
  t.fill(1, 0x1000, tr(0xa000));
  t.fill(2, 0x1000, tr(0xb000));
  t.fill(3, 0x1000, tr(0xc000, true));
  t.invlpg(1, 0x1fff);
  EXPECT_FALSE(holds(t, 1, 0x1000));
  EXPECT_TRUE(holds(t, 2, 0x1000)) << "another PCID's entry survives INVLPG (SDM Vol 2 INVLPG)";
  EXPECT_FALSE(holds(t, 3, 0x1000)) << "global entries for the page go whatever their PCID";
}

TEST(X86Tlb, InvpcidTypes) {
  Tlb t;
  auto fill = [&] {
    t.fill(1, 0x1000, tr(0xa000));
    t.fill(1, 0x2000, tr(0xa100));
    t.fill(1, 0x3000, tr(0xa200, true));
    t.fill(2, 0x1000, tr(0xb000));
  };
  fill();
  t.invpcid(0, 1, 0x1000);  // individual address, except globals
  EXPECT_FALSE(holds(t, 1, 0x1000));
  EXPECT_TRUE(holds(t, 1, 0x2000));
  EXPECT_TRUE(holds(t, 2, 0x1000));
  t.invpcid(0, 1, 0x3000);
  EXPECT_TRUE(holds(t, 1, 0x3000)) << "type 0 keeps global translations";
  t.invpcid(1, 1, 0);  // single context, except globals
  EXPECT_FALSE(holds(t, 1, 0x2000));
  EXPECT_TRUE(holds(t, 1, 0x3000));
  EXPECT_TRUE(holds(t, 2, 0x1000));
  t.invpcid(3, 0, 0);  // all contexts, retaining globals
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(holds(t, 1, 0x3000));
  fill();
  t.invpcid(2, 0, 0);  // all contexts, globals included
  EXPECT_EQ(t.size(), 0u);
  EXPECT_THROW(t.invpcid(4, 0, 0), std::invalid_argument);
}

TEST(X86Tlb, MovToCr3FlushesTheNewPcidUnlessBit63IsSet) {
  Tlb t;
  t.fill(1, 0x1000, tr(0xa000));
  t.fill(1, 0x2000, tr(0xa100, true));
  t.fill(2, 0x1000, tr(0xb000));
  t.mov_cr3(1, true);
  EXPECT_EQ(t.size(), 3u);
  t.mov_cr3(1, false);
  EXPECT_FALSE(holds(t, 1, 0x1000));
  EXPECT_TRUE(holds(t, 1, 0x2000)) << "global entries survive CR3 writes";
  EXPECT_TRUE(holds(t, 2, 0x1000));
  t.set_pge(false);  // a CR4.PGE change flushes everything
  EXPECT_EQ(t.size(), 0u);
  t.fill(1, 0x2000, tr(0xa100, true));
  t.mov_cr3(1, false);
  EXPECT_FALSE(holds(t, 1, 0x2000)) << "with CR4.PGE = 0 the G bit is ignored";
}

TEST(X86Tlb, MutantsBreakTheRules) {
  Tlb a(true, &kCr3DropsGlobals);
  a.fill(1, 0x2000, tr(0xa100, true));
  a.mov_cr3(2, true);
  EXPECT_EQ(a.size(), 0u);
  Tlb b(true, &kInvpcid2KeepsGlobals);
  b.fill(1, 0x2000, tr(0xa100, true));
  b.invpcid(2, 0, 0);
  EXPECT_EQ(b.size(), 1u);
}

TEST(X86Mmu, InvalidatesAnotherPcidWithInvpcidAndTheCurrentWithInvlpg) {
  x86_64::Mmu m(1);
  m.load(0, 1, 0x1000, 1);
  m.fill(0, 0x5000, tr(0xa000));
  m.load(0, 2, 0x2000, 2);
  m.fill(0, 0x5000, tr(0xb000));
  m.invalidate_page(0, 1, 0x5000, false);  // PCID 1 is not current: INVPCID type 0
  EXPECT_FALSE(holds(m.tlb(0), 1, 0x5000));
  EXPECT_TRUE(holds(m.tlb(0), 2, 0x5000));
  x86_64::Mmu bad(1, &kInvlpgIgnoresPcid);
  bad.load(0, 1, 0x1000, 1);
  bad.fill(0, 0x5000, tr(0xa000));
  bad.load(0, 2, 0x2000, 2);
  bad.invalidate_page(0, 1, 0x5000, false);  // INVLPG under PCID 2 misses PCID 1's entry
  EXPECT_TRUE(holds(bad.tlb(0), 1, 0x5000));
}

namespace {
/// A 4 KiB leaf reached through a 4-level walk: PML4 entry -> PDPT `pdpt`, PDPTE -> PD
/// `pd`, PDE -> PT `pt`.
Translation walked(std::uint64_t pa, std::uint64_t pdpt, std::uint64_t pd, std::uint64_t pt) {
  Translation t = tr(pa);
  t.leaf_level = 3;
  t.next_table = {pdpt, pd, pt};
  return t;
}
std::size_t walks_of(const Tlb& t, std::uint16_t pcid) {
  std::size_t n = 0;
  t.each_walk([&](const WalkCached& w) { n += w.ctx == pcid; });
  return n;
}
}  // namespace

TEST(X86Tlb, AWalkCachesEachUpperEntryItUsed) {
  Tlb t;
  t.fill(1, 0x40201000, walked(0xa000, 0x5000, 0x6000, 0x7000));
  std::map<unsigned, WalkCached> by_level;
  t.each_walk([&](const WalkCached& w) { by_level[w.level] = w; });
  ASSERT_EQ(by_level.size(), 3u) << "PML4E, PDPTE and PDE caches (SDM Vol 3A §4.10.3.1)";
  EXPECT_EQ(by_level[0].size, 1ull << 39);
  EXPECT_EQ(by_level[0].table, 0x5000u);
  EXPECT_EQ(by_level[1].va, 0x40000000u);
  EXPECT_EQ(by_level[1].size, 1ull << 30);
  EXPECT_EQ(by_level[2].va, 0x40200000u);
  EXPECT_EQ(by_level[2].size, 1ull << 21);
  EXPECT_EQ(by_level[2].table, 0x7000u);
}

TEST(X86Tlb, WalkEntriesGoAsSdm41041Says) {
  Tlb t;
  t.fill(1, 0x1000, walked(0xa000, 0x5000, 0x6000, 0x7000));
  t.fill(1, 0x40000000, walked(0xb000, 0x5000, 0x8000, 0x9000));
  t.fill(2, 0x1000, walked(0xc000, 0x15000, 0x16000, 0x17000));
  EXPECT_EQ(walks_of(t, 1), 5u) << "one PML4E entry shared by both walks";
  t.invpcid(0, 1, 0x1000);
  EXPECT_EQ(walks_of(t, 1), 2u) << "type 0 drops the PCID's entries used to translate the address only";
  EXPECT_EQ(walks_of(t, 2), 3u);
  t.mov_cr3(2, true);
  EXPECT_EQ(walks_of(t, 2), 3u) << "MOV to CR3 with bit 63 set keeps them";
  t.invlpg(2, 0x7fff0000);
  EXPECT_EQ(walks_of(t, 2), 0u) << "INVLPG drops every walk entry of the current PCID, whatever the address";
  EXPECT_EQ(walks_of(t, 1), 2u);
  t.invpcid(1, 1, 0);
  EXPECT_EQ(t.walk_count(), 0u);
}

TEST(X86Tlb, Invpcid0KeepsWalksMutantKeepsThem) {
  Tlb t(true, &kInvpcid0KeepsWalks);
  t.fill(1, 0x1000, walked(0xa000, 0x5000, 0x6000, 0x7000));
  t.invpcid(0, 1, 0x1000);
  EXPECT_FALSE(holds(t, 1, 0x1000));
  EXPECT_EQ(walks_of(t, 1), 3u);
}

TEST(X86Tlb, FiveLevelAddressesDifferingAboveBit47AreDistinctEntries) {
  Tlb t;  // with CR4.LA57 the VA has 57 bits (SDM Vol 3A §4.5)
  t.fill(1, 0x0001000000001000, tr(0xa000));
  t.fill(1, 0x0000000000001000, tr(0xb000));
  ASSERT_NE(t.find(1, 0x0001000000001000), nullptr);
  EXPECT_EQ(t.find(1, 0x0001000000001000)->pa, 0xa000u);
  EXPECT_EQ(t.find(1, 0x1000)->pa, 0xb000u);
}
