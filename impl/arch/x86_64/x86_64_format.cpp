#include "x86_64_format.hpp"

#include "x86_64_arith.hpp"

#include <cstdio>
#include <stdexcept>

namespace vmref::impl::x86_64 {

using arith::bits;

Format::Format(Config c) : cfg_(c) {
  if (c.levels != 4 && c.levels != 5) throw std::invalid_argument("x86-64 paging has 4 or 5 levels");
  if (c.maxphyaddr < 32 || c.maxphyaddr > 52) throw std::invalid_argument("MAXPHYADDR must be 32..52");
  // Precomputed per level so the engine's hot paths are a mask and a test.
  table_addr_ = bits(12, c.maxphyaddr - 1);
  for (unsigned l = 0; l < c.levels; ++l) {
    leaf_addr_[l] = bits(shift(l), c.maxphyaddr - 1);
    reserved_[l] = bits(c.maxphyaddr, 51) | (c.nxe ? 0 : kXD) | (l + 3 <= c.levels - 1 ? kPS : 0);
    reserved_large_[l] = reserved_[l] | (l != c.levels - 1 ? bits(13, shift(l) - 1) : 0);
  }
}

std::uint64_t Format::address(std::uint64_t raw, unsigned level) const {
  return raw & (is_leaf(raw, level) ? leaf_addr_[level] : table_addr_);
}

std::uint64_t Format::reserved_bits(std::uint64_t raw, unsigned level) const {
  // Above MAXPHYADDR (SDM §4.5.4); XD without NXE; PS in a PML5E/PML4E; the low
  // address bits of a large leaf (Tables 4-15 to 4-19).
  return raw & ((raw & kPS) ? reserved_large_[level] : reserved_[level]);
}

Entry Format::decode(std::uint64_t raw, unsigned level) const {
  Entry e;
  e.present = raw & kP;
  if (!e.present) return e;
  const unsigned last = cfg_.levels - 1;
  const unsigned m = cfg_.maxphyaddr;
  std::uint64_t reserved = bits(m, 51);  // above MAXPHYADDR (SDM §4.5.4)
  if (!cfg_.nxe) reserved |= kXD;
  bool large = (raw & kPS) && level != last;
  if ((raw & kPS) && level + 3 <= last) {  // PML5E/PML4E: PS is reserved
    e.reserved = "PS set in a level-" + std::to_string(level) + " entry (reserved)";
    return e;
  }
  if (level == last || large) {
    e.leaf = true;
    unsigned page_shift = shift(level);
    if (large) reserved |= bits(13, page_shift - 1);  // 2 MiB: 20:13, 1 GiB: 29:13
    e.addr = arith::leaf_address(raw, page_shift, m);
  } else {
    e.addr = raw & bits(12, m - 1);
  }
  if (raw & reserved) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "reserved bits 0x%llx set (MAXPHYADDR %u)",
                  static_cast<unsigned long long>(raw & reserved), m);
    e.reserved = buf;
  }
  return e;
}

Rights Format::combine(Rights parent, std::uint64_t raw) const {
  // R/W and U/S are ANDed over the walk, XD is ORed (SDM §4.6.1; LEM-X86-RIGHTS-1).
  std::uint64_t acc = (parent.w ? arith::kMayWrite : 0) | (parent.u ? arith::kMayUser : 0) | (parent.x ? arith::kMayExec : 0);
  acc = arith::combine_rights(acc, raw, cfg_.nxe ? xd() : 0);
  return {(acc & arith::kMayWrite) != 0, (acc & arith::kMayUser) != 0, (acc & arith::kMayExec) != 0};
}

std::uint64_t Format::encode_table(std::uint64_t table_pa) const {
  // Non-leaf entries grant everything; restrictions live in the leaves (as Linux builds them).
  return arith::table_entry(table_pa);
}

// A leaf goes through arith::make_leaf / leaf_attr_word, whose split arithmetic
// LEM-X86-SPLIT-1 proves; here only LeafAttrs is packed to and from their 4 KiB layout.
std::uint64_t Format::encode_leaf(std::uint64_t pa, unsigned level, const LeafAttrs& a) const {
  std::uint64_t w = 0;
  if (a.rights.w) w |= kRW;
  if (a.rights.u) w |= kUS;
  if (!a.rights.x && cfg_.nxe) w |= xd();
  if (a.global) w |= kG;
  if (a.accessed) w |= kA;
  if (a.dirty) w |= kD;
  std::uint64_t cache = a.arch & 7, pkey = (a.arch >> 3) & 0xf;  // arch_fields() order
  if (cache & 1) w |= kPWT;
  if (cache & 2) w |= kPCD;
  if (cache & 4) w |= kPatSmall;
  w |= static_cast<std::uint64_t>(a.soft & 7) << 9;
  w |= pkey << kPkeyShift;
  return arith::make_leaf(pa, w, level != cfg_.levels - 1);
}

LeafAttrs Format::leaf_attrs(std::uint64_t raw, unsigned level) const {
  std::uint64_t w = arith::leaf_attr_word(raw, level != cfg_.levels - 1);
  LeafAttrs a;
  a.rights = {static_cast<bool>(w & kRW), static_cast<bool>(w & kUS), !(cfg_.nxe && (w & xd()))};
  a.global = w & kG;
  a.accessed = w & kA;
  a.dirty = w & kD;
  std::uint64_t cache = ((w & kPWT) ? 1 : 0) | ((w & kPCD) ? 2 : 0) | ((w & kPatSmall) ? 4 : 0);
  a.arch = cache | ((w >> kPkeyShift) & 0xf) << 3;
  a.soft = static_cast<std::uint8_t>((w >> 9) & 7);
  return a;
}

std::uint64_t Format::mark_used(std::uint64_t raw, bool leaf, bool write) const {
  return raw | kA | (leaf && write ? kD : 0);
}

std::uint64_t Format::canonical(std::uint64_t va) const {
  return arith::canonical(va, cfg_.levels == 5 ? 56u : 47u);
}

std::string qemu_tlb_line(std::uint64_t va, std::uint64_t raw, std::uint64_t page_size) {
  std::uint64_t mask = page_size == (1ull << 30) ? 0x3ffffc0000000ull
                       : page_size == (1ull << 21) ? 0x3ffffffe00000ull : 0x3fffffffff000ull;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%016llx: %016llx %c%c%c%c%c%c%c%c%c", static_cast<unsigned long long>(va),
                static_cast<unsigned long long>(raw & mask), raw & kXD ? 'X' : '-', raw & kG ? 'G' : '-',
                raw & kPS ? 'P' : '-', raw & kD ? 'D' : '-', raw & kA ? 'A' : '-', raw & kPCD ? 'C' : '-',
                raw & kPWT ? 'T' : '-', raw & kUS ? 'U' : '-', raw & kRW ? 'W' : '-');
  return buf;
}

}  // namespace vmref::impl::x86_64
