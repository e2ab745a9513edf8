// The x86-64 format's arithmetic lemmas (spec/formats/x86_64.md §9): proved over all 2^64
// inputs with Z3, on the same templates the format runs (x86_64_arith.hpp), and the
// templates give the format's own answers on concrete words.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "x86_64_arith.hpp"

using namespace vmref;

TEST(X86_64_Lemmas, EveryLemmaIsProved) { test::expect_every_obligation_proved("x86_64", 2); }

// The same template, evaluated by Z3 on a numeral, agrees with the uint64_t instance.
TEST(X86_64_Lemmas, TemplatesAgreeOnBothWordTypes) {
  z3::context c;
  for (std::uint64_t va : {0x00007fffffffffffull, 0x0000800000000000ull, 0xffff800000000000ull, 0x0100000000000000ull,
                           0xdeadbeefcafef00dull}) {
    for (unsigned top : {47u, 56u}) {
      std::uint64_t want = impl::x86_64::arith::canonical(va, top);
      EXPECT_EQ(impl::x86_64::arith::canonical(prove::word_val(c, va), top).simplify().get_numeral_uint64(), want)
          << std::hex << va << " top " << std::dec << top;
    }
    EXPECT_EQ(impl::x86_64::arith::leaf_address(prove::word_val(c, va), 21, 46).simplify().get_numeral_uint64(),
              impl::x86_64::arith::leaf_address(va, 21, 46));
  }
}
