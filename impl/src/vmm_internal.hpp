// Private parts of the VMM core shared by its source files.
#pragma once

#include <algorithm>

#include "vmref/impl/vmm.hpp"
#include "vmref/model/address_space.hpp"

namespace vmref::impl {

inline constexpr std::uint64_t kPage = 4096;
inline constexpr unsigned kPageShift = 12;
/// Pages above which a range shootdown becomes a whole-context flush (Linux
/// tlb_single_page_flush_ceiling, arch/x86/mm/tlb.c).
inline constexpr std::uint64_t kFlushCeiling = 33;

struct Vmm::Space {
  Space(model::Asid a, std::uint16_t c, FramePool& pool, const RadixCodec& codec, Mutant m)
      : asid(a), ctx(c), table(pool, codec, m) {}
  model::Asid asid;
  std::uint16_t ctx;                       ///< PCID / ASID
  RadixTable table;
  std::map<model::Va, model::Vseg> vsl;    ///< disjoint, keyed by start
  bool has_brk = false;
  model::Va brk_start = 0, brk = 0;
  model::MermapState mermap;
};

/// A file (page cache) or shared-anonymous (shmem) object.
struct Vmm::Object {
  bool shmem = false;
  bool live = true;
  std::optional<std::uint64_t> pages;                   ///< size; faults beyond are SIGBUS
  std::unordered_map<std::uint64_t, std::uint64_t> cache;  ///< page index -> PFN
  std::uint64_t vsegs = 0;                              ///< vsegs mapping it (shmem dies at 0)
};

/// Whether a vseg's rights allow an access of this kind.
inline bool permits(model::Prot p, model::AccessKind k) {
  return k == model::AccessKind::read ? p.r : k == model::AccessKind::write ? p.w : p.x;
}

inline bool aligned(std::uint64_t v) { return (v & (kPage - 1)) == 0; }
inline std::uint64_t page_round(std::uint64_t len) {
  return len > UINT64_MAX - (kPage - 1) ? 0 : (len + kPage - 1) & ~(kPage - 1);
}

}  // namespace vmref::impl
