// The x86-64 format's arithmetic lemmas (spec/formats/x86_64.md, Lemmas): proved over all 2^64
// inputs with Z3, on the same templates the format runs (x86_64_arith.hpp), and the
// templates give the format's own answers on concrete words.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "vmref/prove/obligation.hpp"
#include "vmref/prove/solve.hpp"
#include "x86_64_arith.hpp"
#include "x86_64_lemmas.hpp"

using namespace vmref;

TEST(X86_64_Lemmas, EveryLemmaIsProved) { test::expect_every_obligation_proved("x86_64", 5); }

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

// The templates of LEM-X86-RIGHTS-1 and LEM-X86-SPLIT-1 on concrete words, through Z3.
TEST(X86_64_Lemmas, LeafAndRightsTemplatesAgreeOnBothWordTypes) {
  namespace a = impl::x86_64::arith;
  z3::context c;
  auto z = [&](std::uint64_t v) { return prove::word_val(c, v); };
  auto num = [](const z3::expr& e) { return e.simplify().get_numeral_uint64(); };
  for (std::uint64_t raw : {0x80000000001ff067ull, 0x0000000040201fe7ull, 0x7800000000a0119full, 0ull}) {
    for (bool large : {false, true}) {
      EXPECT_EQ(num(a::leaf_attr_word(z(raw), large)), a::leaf_attr_word(raw, large)) << std::hex << raw;
      EXPECT_EQ(num(a::make_leaf(z(0x200000), z(raw), large)), a::make_leaf(std::uint64_t{0x200000}, raw, large));
    }
    EXPECT_EQ(num(a::combine_rights(z(a::kAllRights), z(raw), 1ull << 63)),
              a::combine_rights(a::kAllRights, raw, 1ull << 63)) << std::hex << raw;
  }
  // A 2 MiB leaf's PAT (bit 12) lands at bit 7 of its 4 KiB children, and back.
  std::uint64_t big = a::make_leaf(std::uint64_t{0x40000000}, a::kPatSmallBit | a::kWrite, true);
  EXPECT_EQ(big & (a::kPatLargeBit | a::kLargeBit), a::kPatLargeBit | a::kLargeBit);
  EXPECT_EQ(a::leaf_attr_word(big, true), a::kPatSmallBit | a::kWrite);
}

// Broken variants each lemma must catch: XD tested at bit 62 (the xd-wrong-bit mutant's
// encoding), and a split that copies the large leaf's low bits as they are (PS read as
// PAT, bit 12 dropped).
TEST(X86_64_Lemmas, RightsLemmaCatchesXdAtTheWrongBit) {
  prove::Result r = impl::x86_64::check_rights_lemma(prove::Request{}, 1ull << 62);
  EXPECT_EQ(r.status, prove::Status::counterexample);
  EXPECT_NE(r.detail.find("NXE 1"), std::string::npos) << r.detail;
  EXPECT_EQ(impl::x86_64::check_rights_lemma(prove::Request{}, 1ull << 63).status, prove::Status::proved);
}

TEST(X86_64_Lemmas, SplitLemmaCatchesAPatLeftInPlace) {
  namespace a = impl::x86_64::arith;
  auto copies_bits = [](const z3::expr& leaf, const z3::expr& pa, bool large) {
    return a::make_leaf(pa, leaf & prove::word_val(leaf.ctx(), a::kAttrBits), large);
  };
  prove::Result r = impl::x86_64::check_split_lemma(prove::Request{}, copies_bits);
  EXPECT_EQ(r.status, prove::Status::counterexample);
  EXPECT_NE(r.detail.find("MAXPHYADDR 32, 21-bit leaf"), std::string::npos) << r.detail;
  EXPECT_EQ(impl::x86_64::check_split_lemma(prove::Request{}, impl::x86_64::split_child).status, prove::Status::proved);
}
