// The VER2 format's arithmetic lemmas (spec/formats/nv_mmu_v2.md, Lemmas): proved with Z3
// on the templates the format runs (nv_mmu_v2_arith.hpp), which give the same answers on
// both word types.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "nv_mmu_v2_arith.hpp"
#include "nv_mmu_v2_walk.hpp"
#include "vmref/prove/solve.hpp"

using namespace vmref;
namespace a = impl::nv_mmu_v2::arith;

TEST(NvMmuV2_Lemmas, EveryLemmaIsProved) { test::expect_every_obligation_proved("nv_mmu_v2", 5); }

TEST(NvMmuV2_Lemmas, TemplatesAgreeOnBothWordTypes) {
  z3::context c;
  auto z = [&](std::uint64_t v) { return prove::word_val(c, v); };
  auto num = [](const z3::expr& e) { return e.simplify().get_numeral_uint64(); };
  for (std::uint64_t w : {0x0000004000000000ull, 0x0001ffffffffffffull, 0xdeadbeefcafef00dull, 0x12345678ull}) {
    EXPECT_EQ(num(a::vid_address(z(w))), a::vid_address(w));
    EXPECT_EQ(num(a::sys_address(z(w))), a::sys_address(w));
    EXPECT_EQ(num(a::big_address(z(w))), a::big_address(w));
    EXPECT_EQ(num(a::make_vid(z(w & ~0xfffull), z(w))), a::make_vid(std::uint64_t{w & ~0xfffull}, w));
    EXPECT_EQ(num(a::make_big(z(w & ~0xffull), z(w))), a::make_big(std::uint64_t{w & ~0xffull}, w));
    EXPECT_EQ(num(a::va_index(z(w), 21, 8)), a::va_index(w, 21, 8));
    EXPECT_EQ(num(a::misaligned_bits(z(w), 21)), a::misaligned_bits(w, 21));
  }
}

// The dual PDE's two shifts on a value from the manual's fields: PA 0x1234'5000 in the
// small half is PFN 0x12345 at 96:72; in the big half (shift 8) it is 0x123450 at 32:4.
TEST(NvMmuV2_Lemmas, DualPdeShiftsOnAHandValue) {
  EXPECT_EQ(a::make_vid(std::uint64_t{0x1234'5000}, std::uint64_t{2}), 0x12345ull << 8 | 2);
  EXPECT_EQ(a::make_big(std::uint64_t{0x1234'5000}, std::uint64_t{2}), 0x123450ull << 4 | 2);
  EXPECT_EQ(a::big_address(std::uint64_t{0x123450ull << 4}), 0x1234'5000u);
}

// The big-page state predicates agree with the walk's big_state on hand-built words from
// the manual's fields, and on both word types.
TEST(NvMmuV2_Lemmas, BigStatePredicatesMatchTheWalk) {
  z3::context c;
  auto z = [&](std::uint64_t v) { return prove::word_val(c, v); };
  auto yes = [](const z3::expr& e) { return e.simplify().is_true(); };
  for (std::uint64_t w : {0x0ull, 0x1ull, 0x8ull, 0x18ull, 0x20ull, 0x28ull, 0x10ull, 0xdeadbeefcafef00dull, 0x12345678ull}) {
    EXPECT_EQ(yes(a::big_valid(z(w))), a::big_valid(w)) << std::hex << w;
    EXPECT_EQ(yes(a::big_invalid(z(w))), a::big_invalid(w)) << std::hex << w;
    EXPECT_EQ(yes(a::big_sparse(z(w))), a::big_sparse(w)) << std::hex << w;
    EXPECT_EQ(yes(a::big_unmapped(z(w))), a::big_unmapped(w)) << std::hex << w;
    using S = impl::nv_mmu_v2::BigState;
    S st = impl::nv_mmu_v2::big_state(w);
    EXPECT_EQ(st == S::valid, a::big_valid(w)) << std::hex << w;
    EXPECT_EQ(st == S::invalid, a::big_invalid(w)) << std::hex << w;
    EXPECT_EQ(st == S::sparse, a::big_sparse(w)) << std::hex << w;
    EXPECT_EQ(st == S::unmapped, a::big_unmapped(w)) << std::hex << w;
  }
}
