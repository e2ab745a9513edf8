// The RISC-V TLB and SFENCE.VMA, each rs1/rs2 form against hand-computed expectations
// (RISC-V Privileged ISA 20211203 §4.2.1), the Mmu's mapping of the VMM core's requests,
// and the reference TLB following it (DIFF-TLB-2).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

#include "riscv_mutants.hpp"
#include "riscv_reference_tlb.hpp"
#include "riscv_tlb.hpp"

using vmref::impl::Mutant;
using vmref::impl::TlbHeld;
using vmref::impl::Translation;
using namespace vmref::impl::riscv;

namespace {
constexpr std::uint64_t k4K = 4096, k2M = 1ull << 21, k1G = 1ull << 30;
constexpr std::nullopt_t x0 = std::nullopt;

Translation tr(std::uint64_t page_pa, std::uint64_t size, bool global = false) {
  Translation t;
  t.page_pa = page_pa;
  t.pa = page_pa;
  t.page_size = size;
  t.global = global;
  return t;
}

using Key = std::tuple<std::uint16_t, std::uint64_t, std::uint64_t>;  // ASID, VA, size
std::set<Key> held(const Tlb& t) {
  std::set<Key> s;
  t.each([&](const TlbHeld& h) { s.insert({h.ctx, h.va, h.size}); });
  return s;
}

/// ASID 1: a 4 KiB page at 0x1000, a 2 MiB page at 0x20'0000 and a global 1 GiB page at
/// 0x4000'0000; ASID 2: a 4 KiB page at 0x1000 and one at 0x20'1000 (inside 1's 2 MiB page).
Tlb sample(Mutant m = nullptr) {
  Tlb t(39, m);
  t.fill(1, 0x1000, tr(0x9000, k4K));
  t.fill(1, 0x20'0000, tr(0x60'0000, k2M));
  t.fill(1, 0x4000'0000, tr(0x8000'0000, k1G, true));
  t.fill(2, 0x1000, tr(0xa000, k4K));
  t.fill(2, 0x20'1000, tr(0xb000, k4K));
  return t;
}
const Key a1_4k{1, 0x1000, k4K}, a1_2m{1, 0x20'0000, k2M}, a1_g{1, 0x4000'0000, k1G}, a2_4k{2, 0x1000, k4K},
    a2_in2m{2, 0x20'1000, k4K};
}  // namespace

TEST(Riscv_4_2_1_SfenceVma, X0X0DropsEverything) {
  Tlb t = sample();
  ASSERT_EQ(t.size(), 5u);
  t.sfence_vma(x0, x0);
  EXPECT_EQ(t.size(), 0u);
}

TEST(Riscv_4_2_1_SfenceVma, X0AsidDropsThatAsidButNotGlobals) {
  Tlb t = sample();
  t.sfence_vma(x0, 1);
  EXPECT_EQ(held(t), (std::set<Key>{a1_g, a2_4k, a2_in2m}));
}

