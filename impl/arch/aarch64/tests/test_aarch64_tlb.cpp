// The AArch64 TLB and its maintenance: what each TLBI removes (Arm ARM DDI 0487 C5.5),
// completion by DSB (D8.13.8), the Inner Shareable forms, the Mmu's mapping of the VMM
// core's requests, and the reference TLB following it (DIFF-TLB-2).
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "aarch64_mutants.hpp"
#include "aarch64_reference_tlb.hpp"
#include "aarch64_tlb.hpp"

using vmref::impl::Mutant;
using vmref::impl::TlbHeld;
using vmref::impl::Translation;
using namespace vmref::impl::aarch64;

namespace {
constexpr std::uint64_t k4K = 4096, k2M = 1ull << 21, k1G = 1ull << 30;

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
std::set<Key> held(const std::vector<TlbHeld>& v) {
  std::set<Key> s;
  for (const TlbHeld& h : v) s.insert({h.ctx, h.va, h.size});
  return s;
}

/// ASID 1: a page at 0x1000, a 2 MiB block at 0x20'0000 and a global 1 GiB block at
/// 0x4000'0000; ASID 2: a page at 0x1000 and one at 0x20'1000 (inside 1's block).
Tlb sample(Mutant m = nullptr) {
  Tlb t(12, m);
  t.fill(1, 0x1000, tr(0x9000, k4K));
  t.fill(1, 0x20'0000, tr(0x60'0000, k2M));
  t.fill(1, 0x4000'0000, tr(0x8000'0000, k1G, true));
  t.fill(2, 0x1000, tr(0xa000, k4K));
  t.fill(2, 0x20'1000, tr(0xb000, k4K));
  return t;
}
}  // namespace

TEST(Aarch64_C5_5_Tlbi, Vmalle1DropsEverything) {
  Tlb t = sample();
  t.invalidate({Tlbi::vmalle1});
  EXPECT_EQ(t.size(), 0u);
}

TEST(Aarch64_C5_5_Tlbi, Aside1DropsThatAsidButNotGlobals) {
  Tlb t = sample();
  t.invalidate({Tlbi::aside1, false, 1});
  EXPECT_EQ(held(t), (std::set<Key>{{1, 0x4000'0000, k1G}, {2, 0x1000, k4K}, {2, 0x20'1000, k4K}}));
}

