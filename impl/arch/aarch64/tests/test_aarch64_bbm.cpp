// Break-before-make as an automaton per table entry (Arm ARM DDI 0487 D8.16.1; the
// valid / invalid-unclean / invalid-clean states of [CASEMATE]): what each rule lets
// change on a live entry, the sequence that makes a change legal, which TLBIs clean which
// entries, and the engine's writes reaching it through the Mmu.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aarch64_bbm.hpp"
#include "aarch64_format.hpp"
#include "aarch64_tlb.hpp"
#include "vmref/impl/frame_pool.hpp"
#include "vmref/impl/radix_table.hpp"

using namespace vmref::impl;
using namespace vmref::impl::aarch64;
namespace a = vmref::impl::aarch64::arith;

namespace {
Format geometry() { return Format(Config{4, 48, false, nullptr}); }
const Format kFmt = geometry();
LeafAttrs user_rw() { return LeafAttrs{{true, true, false}, false, true, true}; }
std::uint64_t page(std::uint64_t pa, const LeafAttrs& at = user_rw()) { return kFmt.encode_leaf(pa, 3, at); }

std::vector<std::string> take(const BreakBeforeMake& b) {
  std::vector<std::string> out;
  b.take([&](const char* id, const std::string& m) { out.push_back(std::string(id) + ": " + m); });
  return out;
}
constexpr std::uint64_t kEntry = 0x5028, kVa = 0x5000;

/// A successful walk for `va` that read the entry at `entry` (at engine `level`).
void walk_through(BreakBeforeMake& b, std::uint64_t entry, unsigned level, std::uint64_t va) {
  Translation t;
  t.leaf_level = 3;
  for (unsigned l = 0; l < 3; ++l) t.next_table[l] = 0x10'0000 + l * 0x1000;
  std::uint64_t table = entry - ((va >> kFmt.shift(level)) & ((1ull << kFmt.index_bits(level)) - 1)) * 8;
  if (level > 0) t.next_table[level - 1] = table;
  b.walked(level == 0 ? table : 0x20'0000, va, t);
}
}  // namespace

TEST(Aarch64_D8_16_Bbm, WhatEachRuleLetsChangeOnALiveEntry) {
  const unsigned p = 12;
  std::uint64_t old = page(0x9000);
  auto need = [&](std::uint64_t now, BbmRule r) { return !bbm_change(old, true, now, true, p, r).empty(); };
  for (BbmRule r : {BbmRule::architecture, BbmRule::allow_list, BbmRule::bbml2}) {
    EXPECT_TRUE(need(page(0xa000), r)) << "output address, " << to_string(r);
    EXPECT_FALSE(need(old | a::kApRdonly, r)) << "AP[2], " << to_string(r);
    EXPECT_FALSE(need(old & ~a::kPxn, r)) << "PXN, " << to_string(r);
    EXPECT_TRUE(need(old & ~kNg, r)) << "nG 1 -> 0, " << to_string(r);
    EXPECT_TRUE(need(old | 1ull << kAttrIndxShift, r)) << "AttrIndx, " << to_string(r);
  }
  EXPECT_FALSE(need(old & ~a::kUxn, BbmRule::architecture)) << "UXN is a permission";
  EXPECT_TRUE(need(old & ~a::kUxn, BbmRule::allow_list)) << "not in the allow-list";
  EXPECT_TRUE(need(old | kContiguous, BbmRule::architecture));
  EXPECT_FALSE(need(old | kContiguous, BbmRule::bbml2));
  std::uint64_t block = kFmt.encode_leaf(0x20'0000, 2, user_rw()), table = kFmt.encode_table(0x7000);
  EXPECT_FALSE(bbm_change(block, true, table, false, p, BbmRule::architecture).empty()) << "a split";
  EXPECT_TRUE(bbm_change(block, true, table, false, p, BbmRule::bbml2).empty());
  EXPECT_FALSE(bbm_change(table, false, kFmt.encode_table(0x8000), false, p, BbmRule::bbml2).empty());
}

TEST(Aarch64_D8_16_Bbm, InvalidTlbiDsbThenNewIsTheOnlyWayToChangeTheOutputAddress) {
  // valid -> valid
  BreakBeforeMake b(kFmt, BbmRule::architecture);
  b.written(kEntry, 3, kVa, page(0x9000), page(0xa000));
  std::vector<std::string> f = take(b);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].find("DIFF-BBM: entry at PA 0x5028 (level 3, VA 0x5000): the output address 0x9000 -> 0xa000"),
            std::string::npos) << f[0];
  // invalid, then the new value before any TLBI: invalid-unclean -> valid
  walk_through(b, kEntry, 3, kVa);
  b.written(kEntry, 3, kVa, page(0xa000), 0);
  EXPECT_EQ(b.unclean(), 1u);
  b.written(kEntry, 3, kVa, 0, page(0xb000));
  f = take(b);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].find("while invalid-unclean"), std::string::npos);
  // invalid, TLBI, but the new value before the DSB
  walk_through(b, kEntry, 3, kVa);
  b.written(kEntry, 3, kVa, page(0xb000), 0);
  b.tlbi(0, {Tlbi::vae1, false, 1, kVa});
  b.written(kEntry, 3, kVa, 0, page(0xc000));
  EXPECT_EQ(take(b).size(), 1u);
  // the whole sequence: invalid, TLBI, DSB, new value
  walk_through(b, kEntry, 3, kVa);
  b.written(kEntry, 3, kVa, page(0xc000), 0);
  b.tlbi(1, {Tlbi::vae1, true, 1, kVa + 0x10});
  b.dsb(0);
  EXPECT_EQ(b.unclean(), 1u) << "another PE's DSB does not complete PE 1's TLBI";
  b.dsb(1);
  EXPECT_EQ(b.unclean(), 0u);
  b.written(kEntry, 3, kVa, 0, page(0xd000));
  EXPECT_TRUE(take(b).empty());
  // The same value again after invalid is no change, clean or not.
  walk_through(b, kEntry, 3, kVa);
  b.written(kEntry, 3, kVa, page(0xd000), 0);
  b.written(kEntry, 3, kVa, 0, page(0xd000));
  EXPECT_TRUE(take(b).empty());
  // An entry no walk read since it became valid is clean as soon as it is invalid.
  b.written(kEntry, 3, kVa, page(0xd000), 0);
  EXPECT_EQ(b.unclean(), 0u);
  b.written(kEntry, 3, kVa, 0, page(0xe000));
  EXPECT_TRUE(take(b).empty());
}