TEST(Riscv_4_2_1_SfenceVma, VaX0DropsEveryAsidsLeavesOfEverySizeCoveringVa) {
  Tlb t = sample();
  t.sfence_vma(0x20'1234, x0);  // 1's 2 MiB page and 2's 4 KiB page both cover it
  EXPECT_EQ(held(t), (std::set<Key>{a1_4k, a1_g, a2_4k}));
  t.sfence_vma(0x4012'3000, x0);  // rs2 = x0 reaches the global 1 GiB page
  EXPECT_EQ(held(t), (std::set<Key>{a1_4k, a2_4k}));
}

TEST(Riscv_4_2_1_SfenceVma, VaAsidDropsThatAsidsNonGlobalLeavesCoveringVa) {
  Tlb t = sample();
  t.sfence_vma(0x20'1234, 1);
  EXPECT_EQ(held(t), (std::set<Key>{a1_4k, a1_g, a2_4k, a2_in2m}));
  t.sfence_vma(0x4012'3000, 1);  // the global page survives an ASID fence
  EXPECT_EQ(held(t), (std::set<Key>{a1_4k, a1_g, a2_4k, a2_in2m}));
  t.sfence_vma(0x1fff, 2);
  EXPECT_EQ(held(t), (std::set<Key>{a1_4k, a1_g, a2_in2m}));
}

TEST(Riscv_4_2_1_SfenceVma, AnInvalidVaMakesTheFenceANoOp) {
  Tlb t = sample();
  t.sfence_vma(0x40'0000'1000ull, x0);   // not canonical in Sv39 (bit 38 clear, bit 39 set)
  t.sfence_vma(0x8000'0000'1000ull, 1);
  EXPECT_EQ(t.size(), 5u);
  Tlb high(39);
  high.fill(1, 0xffff'ffff'c000'1000ull, tr(0x9000, k4K));
  high.sfence_vma(0xffff'ffff'c000'1000ull, x0);  // a valid high-half VA is fenced
  EXPECT_EQ(high.size(), 0u);
}

TEST(Riscv_4_2_1_SfenceVma, RefillReplacesTheAsidsEntryOnly) {
  Tlb t = sample();
  t.fill(1, 0x1000, tr(0xc000, k4K));
  EXPECT_EQ(t.size(), 5u);
  EXPECT_EQ(t.find(1, 0x1000)->pa, 0xc000u);
  EXPECT_EQ(t.find(2, 0x1000)->pa, 0xa000u);
  EXPECT_EQ(t.find(1, 0x20'0000, k2M)->pa, 0x60'0000u);
  EXPECT_EQ(t.find(3, 0x1000), nullptr);
}

TEST(Riscv_Mutants, FenceMutantsBreakTheRules) {
  Tlb keeps = sample(&kFenceVaKeepsSuperpages);
  keeps.sfence_vma(0x20'1234, x0);
  EXPECT_TRUE(held(keeps).count(a1_2m)) << "the superpage survives";
  Tlb drops = sample(&kAsidFenceDropsGlobals);
  drops.sfence_vma(x0, 1);
  EXPECT_FALSE(held(drops).count(a1_g)) << "the global page goes";
}

TEST(Riscv_Mmu, MapsRequestsToSfenceFormsAndTheReferenceAgrees) {
  Mmu mmu(2, 39);
  ReferenceTlb ref(mmu, 39);
  mmu.load(0, 1, 0x8000'0000, 10);
  EXPECT_EQ(mmu.satp(0), 8ull << 60 | 1ull << 44 | 0x80000) << "MODE | ASID | PPN";
  mmu.fill(0, 0x1000, tr(0x9000, k4K));
  mmu.fill(0, 0x20'0000, tr(0x60'0000, k2M));
  mmu.fill(0, 0x4000'0000, tr(0x8000'0000, k1G, true));
  mmu.load(0, 2, 0x8000'1000, 11);  // satp writes flush nothing
  EXPECT_EQ(mmu.size(0), 3u);
  mmu.fill(0, 0x1000, tr(0xa000, k4K));
  EXPECT_EQ(mmu.find(0, 1, 0x1000, k4K)->owner, 10u);
  EXPECT_EQ(mmu.find(0, 2, 0x1000, k4K)->owner, 11u);
  auto same = [&] {
    std::set<Key> r;
    for (const TlbHeld& h : ref.entries(0)) r.insert({h.ctx, h.va, h.size});
    return r == held(mmu.tlb(0));
  };
  ASSERT_TRUE(same());
  mmu.invalidate_page(0, 1, 0x20'0000, false);   // SFENCE.VMA va, asid 1
  EXPECT_EQ(mmu.find(0, 1, 0x20'0000, k2M), nullptr);
  ASSERT_TRUE(same());
  mmu.invalidate_context(0, 1, false);           // SFENCE.VMA x0, asid 1: the global stays
  EXPECT_NE(mmu.find(0, 1, 0x4000'0000, k1G), nullptr);
  ASSERT_TRUE(same());
  mmu.invalidate_page(0, 1, 0x4000'0000, true);  // SFENCE.VMA va, x0: the global goes
  EXPECT_EQ(mmu.find(0, 1, 0x4000'0000, k1G), nullptr);
  ASSERT_TRUE(same());
  mmu.load(0, 2, 0x8000'1000, 11, true);          // satp, then SFENCE.VMA x0, asid 2
  EXPECT_EQ(mmu.size(0), 0u);
  ASSERT_TRUE(same());
  mmu.fill(0, 0x1000, tr(0xa000, k4K, true));
  mmu.fill(1, 0x1000, tr(0xa000, k4K));
  mmu.invalidate_context(0, 2, true);            // SFENCE.VMA x0, x0 on hart 0 only
  EXPECT_EQ(mmu.size(0), 0u);
  EXPECT_EQ(mmu.size(1), 1u);
  mmu.invalidate_all(1);
  EXPECT_EQ(mmu.size(1), 0u);
  EXPECT_TRUE(ref.entries(1).empty());
  ASSERT_TRUE(same());
}

TEST(Riscv_ReferenceTlb, CatchesTheFenceMutants) {
  for (Mutant m : std::initializer_list<Mutant>{&kFenceVaKeepsSuperpages, &kAsidFenceDropsGlobals}) {
    Mmu mmu(1, 48, m);
    ReferenceTlb ref(mmu, 48);
    mmu.load(0, 1, 0x1000, 1);
    mmu.fill(0, 0x20'0000, tr(0x60'0000, k2M));
    mmu.fill(0, 0x4000'0000, tr(0x8000'0000, k1G, true));
    mmu.invalidate_page(0, 1, 0x20'0000, false);
    bool differ = mmu.size(0) != ref.entries(0).size();
    mmu.invalidate_context(0, 1, false);
    differ = differ || mmu.size(0) != ref.entries(0).size();
    EXPECT_TRUE(differ) << m->name;
  }
}

// Svinval (src/priv/svinval.adoc): each request is one bracket SFENCE.W.INVAL;
// SINVAL.VMA rs1, rs2; SFENCE.INVAL.IR, with SFENCE.VMA's operands and effect.
TEST(Riscv_Svinval, EachRequestIsOneBracketWithTheFenceOperands) {
  Mmu mmu(1, 39, nullptr, true);
  std::vector<Mmu::Insn> issued;
  mmu.set_listener([&](const Mmu::Insn& i) { issued.push_back(i); });
  mmu.load(0, 1, 0x8000'0000, 10);
  issued.clear();
  mmu.invalidate_page(0, 1, 0x20'0000, false);
  ASSERT_EQ(issued.size(), 3u);
  EXPECT_EQ(issued[0].kind, Mmu::Insn::sfence_w_inval);
  EXPECT_EQ(issued[1].kind, Mmu::Insn::sinval_vma);
  EXPECT_TRUE(issued[1].has_va && issued[1].has_asid);
  EXPECT_EQ(issued[1].va, 0x20'0000u);
  EXPECT_EQ(issued[1].asid, 1u);
  EXPECT_EQ(issued[2].kind, Mmu::Insn::sfence_inval_ir);
  issued.clear();
  mmu.invalidate_context(0, 1, true);  // x0, x0: no ASID form reaches globals
  ASSERT_EQ(issued.size(), 3u);
  EXPECT_FALSE(issued[1].has_va || issued[1].has_asid);
}

TEST(Riscv_Svinval, TheBracketHasSfenceVmasEffectAndTheReferenceAgrees) {
  Mmu mmu(1, 39, nullptr, true);
  ReferenceTlb ref(mmu, 39);
  mmu.load(0, 1, 0x8000'0000, 10);
  mmu.fill(0, 0x1000, tr(0x9000, k4K));
  mmu.fill(0, 0x20'0000, tr(0x60'0000, k2M));
  mmu.fill(0, 0x4000'0000, tr(0x8000'0000, k1G, true));
  mmu.invalidate_page(0, 1, 0x20'1000, false);  // the 2 MiB leaf covering the VA goes
  EXPECT_EQ(mmu.find(0, 1, 0x20'0000, k2M), nullptr);
  EXPECT_EQ(ref.entries(0).size(), 2u);
  EXPECT_EQ(ref.pending(0), 0u);
  mmu.invalidate_context(0, 1, false);  // the global stays
  EXPECT_EQ(mmu.size(0), 1u);
  EXPECT_EQ(ref.entries(0).size(), 1u);
}

// Without SFENCE.INVAL.IR the invalidation is never ordered before later walks; without
// SFENCE.W.INVAL first it may act before the PTE store is seen: in both the reference
// keeps the entries the broken TLB dropped (DIFF-TLB-2).
TEST(Riscv_Svinval, TheReferenceCatchesABrokenBracket) {
  for (Mutant m : std::initializer_list<Mutant>{&kSinvalWithoutInvalIr, &kSinvalBeforeWInval}) {
    Mmu mmu(1, 48, m);
    EXPECT_TRUE(mmu.svinval()) << m->name << " implies Svinval";
    ReferenceTlb ref(mmu, 48);
    mmu.load(0, 1, 0x1000, 1);
    mmu.fill(0, 0x20'0000, tr(0x60'0000, k2M));
    mmu.invalidate_page(0, 1, 0x20'0000, false);
    EXPECT_EQ(mmu.size(0), 0u) << m->name;
    EXPECT_EQ(ref.entries(0).size(), 1u) << m->name << ": the reference still holds the entry";
  }
}
