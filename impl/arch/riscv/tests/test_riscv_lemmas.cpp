// The RISC-V format's arithmetic lemmas (spec/formats/riscv.md, Lemmas): proved with Z3 on
// the templates the format runs (riscv_arith.hpp), which give the same answers on both
// word types.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "riscv_arith.hpp"
#include "vmref/prove/solve.hpp"

using namespace vmref;
namespace a = impl::riscv::arith;

TEST(Riscv_Lemmas, EveryLemmaIsProved) { test::expect_every_obligation_proved("riscv", 3); }

TEST(Riscv_Lemmas, TemplatesAgreeOnBothWordTypes) {
  z3::context c;
  auto z = [&](std::uint64_t v) { return prove::word_val(c, v); };
  auto num = [](const z3::expr& e) { return e.simplify().get_numeral_uint64(); };
  for (std::uint64_t w : {0x0000004000000000ull, 0xffffffc000000000ull, 0x00007fffffffffffull, 0xdeadbeefcafef00dull}) {
    for (unsigned sv : {39u, 48u, 57u}) EXPECT_EQ(num(a::canonical(z(w), sv)), a::canonical(w, sv)) << std::hex << w;
    EXPECT_EQ(num(a::pte_address(z(w))), a::pte_address(w));
    EXPECT_EQ(num(a::misaligned_bits(z(w), 30)), a::misaligned_bits(w, 30));
    EXPECT_EQ(num(a::make_pte(z(w & ~0xfffull), z(w))), a::make_pte(std::uint64_t{w & ~0xfffull}, w));
  }
}

// A misaligned superpage written by the misaligned-superpage mutant is what the alignment
// template flags: PPN 0x201 in a 2 MiB leaf.
TEST(Riscv_Lemmas, AlignmentTemplateFlagsTheMutantsEncoding) {
  std::uint64_t pte = 0x201ull << a::kPpnShift | 0x3;
  EXPECT_NE(a::misaligned_bits(pte, 21), 0u);
  EXPECT_EQ(a::misaligned_bits(a::make_pte(std::uint64_t{0x4020'0000}, std::uint64_t{0x3}), 21), 0u);
}
