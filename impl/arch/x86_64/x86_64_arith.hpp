// x86-64 address arithmetic written once over the word type (vmref/vocab/word.hpp): the
// format runs it on std::uint64_t, `vmref prove` on 64-bit Z3 bit-vectors (lemmas
// LEM-X86-*, spec/formats/x86_64.md, Lemmas). Addresses in bytes, bit positions 0..63.
#pragma once

#include "vmref/vocab/word.hpp"

namespace vmref::impl::x86_64::arith {

using namespace vmref::word;

/// The mask of bits lo..hi inclusive (0 when hi < lo).
constexpr u64 bits(unsigned lo, unsigned hi) {
  return hi < lo ? 0 : ((hi == 63 ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1));
}

/// `va` made canonical: bits above `top` (47 with 4 levels, 56 with LA57) copy bit `top`
/// (Intel SDM Vol 3A §4.5).
template <class W> W canonical(const W& va, unsigned top) {
  const W low = va & lit(va, bits(0, top));
  return ite((lshr(va, lit(va, top)) & lit(va, 1)) == lit(va, 1), low | lit(va, ~bits(0, top)), low);
}

/// The physical address a leaf of page size 2^`page_shift` maps: bits page_shift..
/// MAXPHYADDR-1 of the entry (SDM Vol 3A Tables 4-15 to 4-20).
template <class W> W leaf_address(const W& raw, unsigned page_shift, unsigned maxphyaddr) {
  return raw & lit(raw, bits(page_shift, maxphyaddr - 1));
}

// Entry bits the templates below place (SDM Vol 3A Table 4-20; x86_64_format.hpp names them
// for the format's own use).
inline constexpr u64 kPresent = 1ull << 0, kWrite = 1ull << 1, kUser = 1ull << 2, kLargeBit = 1ull << 7,
                     kPatSmallBit = 1ull << 7, kPatLargeBit = 1ull << 12;

/// Rights of a walk packed in a word: W at bit 1 and U at bit 2 (where the entries carry
/// R/W and U/S), and "may execute" at bit 63 (the complement of XD).
inline constexpr u64 kMayWrite = kWrite, kMayUser = kUser, kMayExec = 1ull << 63;
inline constexpr u64 kAllRights = kMayWrite | kMayUser | kMayExec;

/// `acc` (packed rights) narrowed by one entry `raw` of the walk: R/W and U/S are ANDed
/// over the levels, XD is ORed (SDM Vol 3A §4.6.1). `xd` is the mask of the XD bit, 0
/// when IA32_EFER.NXE is clear (no execute restriction at all).
template <class W> W combine_rights(const W& acc, const W& raw, u64 xd) {
  const W no_wu = ~raw & lit(raw, kWrite | kUser);
  const W no_x = ite((raw & lit(raw, xd)) == lit(raw, 0), lit(raw, 0), lit(raw, kMayExec));
  return acc & ~(no_wu | no_x);
}

/// A non-leaf entry pointing at the table page at `table_pa` (4 KiB aligned): present,
/// writable, user; all restriction lives in the leaves, as Linux builds its tables.
template <class W> W table_entry(const W& table_pa) { return table_pa | lit(table_pa, kPresent | kWrite | kUser); }

/// A leaf's attribute bits in the 4 KiB-leaf layout: bits 11:1 (PAT at bit 7) and 63:59.
/// A large leaf keeps PS at bit 7 and PAT at bit 12 (SDM Vol 3A Tables 4-15 to 4-18).
inline constexpr u64 kAttrBits = bits(1, 11) | bits(59, 63);

/// The attributes of leaf `raw` in the 4 KiB-leaf layout, whichever its size.
template <class W> W leaf_attr_word(const W& raw, bool large) {
  if (!large) return raw & lit(raw, kAttrBits);
  const W pat = ite((raw & lit(raw, kPatLargeBit)) == lit(raw, 0), lit(raw, 0), lit(raw, kPatSmallBit));
  return (raw & lit(raw, kAttrBits & ~kPatSmallBit)) | pat;
}

/// A present leaf mapping `pa` (aligned to its size) with attributes `attrs` in the 4 KiB
/// layout (leaf_attr_word's); a large leaf gets PS and its PAT moved to bit 12.
template <class W> W make_leaf(const W& pa, const W& attrs, bool large) {
  const W a = attrs & lit(attrs, kAttrBits);
  if (!large) return pa | a | lit(pa, kPresent);
  const W pat = ite((a & lit(a, kPatSmallBit)) == lit(a, 0), lit(a, 0), lit(a, kPatLargeBit));
  return pa | (a & lit(a, ~kPatSmallBit)) | pat | lit(pa, kPresent | kLargeBit);
}

}  // namespace vmref::impl::x86_64::arith
