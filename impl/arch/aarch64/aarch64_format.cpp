#include "aarch64_format.hpp"

#include <cstdio>
#include <stdexcept>

#include "aarch64_mutants.hpp"

namespace vmref::impl::aarch64 {

namespace {
std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

unsigned page_shift_of(unsigned granule_kib) {
  switch (granule_kib) {
    case 4: return 12;
    case 16: return 14;
    case 64: return 16;
  }
  throw std::invalid_argument("AArch64 granule must be 4, 16 or 64 KiB, not " + std::to_string(granule_kib));
}
}  // namespace

Format::Format(Config c) : cfg_(c), page_shift_(page_shift_of(c.granule_kib)), stride_(page_shift_ - 3) {
  if (c.engine && c.granule_kib != 4)
    throw std::invalid_argument("AArch64 granule " + std::to_string(c.granule_kib) +
                                " KiB: the shared engine builds tables in 4 KiB frames, so only `vmref walk` reads this granule");
  const unsigned region = c.va_bits - 1;  // each TTBR's region (64 - TxSZ)
  if (c.va_bits < 25 || c.va_bits > 49)
    throw std::invalid_argument("AArch64 va-bits must lie in 25..49 (regions of 24..48 bits), not " + std::to_string(c.va_bits));
  // Levels of a region (Linux ARM64_HW_PGTABLE_LEVELS; QEMU's start level): (region-4)/stride.
  levels_ = (region - 4) / stride_;
  if (c.va_bits - shift(0) > stride_)
    throw std::invalid_argument("AArch64 va-bits " + std::to_string(c.va_bits) + " with the " + std::to_string(c.granule_kib) +
                                " KiB granule: each region's level-0 table has " +
                                std::to_string(1u << (region - shift(0))) +
                                " entries, more than half a table page holds (choose another width)");
}

bool Format::leaf_allowed(unsigned level) const {
  int a = arch_level(level);
  if (level + 1 == levels_) return true;
  return page_shift_ == 12 ? (a == 1 || a == 2) : a == 2;
}

std::uint64_t Format::reserved_bits(std::uint64_t raw, unsigned level) const {
  std::uint64_t r = raw & (kOaHighRes0 | (((1ull << page_shift_) - 1) & ~0xfffull));  // RES0 OA bits
  bool last = level + 1 == levels_;
  if (last && !(raw & kTypeTable)) return r | kValid;  // 0b01 at the last level: invalid
  if (!is_leaf(raw, level)) return r;
  if (!last && !leaf_allowed(level)) return r | kValid;  // no block at this level
  return r | arith::misaligned_bits(raw, page_shift_, shift(level));
}

Entry Format::decode(std::uint64_t raw, unsigned level) const {
  Entry e;
  e.present = raw & kValid;
  if (!e.present) return e;
  e.leaf = is_leaf(raw, level);
  e.addr = address(raw, level);
  std::uint64_t r = reserved_bits(raw, level);
  if (!r) return e;
  std::string at = "level " + std::to_string(arch_level(level));
  if (r & kValid)
    e.reserved = level + 1 == levels_ ? "descriptor type 0b01 at " + at + " (reserved: the last level holds pages only)"
                                      : "block descriptor at " + at + " (the " + std::to_string(cfg_.granule_kib) +
                                            " KiB granule has no block there)";
  else if (r & (kOaHighRes0 | 0xf000))
    e.reserved = "RES0 output-address bits " + hex(r & (kOaHighRes0 | 0xf000)) + " set (48-bit PA, no FEAT_LPA/LPA2)";
  else
    e.reserved = "misaligned block at " + at + ": OA bits below its size set (" + hex(r) + ")";
  return e;
}

Rights Format::combine(Rights parent, std::uint64_t raw) const { return combine_at(parent, raw, levels_ - 1); }

Rights Format::combine_at(Rights parent, std::uint64_t raw, unsigned level) const {
  // The restrictions met so far, as table bits: Rights carries them between levels.
  std::uint64_t acc = (parent.w ? 0 : arith::kApTable1) | (parent.u ? 0 : arith::kApTable0) |
                      (parent.x ? 0 : arith::kUxnTable) | (parent.px ? 0 : arith::kPxnTable);
  if (!is_leaf(raw, level)) {
    acc = arith::restrict_by_table(acc, raw);
    return {!(acc & arith::kApTable1), !(acc & arith::kApTable0), !(acc & arith::kUxnTable), !(acc & arith::kPxnTable)};
  }
  std::uint64_t p = arith::perm(acc, raw);
  return {static_cast<bool>(p & arith::kPermW), static_cast<bool>(p & arith::kPermU), static_cast<bool>(p & arith::kPermX), true};
}

std::uint64_t Format::encode_table(std::uint64_t table_pa) const {
  return arith::make_desc(table_pa, kValid | kTypeTable, page_shift_);
}

std::uint64_t Format::encode_leaf(std::uint64_t pa, unsigned level, const LeafAttrs& a) const {
  std::uint64_t w = kValid | (level + 1 == levels_ ? kTypeTable : 0) | kShInner;
  w |= (a.arch & 7) << kAttrIndxShift;
  if (a.rights.u || is(&kEl0AlwaysSet)) w |= arith::kApUser;
  if (a.rights.w) w |= arith::kDbm | (a.dirty ? 0 : arith::kApRdonly);
  else w |= arith::kApRdonly | (a.dirty ? kSwDirty : 0);
  if (a.accessed) w |= kAf;
  if (!a.global) w |= kNg;
  // An EL0 page is never executable at EL1 (PXN, as Linux's PAGE_* for user pages); an
  // EL1 page never at EL0 (UXN).
  std::uint64_t xn_own = a.rights.u ? arith::kUxn : arith::kPxn, xn_other = a.rights.u ? arith::kPxn : arith::kUxn;
  if (is(&kUxnPxnSwapped)) std::swap(xn_own, xn_other);
  w |= xn_other | (a.rights.x ? 0 : xn_own);
  w |= static_cast<std::uint64_t>(a.soft & 3) << kSoftShift;
  return arith::make_desc(pa, w, page_shift_);
}

LeafAttrs Format::leaf_attrs(std::uint64_t raw, unsigned) const {
  LeafAttrs a;
  bool user = raw & arith::kApUser;
  bool dbm = raw & arith::kDbm, rdonly = raw & arith::kApRdonly;
  a.rights = {dbm, user, !(raw & (user ? arith::kUxn : arith::kPxn))};
  a.global = !(raw & kNg);
  a.accessed = raw & kAf;
  a.dirty = dbm ? !rdonly : static_cast<bool>(raw & kSwDirty);
  a.arch = (raw >> kAttrIndxShift) & 7;
  a.soft = static_cast<std::uint8_t>((raw >> kSoftShift) & 3);
  return a;
}

std::uint64_t Format::mark_used(std::uint64_t raw, bool leaf, bool write) const {
  if (!leaf) return raw;
  if (!is(&kAfNotSet)) raw |= kAf;
  if (write && (raw & arith::kDbm)) raw &= ~arith::kApRdonly;
  return raw;
}

std::uint64_t root_from_ttbr0(std::uint64_t ttbr0, std::uint64_t root_bytes) {
  std::uint64_t baddr = ttbr0 & ((1ull << 48) - 1) & ~1ull;
  if (baddr & (root_bytes - 1))
    throw std::invalid_argument("TTBR0_EL1 " + hex(ttbr0) + ": BADDR " + hex(baddr) + " is not aligned to the " +
                                std::to_string(root_bytes) + "-byte level-0 table pair");
  return baddr;
}

}  // namespace vmref::impl::aarch64
