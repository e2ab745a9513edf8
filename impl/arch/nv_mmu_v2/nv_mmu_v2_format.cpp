#include "nv_mmu_v2_format.hpp"

#include <cstdio>
#include <stdexcept>

#include "nv_mmu_v2_arith.hpp"
#include "nv_mmu_v2_mutants.hpp"

namespace vmref::impl::nv_mmu_v2 {

namespace {
std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
constexpr unsigned kShift[kLevels] = {47, 38, 29, 21, 12};
constexpr unsigned kBits[kLevels] = {2, 9, 9, 8, 9};
constexpr std::uint64_t kPeerMask = 7ull << kPeerShift;
}  // namespace

unsigned aperture(std::uint64_t raw) { return static_cast<unsigned>((raw & kApertureMask) >> 1); }

Format::Format(Config c) : cfg_(c) {
  if (c.gpu != kPascal && c.gpu != kVolta && c.gpu != kTuring && c.gpu != kAmpere && c.gpu != kAda)
    throw std::invalid_argument("nv_mmu_v2: --gpu must be 60 (Pascal), 70 (Volta), 75 (Turing), 86 (Ampere) or 89 (Ada)");
}

unsigned Format::shift(unsigned level) const { return kShift[level]; }
unsigned Format::index_bits(unsigned level) const { return kBits[level]; }

std::uint64_t Format::load(const std::uint64_t* w, unsigned level) const {
  if (level != kPd0) return w[0];
  if ((w[0] & kValid) && !is(&k2MLeafIgnored)) return w[0];  // IS_PTE: a 2 MiB PTE in the low word
  std::uint64_t small = w[1];
  std::uint64_t view = small & ~kSmallUnused;
  if (is(&kSmallHalfShift8) && aperture(small) != kPdeInvalid)  // the mutant's own reading of its writes
    view = (view & ~arith::kVidField) | (arith::make_vid<std::uint64_t>(small & arith::kVidField, 0) & arith::kVidField);
  if (small & kSmallUnused) view |= kViewSmallOdd;
  if (w[0]) view |= kViewBigInUse;
  return view;
}

void Format::store(std::uint64_t* w, unsigned level, std::uint64_t view) const {
  if (level != kPd0) {
    w[0] = view;
    return;
  }
  if (view & kValid) {
    w[0] = view;
    w[1] = 0;
    return;
  }
  std::uint64_t small = view & ~kSmallUnused;
  if (is(&kSmallHalfShift8) && aperture(small) != kPdeInvalid)  // the small address in 256-byte units
    small = (small & ~arith::kVidField) | (arith::vid_address(small) & arith::kVidField);
  if (!(view & kViewBigInUse)) w[0] = 0;
  w[1] = small;
}

bool Format::is_present(std::uint64_t raw) const { return (raw & kValid) || (raw & kApertureMask); }

bool Format::is_leaf(std::uint64_t raw, unsigned level) const {
  if (level == kPt) return true;
  if (is(&kPdeValidBit)) return (raw & kValid) && aperture(raw) == kPteVid;  // its PDEs carry aperture VIDEO
  return raw & kValid;
}

std::uint64_t Format::address(std::uint64_t raw, unsigned level) const {
  unsigned ap = aperture(raw);
  bool vid = is_leaf(raw, level) ? (ap == kPteVid || ap == kPtePeer) : ap == kPdeVid;
  return vid ? arith::vid_address(raw) : arith::sys_address(raw);
}

bool Format::leaf_allowed(unsigned level) const {
  return level == kPt || level == kPd0 || (level == kPd1 && cfg_.gpu >= kAmpere);
}

std::uint64_t Format::reserved_bits(std::uint64_t raw, unsigned level) const {
  if (level == kPt) return (raw & kValid) ? 0 : raw & kApertureMask;  // an invalid PTE is no translation
  if (raw & kValid) {
    if (is(&kPdeValidBit) && aperture(raw) != kPteVid) return 0;
    if (!leaf_allowed(level)) return kValid;  // IS_PTE where this GPU has no page size
    std::uint64_t r = 0;
    unsigned ap = aperture(raw);
    if (ap == kPteVid) r |= raw & kPeerMask;  // a peer ID in a local vidmem PTE
    if (ap == kPteVid || ap == kPtePeer) r |= arith::misaligned_bits(raw, shift(level));
    return r;
  }
  std::uint64_t r = raw & kPdeReservedHigh;
  if (level == kPd0) r |= raw & (kViewBigInUse | kViewSmallOdd);
  return r;
}

Entry Format::decode(std::uint64_t raw, unsigned level) const {
  Entry e;
  e.present = level == kPt ? (raw & kValid) != 0 : is_present(raw);
  if (!e.present) return e;
  e.leaf = is_leaf(raw, level);
  e.addr = address(raw, level);
  std::uint64_t r = reserved_bits(raw, level);
  if (!r) return e;
  if (e.leaf && r == kValid && !leaf_allowed(level))
    e.reserved = "IS_PTE=1 at PD" + std::to_string(kPd0 - level) + ": GPU generation " + std::to_string(cfg_.gpu) +
                 " has no page size there";
  else if (e.leaf && (r & kPeerMask)) e.reserved = "peer ID " + hex((raw & kPeerMask) >> kPeerShift) + " in a vidmem PTE";
  else if (e.leaf) e.reserved = "misaligned large page: address bits below its size set (PTE bits " + hex(r) + ")";
  else if (r & kViewBigInUse)
    e.reserved = "dual PDE with its big-page half in use (decoded by the format's own walk, `vmref walk`)";
  else if (r & kViewSmallOdd) e.reserved = "unused dual-PDE bits (71:68, 64) set";
  else e.reserved = "PDE bits 63:54 set " + hex(r);
  return e;
}

Rights Format::combine(Rights parent, std::uint64_t raw) const {
  if (!(raw & kValid)) return parent;
  unsigned ap = aperture(raw);
  bool x = (ap == kPteVid || ap == kPtePeer) ? (raw & kHarnessX) != 0 : true;
  return {parent.w && !(raw & kReadOnly), parent.u && !(raw & kPrivilege), parent.x && x};
}

std::uint64_t Format::encode_table(std::uint64_t table_pa) const {
  std::uint64_t low = std::uint64_t{is(&kPdePteAperture) ? kPteVid : kPdeVid} << 1;
  if (is(&kPdeValidBit)) low |= kValid;
  return arith::make_vid(table_pa, low);
}

std::uint64_t Format::encode_leaf(std::uint64_t pa, unsigned, const LeafAttrs& a) const {
  std::uint64_t w = kValid;  // aperture 0: VIDEO_MEMORY; kind 0: pitch
  if (!a.rights.u) w |= kPrivilege;
  if (!a.rights.w && !is(&kReadOnlyIgnored)) w |= kReadOnly;
  if (a.rights.x) w |= kHarnessX;
  if (a.global) w |= kHarnessG;
  if (a.accessed) w |= kHarnessA;
  if (a.dirty) w |= kHarnessD;
  w |= static_cast<std::uint64_t>(a.soft & 3) << kHarnessSoftShift;
  return arith::make_vid(pa, w);
}

LeafAttrs Format::leaf_attrs(std::uint64_t raw, unsigned) const {
  LeafAttrs a;
  unsigned ap = aperture(raw);
  bool vid = ap == kPteVid || ap == kPtePeer;  // sysmem: 41:36 are address bits
  a.rights = {!(raw & kReadOnly), !(raw & kPrivilege), vid ? (raw & kHarnessX) != 0 : true};
  if (!vid) return a;
  a.global = raw & kHarnessG;
  a.accessed = raw & kHarnessA;
  a.dirty = raw & kHarnessD;
  a.soft = static_cast<std::uint8_t>((raw >> kHarnessSoftShift) & 3);
  return a;
}

std::uint64_t Format::mark_used(std::uint64_t raw, bool leaf, bool write) const {
  if (!leaf || (aperture(raw) != kPteVid && aperture(raw) != kPtePeer)) return raw;
  return raw | kHarnessA | (write ? kHarnessD : 0);
}

std::uint64_t pdb_address(std::uint64_t pdb) {
  if (pdb & 0xfff) throw std::invalid_argument("PDB " + hex(pdb) + " is not 4 KiB aligned (every directory is one 4 KiB page)");
  if (pdb >> 37) throw std::invalid_argument("PDB " + hex(pdb) + " lies beyond the vidmem address field (2^37 bytes)");
  return pdb;
}

}  // namespace vmref::impl::nv_mmu_v2