TEST(Aarch64_D8_16_Bbm, WhichTlbisCleanWhichEntries) {
  std::uint64_t table_entry = 0x2000, table_va = 0;  // a level-2 entry (engine level 2) for 2 MiB
  auto after = [&](std::uint64_t old, unsigned level, const Tlbi& op) {
    BreakBeforeMake b(kFmt, BbmRule::architecture);
    walk_through(b, table_entry, level, table_va);
    b.written(table_entry, level, table_va, old, 0);
    if (b.unclean() != 1) return false;
    b.tlbi(0, op);
    b.dsb(0);
    return b.unclean() == 0;
  };
  EXPECT_FALSE(after(kFmt.encode_table(0x7000), 2, {Tlbi::vale1, false, 1, 0x1000})) << "the walk made it unclean";
  std::uint64_t table = kFmt.encode_table(0x7000), leaf = page(0x9000);
  EXPECT_TRUE(after(table, 2, {Tlbi::vae1, false, 1, 0x1f'f000})) << "VAE1 anywhere in the table's 2 MiB";
  EXPECT_FALSE(after(table, 2, {Tlbi::vale1, false, 1, 0x1000})) << "VALE1 leaves walk caches";
  EXPECT_TRUE(after(leaf, 3, {Tlbi::vale1, false, 1, 0x0}));
  EXPECT_FALSE(after(leaf, 3, {Tlbi::vae1, false, 1, 0x1000})) << "another page";
  EXPECT_TRUE(after(table, 2, {Tlbi::aside1, false, 1}));
  EXPECT_TRUE(after(leaf, 3, {Tlbi::aside1, false, 1}));
  EXPECT_FALSE(after(kFmt.encode_leaf(0x9000, 3, LeafAttrs{{true, false, false}, true, true, true}), 3,
                     {Tlbi::aside1, false, 1}))
      << "a global leaf survives ASIDE1";
  EXPECT_TRUE(after(leaf, 3, {Tlbi::vmalle1}));
}

// The Mmu sees the engine's writes: an unmap, its shootdown, and a remap elsewhere are
// clean; a remap over a live page, or after VALE1 where a freed table needed VAE1, is not.
TEST(Aarch64_D8_16_Bbm, EngineWritesReachItThroughTheMmu) {
  SimMemory mem;
  FramePool pool(mem);
  Format codec(Config{4, 48, true, nullptr});
  aarch64::Mmu mmu(1);
  mmu.check_bbm(std::make_unique<BreakBeforeMake>(kFmt, BbmRule::architecture));
  RadixTable t(pool, codec);
  t.set_observer(mmu.entry_observer());
  std::vector<std::string> found;
  auto take_all = [&] {
    found.clear();
    mmu.take_findings([&](const char* id, const std::string& m) { found.push_back(std::string(id) + ": " + m); });
  };
  t.map(0x40'0000, 0x10'0000, 0x2000, user_rw());
  t.unmap(0x40'0000, 0x2000);
  mmu.invalidate_page(0, 1, 0x40'0000, true);
  mmu.invalidate_page(0, 1, 0x40'1000, true);
  t.map(0x40'0000, 0x20'0000, 0x2000, user_rw());
  take_all();
  EXPECT_TRUE(found.empty()) << found.front();
  t.map(0x40'0000, 0x30'0000, 0x1000, user_rw());  // over the live page
  take_all();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("the output address 0x200000 -> 0x300000, valid to valid"), std::string::npos) << found[0];
  t.protect(0x40'1000, 0x1000, [](std::uint64_t, std::uint64_t, LeafAttrs& x) { x.rights.w = false; });
  take_all();
  EXPECT_TRUE(found.empty()) << "a permission change needs no BBM";
}