TEST(Aarch64_C5_5_Tlbi, Vae1DropsTheAsidsEntriesOfEverySizeAndGlobalsCoveringVa) {
  Tlb t = sample();
  t.invalidate({Tlbi::vae1, false, 2, 0x4000'1234});
  EXPECT_EQ(t.size(), 4u) << "the global 1 GiB block goes whatever the operand's ASID";
  t.invalidate({Tlbi::vae1, false, 1, 0x20'1000});
  EXPECT_EQ(held(t), (std::set<Key>{{1, 0x1000, k4K}, {2, 0x1000, k4K}, {2, 0x20'1000, k4K}})) << "1's block covering it";
}

TEST(Aarch64_C5_5_Tlbi, Vaae1DropsEveryAsidsEntriesCoveringVa) {
  Tlb t = sample();
  t.invalidate({Tlbi::vaae1, false, 0, 0x1000});
  EXPECT_EQ(held(t), (std::set<Key>{{1, 0x20'0000, k2M}, {1, 0x4000'0000, k1G}, {2, 0x20'1000, k4K}}));
}

TEST(Aarch64_Mutants, TlbiMutantsBreakTheRules) {
  Tlb keeps = sample(&kTlbiVaKeepsBlocks);
  keeps.invalidate({Tlbi::vae1, false, 1, 0x20'0000});
  EXPECT_TRUE(keeps.find(1, 0x20'0000, k2M)) << "the block survives";
  Tlb globals = sample(&kAsidTlbiDropsGlobals);
  globals.invalidate({Tlbi::aside1, false, 1});
  EXPECT_FALSE(globals.find(1, 0x4000'0000, k1G));
}

// D8.13.8: a TLBI is complete after the DSB that follows it on the issuing PE; the IS
// form reaches every PE, completed by the issuer's DSB.
TEST(Aarch64_D8_13_Dsb, TlbiTakesEffectAtTheDsb) {
  Mmu m(2);
  ReferenceTlb ref(m);
  m.load(0, 1, 0x1000, 1);
  m.load(1, 1, 0x1000, 1);
  m.fill(0, 0x5000, tr(0x9000, k4K));
  m.fill(1, 0x5000, tr(0x9000, k4K));
  m.tlbi(0, {Tlbi::vae1, true, 1, 0x5000});
  EXPECT_EQ(m.size(0) + m.size(1), 2u) << "issued, not complete";
  EXPECT_EQ(ref.entries(0).size() + ref.entries(1).size(), 2u);
  EXPECT_EQ(m.pending(0), 1u);
  m.dsb(1);
  EXPECT_EQ(m.size(1), 1u) << "another PE's DSB completes nothing of PE 0's";
  m.dsb(0);
  EXPECT_EQ(m.size(0) + m.size(1), 0u) << "the IS form reached both PEs";
  EXPECT_TRUE(ref.entries(0).empty());
  EXPECT_TRUE(ref.entries(1).empty());
}

// The VMM core's requests: a page is TLBI VAE1 + DSB; an ASID, TLBI ASIDE1; with globals
// or everything, VMALLE1; a flushing switch, ASIDE1 after the TTBR0_EL1 write. The
// reference TLB agrees after each.
TEST(Aarch64_Mmu, MapsRequestsToTlbiAndTheReferenceAgrees) {
  Mmu m(2, 16);
  ReferenceTlb ref(m);
  auto agree = [&] {
    for (unsigned c = 0; c < 2; ++c) EXPECT_EQ(held(m.tlb(c)), held(ref.entries(c))) << "cpu " << c;
  };
  m.load(0, 1, 0x1000, 1);
  EXPECT_EQ(m.ttbr0(0), (1ull << 48) | 0x1000);
  m.fill(0, 0x1000, tr(0x9000, k4K));
  m.fill(0, 0x20'0000, tr(0x60'0000, k2M));
  m.fill(0, 0x4000'0000, tr(0x8000'0000, k1G, true));
  m.load(0, 2, 0x3000, 2);
  m.fill(0, 0x1000, tr(0xa000, k4K));
  agree();
  m.invalidate_page(0, 1, 0x20'1000, false);
  EXPECT_FALSE(m.find(0, 1, 0x20'0000, k2M));
  agree();
  m.invalidate_context(0, 2, false);
  EXPECT_EQ(m.size(0), 2u);
  agree();
  m.invalidate_context(0, 1, true);
  EXPECT_EQ(m.size(0), 0u);
  agree();
  m.fill(0, 0x1000, tr(0xa000, k4K));
  m.load(0, 2, 0x3000, 2, true);
  EXPECT_EQ(m.size(0), 0u);
  EXPECT_EQ(m.pending(0), 0u);
  agree();
  EXPECT_EQ(Mmu(1, 8).max_contexts(), 255);
}

TEST(Aarch64_ReferenceTlb, CatchesTheTlbMutants) {
  for (Mutant mu : {&kTlbiWithoutDsb, static_cast<Mutant>(&kTlbiVaKeepsBlocks), &kAsidTlbiDropsGlobals}) {
    Mmu m(1, 16, 12, mu);
    ReferenceTlb ref(m);
    m.load(0, 1, 0x1000, 1);
    m.fill(0, 0x20'0000, tr(0x60'0000, k2M));
    m.fill(0, 0x4000'0000, tr(0x8000'0000, k1G, true));
    m.invalidate_page(0, 1, 0x20'0000, false);
    bool differed = held(m.tlb(0)) != held(ref.entries(0));
    m.invalidate_context(0, 1, false);
    differed |= held(m.tlb(0)) != held(ref.entries(0));
    EXPECT_TRUE(differed) << vmref::impl::to_string(mu);
  }
}
