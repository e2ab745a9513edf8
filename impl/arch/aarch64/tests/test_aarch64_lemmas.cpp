// The AArch64 format's arithmetic lemmas (spec/formats/aarch64.md, Lemmas): proved with Z3
// on the templates the format runs (aarch64_arith.hpp), which give the same answers on
// both word types.
#include <gtest/gtest.h>

#include "aarch64_arith.hpp"
#include "helpers.hpp"
#include "vmref/prove/solve.hpp"

using namespace vmref;
namespace a = impl::aarch64::arith;

TEST(Aarch64_Lemmas, EveryLemmaIsProved) { test::expect_every_obligation_proved("aarch64", 4); }

TEST(Aarch64_Lemmas, TemplatesAgreeOnBothWordTypes) {
  z3::context c;
  auto z = [&](std::uint64_t v) { return prove::word_val(c, v); };
  auto num = [](const z3::expr& e) { return e.simplify().get_numeral_uint64(); };
  for (std::uint64_t w : {0x0000'4000'0020'0000ull, 0xffff'8000'0000'0000ull, 0x0060'0000'4020'0741ull, 0xdeadbeefcafef00dull}) {
    for (unsigned p : {12u, 14u, 16u}) {
      EXPECT_EQ(num(a::desc_address(z(w), p)), a::desc_address(w, p));
      EXPECT_EQ(num(a::make_desc(z(w), z(~w), p)), a::make_desc(w, ~w, p));
      EXPECT_EQ(num(a::misaligned_bits(z(w), p, p + 2 * (p - 3))), a::misaligned_bits(w, p, p + 2 * (p - 3)));
    }
    EXPECT_EQ(num(a::canonical(z(w), 48)), a::canonical(w, 48)) << std::hex << w;
    EXPECT_EQ(num(a::va_index(z(w), 21, 9)), a::va_index(w, 21, 9));
    EXPECT_EQ(num(a::restrict_by_table(z(w), z(~w))), a::restrict_by_table(w, ~w));
    for (std::uint64_t acc : {std::uint64_t{0}, a::kApTable0, a::kApTable1 | a::kUxnTable, a::kPxnTable})
      EXPECT_EQ(num(a::perm(z(acc), z(w))), a::perm(acc, w)) << std::hex << w << " under " << acc;
  }
}

// A block the alignment template flags: OA 0x4020'0000 in a 1 GiB (4 KiB granule) block.
TEST(Aarch64_Lemmas, AlignmentTemplateFlagsAMisalignedBlock) {
  EXPECT_NE(a::misaligned_bits(std::uint64_t{0x4020'0001}, 12, 30), 0u);
  EXPECT_EQ(a::misaligned_bits(a::make_desc(std::uint64_t{0x4000'0000}, std::uint64_t{1}, 12), 12, 30), 0u);
}
