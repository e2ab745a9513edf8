#include "riscv_format.hpp"

#include <cstdio>
#include <stdexcept>

#include "riscv_arith.hpp"
#include "riscv_mutants.hpp"

namespace vmref::impl::riscv {

namespace {
std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

Format::Format(Config c) : cfg_(c), levels_((c.sv - 12) / 9) {
  if (c.sv != 39 && c.sv != 48 && c.sv != 57) throw std::invalid_argument("RISC-V paging mode must be Sv39, Sv48 or Sv57");
}

std::uint64_t Format::address(std::uint64_t raw, unsigned level) const {
  // The mutant counts a superpage's PPN in pages of its own size.
  if (is(&kMisalignedSuperpage) && is_leaf(raw, level)) return ((raw >> kPpnShift) & kPpnMask) << shift(level);
  return arith::pte_address(raw);
}

std::uint64_t Format::reserved_bits(std::uint64_t raw, unsigned level) const {
  std::uint64_t r = raw & kHighReserved;  // N, PBMT and 60:54 (no Svnapot, no Svpbmt)
  if ((raw & (kR | kW)) == kW && !is(&kWriteWithoutRead)) r |= kW;  // W without R (§4.3.1)
  if (!is_leaf(raw, level)) {
    r |= raw & (kA | kD | kU);                       // reserved in a pointer (§4.3.1)
    if (level + 1 == levels_) r |= kV;               // no level below: step 5 faults
  } else if (!is(&kMisalignedSuperpage)) {
    r |= arith::misaligned_bits(raw, shift(level));   // misaligned superpage (step 6)
  }
  return r;
}

Entry Format::decode(std::uint64_t raw, unsigned level) const {
  Entry e;
  e.present = raw & kV;
  if (!e.present) return e;
  e.leaf = is_leaf(raw, level);
  e.addr = address(raw, level);
  std::uint64_t r = reserved_bits(raw, level);
  if (!r) return e;
  if (r & kHighReserved) e.reserved = "reserved bits " + hex(r & kHighReserved) + " (63:54: no Svnapot/Svpbmt)";
  else if ((r & kW) && e.leaf) e.reserved = "W=1 with R=0 (reserved encoding)";
  else if (!e.leaf && (r & kV)) e.reserved = "pointer (R=W=X=0) at the last level";
  else if (!e.leaf) e.reserved = "A/D/U set in a pointer " + hex(r);
  else e.reserved = "misaligned superpage: PPN bits below its size set (PTE bits " + hex(r) + ")";
  return e;
}

Rights Format::combine(Rights parent, std::uint64_t raw) const {
  if (!is_leaf(raw, 0)) return parent;
  return {parent.w && (raw & kW), parent.u && (raw & kU), parent.x && (raw & kX)};
}

std::uint64_t Format::canonical(std::uint64_t va) const {
  return arith::canonical(va, cfg_.sv);
}

std::uint64_t Format::encode_table(std::uint64_t table_pa) const { return arith::make_pte(table_pa, kV); }

std::uint64_t Format::encode_leaf(std::uint64_t pa, unsigned level, const LeafAttrs& a) const {
  std::uint64_t w = kV | kR;
  if (a.rights.w) w |= kW;
  if (a.rights.w && is(&kWriteWithoutRead)) w &= ~kR;
  if (a.rights.x) w |= kX;
  if (a.rights.u || is(&kUserAlwaysSet)) w |= kU;
  if (a.global) w |= kG;
  if (a.accessed) w |= kA;
  if (a.dirty) w |= kD;
  w |= static_cast<std::uint64_t>(a.soft & 3) << kRswShift;
  if (is(&kMisalignedSuperpage) && level + 1 < levels_) return w | ((pa >> shift(level)) & kPpnMask) << kPpnShift;
  return arith::make_pte(pa, w);
}

LeafAttrs Format::leaf_attrs(std::uint64_t raw, unsigned) const {
  LeafAttrs a;
  a.rights = {static_cast<bool>(raw & kW), static_cast<bool>(raw & kU), static_cast<bool>(raw & kX)};
  a.global = raw & kG;
  a.accessed = raw & kA;
  a.dirty = raw & kD;
  a.soft = static_cast<std::uint8_t>((raw >> kRswShift) & 3);
  return a;
}

std::uint64_t Format::mark_used(std::uint64_t raw, bool leaf, bool write) const {
  if (!leaf) return raw;
  return raw | kA | (write && !is(&kDirtyNotSet) ? kD : 0);
}

std::uint64_t root_from_satp(std::uint64_t satp, unsigned sv) {
  unsigned mode = static_cast<unsigned>(satp >> 60);
  unsigned want = sv == 39 ? 8 : sv == 48 ? 9 : 10;
  if (mode == 0) throw std::invalid_argument("satp " + hex(satp) + ": MODE 0 is Bare (no translation)");
  if (mode != want)
    throw std::invalid_argument("satp " + hex(satp) + ": MODE " + std::to_string(mode) + " is not Sv" +
                                std::to_string(sv) + "'s " + std::to_string(want) + " (set --sv)");
  return (satp & kPpnMask) << 12;
}

}  // namespace vmref::impl::riscv
