// The GMMU's GPU TLB (vmref/impl/gmmu_tlb.hpp, shared by the VER2 and VER3 formats):
// entries tagged by PDB, invalidates of one PDB or all (ALL_PDB), of every VA (ALL_VA) or
// a targeted range (VADDR, SIZE) reaching every page size, and the ACK modes ([NV-HUB]
// INVALIDATE ACK 8:7: only GLOBALLY and INTRANODE guarantee removal under the formats'
// spec choices V2-T2 and V3-T2); the reference TLB agrees with the Mmu.
#include <gtest/gtest.h>

#include <algorithm>

#include "vmref/impl/gmmu_reference_tlb.hpp"
#include "vmref/impl/gmmu_tlb.hpp"

using vmref::impl::TlbHeld;
using vmref::impl::Translation;
using namespace vmref::impl::gmmu;
namespace gmmu = vmref::impl::gmmu;

namespace {
Translation page(std::uint64_t pa, std::uint64_t size = 4096) {
  Translation t;
  t.page_pa = pa;
  t.pa = pa;
  t.page_size = size;
  return t;
}
constexpr std::uint64_t kPdbA = 0x10000, kPdbB = 0x20000;
/// The page sizes of the VER3 format on Blackwell (VER2 has the first four).
const TlbConfig kSizes{{1ull << 12, 1ull << 16, 1ull << 21, 1ull << 29, 1ull << 38}};
TlbConfig with(bool ack_none, bool small_only) {
  TlbConfig c = kSizes;
  c.ack_none_complete = ack_none;
  c.targeted_small_only = small_only;
  return c;
}

std::size_t count(const Tlb& t) {
  std::size_t n = 0;
  t.each([&](const TlbHeld&) { ++n; });
  return n;
}

/// The Mmu's TLBs hold what the reference holds, entry for entry.
void expect_same(const gmmu::Mmu& m, const gmmu::ReferenceTlb& r) {
  for (unsigned cpu = 0; cpu < m.cpus(); ++cpu) {
    std::size_t n = 0;
    m.held(cpu, [&](const TlbHeld& h) {
      ++n;
      const auto& e = r.entries(cpu);
      EXPECT_TRUE(std::any_of(e.begin(), e.end(), [&](const TlbHeld& o) {
        return o.ctx == h.ctx && o.va == h.va && o.size == h.size && o.pa == h.pa;
      })) << "cpu " << cpu << " va " << std::hex << h.va;
    });
    EXPECT_EQ(n, r.entries(cpu).size()) << "cpu " << cpu;
  }
}
}  // namespace

TEST(Gmmu_Tlb, EntriesAreTaggedByPdb) {
  Tlb t(kSizes);
  t.fill(kPdbA, 1, 0x5000, page(0x9000), 0);
  t.fill(kPdbB, 2, 0x5000, page(0xa000), 0);
  t.fill(kPdbA, 1, 0x5123, page(0xb000), 0);  // the same page and PDB: replaced
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.find(1, 0x5000, 4096)->pa, 0xb000u);
  t.invalidate({false, kPdbA, true});
  EXPECT_EQ(t.find(1, 0x5000, 4096), nullptr);
  ASSERT_NE(t.find(2, 0x5000, 4096), nullptr) << "another PDB is untouched";
  t.invalidate({true, 0, true});
  EXPECT_EQ(count(t), 0u);
}

TEST(Gmmu_Tlb, TargetedInvalidateReachesEveryPageSizeOverlapping) {
  Tlb t(kSizes);
  t.fill(kPdbA, 1, 0x20'0000, page(0x40'0000, 0x20'0000), 0);
  t.fill(kPdbA, 1, 0x60'0000, page(0x80'0000), 0);
  t.fill(kPdbA, 1, 0x61'0000, page(0x90'0000, 0x10000), 0);
  t.invalidate({false, kPdbA, false, 0x21'3000, 4096});
  EXPECT_EQ(t.find(1, 0x20'0000, 0x20'0000), nullptr) << "a 2 MiB entry over VADDR goes too";
  EXPECT_NE(t.find(1, 0x60'0000, 4096), nullptr);
  t.invalidate({false, kPdbA, false, 0x60'0000, 0x20000});
  EXPECT_EQ(count(t), 0u) << "SIZE 128 KiB reaches both";
  t.fill(kPdbA, 1, 0x40'0000'0000, page(0x80'0000'0000, 1ull << 38), 0);  // a 256 GiB leaf
  t.invalidate({false, kPdbA, false, 0x40'1234'5000, 4096});
  EXPECT_EQ(count(t), 0u) << "the largest size class is reached too";
}

TEST(Gmmu_Tlb, TheMutantKeepsTheLargePage) {
  const TlbConfig c = with(false, true);
  Tlb t(c);
  t.fill(kPdbA, 1, 0x20'0000, page(0x40'0000, 0x20'0000), 0);
  t.invalidate({false, kPdbA, false, 0x21'3000, 4096});
  EXPECT_NE(t.find(1, 0x20'0000, 0x20'0000), nullptr);
}

TEST(Gmmu_Ack, OnlyAnAcknowledgedInvalidateRemoves) {
  EXPECT_FALSE(guarantees_removal(Ack::none));
  EXPECT_TRUE(guarantees_removal(Ack::globally));
  EXPECT_TRUE(guarantees_removal(Ack::intranode));
  Tlb t(kSizes);
  t.fill(kPdbA, 1, 0x5000, page(0x9000), 0);
  t.invalidate({true, 0, true, 0, 0, Ack::none});
  EXPECT_EQ(t.size(), 1u) << "ACK NONE_REQUIRED: the TLB may still hold it";
  t.invalidate({true, 0, true, 0, 0, Ack::intranode});
  EXPECT_EQ(t.size(), 0u);
}

TEST(Gmmu_Mmu, HarnessRequestsBecomePdbInvalidatesTheReferenceFollows) {
  Mmu m(2, kSizes);
  ReferenceTlb r(m);
  m.load(0, 1, kPdbA, 1);
  m.load(1, 2, kPdbB, 2);
  m.fill(0, 0x5000, page(0x9000));
  m.fill(0, 0x6000, page(0xa000));
  m.fill(1, 0x5000, page(0xb000));
  expect_same(m, r);
  m.invalidate_page(0, 1, 0x5000, false);
  EXPECT_EQ(m.find(0, 1, 0x5000, 4096), nullptr);
  EXPECT_NE(m.find(0, 1, 0x6000, 4096), nullptr);
  expect_same(m, r);
  // Context 1 rebound to another PDB on cpu 0: a context invalidate reaches both PDBs.
  m.load(0, 1, kPdbB, 3);
  m.fill(0, 0x7000, page(0xc000));
  m.invalidate_context(0, 1, false);
  EXPECT_EQ(m.size(0), 0u);
  EXPECT_EQ(m.size(1), 1u);
  expect_same(m, r);
  m.invalidate_all(1);
  EXPECT_EQ(m.size(1), 0u);
  expect_same(m, r);
}

TEST(Gmmu_Mmu, AckNoneMutantDropsWhatTheReferenceKeeps) {
  Mmu m(1, with(true, false));
  ReferenceTlb r(m);
  m.load(0, 1, kPdbA, 1);
  m.fill(0, 0x5000, page(0x9000));
  m.invalidate_context(0, 1, false);
  EXPECT_EQ(m.size(0), 0u);
  EXPECT_EQ(r.entries(0).size(), 1u) << "nothing guaranteed its removal";
}
