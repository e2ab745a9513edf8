// The VER2 format's arithmetic lemmas (spec/formats/nv_mmu_v2.md, Lemmas): proved with Z3
// on the templates the format runs (nv_mmu_v2_arith.hpp), which give the same answers on
// both word types.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "nv_mmu_v2_arith.hpp"
#include "vmref/prove/solve.hpp"

using namespace vmref;
namespace a = impl::nv_mmu_v2::arith;

TEST(NvMmuV2_Lemmas, EveryLemmaIsProved) { test::expect_every_obligation_proved("nv_mmu_v2", 3); }

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
