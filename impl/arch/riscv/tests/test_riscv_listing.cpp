// `vmref walk --format qemu-mem`: QEMU's `info mem` rules for when leaves form one run
// (QEMU 7.2 target/riscv/monitor.c), on hand-made leaves. The real dump's comparison with
// QEMU's own output is in cli_test.sh.
#include <gtest/gtest.h>

#include "riscv_format.hpp"
#include "riscv_listing.hpp"

using vmref::impl::Leaf;
using namespace vmref::impl::riscv;

namespace {
constexpr std::uint64_t kRW = kV | kR | kW | kA | kD;
const std::string kHeader =
    "vaddr            paddr            size             attr\n"
    "---------------- ---------------- ---------------- -------\n";

/// A 4 KiB leaf at `va` mapping `pa`, its entry at index va's bits 20:12 of table page `table`.
Leaf leaf(std::uint64_t va, std::uint64_t pa, std::uint64_t table, std::uint64_t bits = kRW, std::uint64_t size = 4096) {
  Leaf l;
  l.va = va, l.pa = pa, l.size = size;
  l.raw = (pa >> 12) << 10 | bits;
  l.entry_pa = table + ((va / size) % 512) * 8;
  return l;
}

std::string list(const std::vector<Leaf>& leaves) {
  auto listing = qemu_info_mem({});
  std::string out;
  for (const Leaf& l : leaves) out += listing->leaf(l);
  return out + listing->end();
}
}  // namespace

TEST(Riscv_QemuInfoMem, HeaderOnlyForNoLeaves) { EXPECT_EQ(list({}), kHeader); }

TEST(Riscv_QemuInfoMem, NeighboursInOneTableJoinWithTheirPaSpanAsSize) {
  EXPECT_EQ(list({leaf(0x5000, 0x80005000, 0x3000), leaf(0x6000, 0x80006000, 0x3000)}),
            kHeader + "0000000000005000 0000000080005000 0000000000002000 rw---ad\n");
}

TEST(Riscv_QemuInfoMem, AnyDifferenceInTheLow8BitsOrAPaGapOrAVaGapBreaksTheRun) {
  std::string out = list({leaf(0x5000, 0x80005000, 0x3000), leaf(0x6000, 0x80006000, 0x3000, kRW | kG),
                          leaf(0x7000, 0x80009000, 0x3000, kRW | kG), leaf(0x9000, 0x8000a000, 0x3000, kRW | kG)});
  EXPECT_EQ(out, kHeader + "0000000000005000 0000000080005000 0000000000001000 rw---ad\n"
                           "0000000000006000 0000000080006000 0000000000001000 rw--gad\n"
                           "0000000000007000 0000000080009000 0000000000001000 rw--gad\n"
                           "0000000000009000 000000008000a000 0000000000001000 rw--gad\n");
}

TEST(Riscv_QemuInfoMem, ATablePageBoundaryBreaksTheRunEvenWhenContiguous) {
  // The last entry of one page table and the first of the next: QEMU starts a new run.
  std::string out = list({leaf(0x1ff000, 0x801ff000, 0x3000), leaf(0x200000, 0x80200000, 0x4000)});
  EXPECT_EQ(out, kHeader + "00000000001ff000 00000000801ff000 0000000000001000 rw---ad\n"
                           "0000000000200000 0000000080200000 0000000000001000 rw---ad\n");
}

TEST(Riscv_QemuInfoMem, HighHalfVasPrintCanonicalAndSuperpagesJoin) {
  std::uint64_t va = 0xffffffff80000000ull;
  std::string out = list({leaf(va, 0x80200000, 0x9000, kV | kR | kX | kG | kA, 1 << 21),
                          leaf(va + (1 << 21), 0x80400000, 0x9000, kV | kR | kX | kG | kA, 1 << 21)});
  EXPECT_EQ(out, kHeader + "ffffffff80000000 0000000080200000 0000000000400000 r-x-ga-\n");
}
