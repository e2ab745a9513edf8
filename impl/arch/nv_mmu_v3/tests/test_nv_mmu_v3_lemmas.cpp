// The VER3 format's arithmetic lemmas (spec/formats/nv_mmu_v3.md, Lemmas): proved with Z3
// on the templates the format runs (nv_mmu_v3_arith.hpp), which give the same answers on
// both word types.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "nv_mmu_v3_arith.hpp"
#include "nv_mmu_v3_walk.hpp"
#include "vmref/prove/solve.hpp"

using namespace vmref;
namespace a = impl::nv_mmu_v3::arith;

TEST(NvMmuV3_Lemmas, EveryLemmaIsProved) { test::expect_every_obligation_proved("nv_mmu_v3", 5); }

TEST(NvMmuV3_Lemmas, TemplatesAgreeOnBothWordTypes) {
  z3::context c;
  auto z = [&](std::uint64_t v) { return prove::word_val(c, v); };
  auto num = [](const z3::expr& e) { return e.simplify().get_numeral_uint64(); };
  for (std::uint64_t w : {0x0000004000000000ull, 0x01ffffffffffffffull, 0xdeadbeefcafef00dull, 0x12345678ull}) {
    EXPECT_EQ(num(a::address(z(w))), a::address(w));
    EXPECT_EQ(num(a::big_address(z(w))), a::big_address(w));
    EXPECT_EQ(num(a::make_entry(z(w & ~0xfffull), z(w))), a::make_entry(std::uint64_t{w & ~0xfffull}, w));
    EXPECT_EQ(num(a::make_big(z(w & ~0xffull), z(w))), a::make_big(std::uint64_t{w & ~0xffull}, w));
    EXPECT_EQ(num(a::va_index(z(w), 56, 1)), a::va_index(w, 56, 1));
    EXPECT_EQ(num(a::misaligned_bits(z(w), 38)), a::misaligned_bits(w, 38));
  }
}

// The dual PDE's two shifts on a value from the manual's fields: PA 0x1234'5600 (256-byte
// aligned) in ADDRESS_BIG 51:8 is 0x123456 at bit 8, which is the PA in place.
TEST(NvMmuV3_Lemmas, DualPdeShiftsOnAHandValue) {
  EXPECT_EQ(a::make_big(std::uint64_t{0x1234'5600}, std::uint64_t{0x2}), (0x123456ull << 8) | 2);
  EXPECT_EQ(a::address(std::uint64_t{(0x12345ull << 12) | 0x3f}), 0x1234'5000u);
}

// The big-page state predicates agree with the walk's big_state on hand-built words from
// the manual's fields, and on both word types.
TEST(NvMmuV3_Lemmas, BigStatePredicatesMatchTheWalk) {
  z3::context c;
  auto z = [&](std::uint64_t v) { return prove::word_val(c, v); };
  auto yes = [](const z3::expr& e) { return e.simplify().is_true(); };
  for (std::uint64_t w : {0x0ull, 0x1ull, 0x8ull, 0x18ull, 0x20ull, 0x28ull, 0x10ull, 0xdeadbeefcafef00dull, 0x12345678ull}) {
    EXPECT_EQ(yes(a::big_valid(z(w))), a::big_valid(w)) << std::hex << w;
    EXPECT_EQ(yes(a::big_invalid(z(w))), a::big_invalid(w)) << std::hex << w;
    EXPECT_EQ(yes(a::big_sparse(z(w))), a::big_sparse(w)) << std::hex << w;
    EXPECT_EQ(yes(a::big_unmapped(z(w))), a::big_unmapped(w)) << std::hex << w;
    using S = impl::nv_mmu_v3::BigState;
    S st = impl::nv_mmu_v3::big_state(w);
    EXPECT_EQ(st == S::valid, a::big_valid(w)) << std::hex << w;
    EXPECT_EQ(st == S::invalid, a::big_invalid(w)) << std::hex << w;
    EXPECT_EQ(st == S::sparse, a::big_sparse(w)) << std::hex << w;
    EXPECT_EQ(st == S::unmapped, a::big_unmapped(w)) << std::hex << w;
  }
}
