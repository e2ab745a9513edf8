// The architectural walk of a GMMU address space, shared by the NVIDIA page-table formats
// (VER2, VER3): radix directories down to PD0, whose 16-byte dual PDE holds a big-page
// table (32 PTEs of 64 KiB) and a small-page table (512 PTEs of 4 KiB), resolved per
// 64 KiB chunk by the big PTE's state ([NV-PASCAL]; [NV-MMU3]; nouveau vmm.c for the
// U/I/S/V names; spec/formats/nv_mmu_v2.md and nv_mmu_v3.md "Big-page states").
// Each format gives its levels and the encodings that differ (WalkRules).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "vmref/impl/phys_mem.hpp"
#include "vmref/impl/radix_format.hpp"
#include "vmref/impl/radix_walk.hpp"

namespace vmref::impl::gmmu {

/// The state of a big (64 KiB) PTE and what it means for the 16 small PTEs beneath.
enum class BigState {
  unmapped,  ///< U: the small PTEs are read
  invalid,   ///< I: no small PTE is valid, none is read
  sparse,    ///< S: sparse, the small PTEs are not read
  valid,     ///< V: a 64 KiB page
};

/// The two halves of a PD0 dual PDE as a format decodes them: each half's table byte
/// address when its aperture is non-zero, and `unused`, a description of set bits the
/// upper word must leave clear ("" when none).
struct DualHalves {
  bool big = false, small = false;
  std::uint64_t big_pt = 0, small_pt = 0;
  std::string unused;
};

/// What a generation's walk takes from its format besides the RadixCodec (levels are
/// the codec's numbers: `root` first, `pd0` holds dual PDEs, `pt` is the small PT).
struct WalkRules {
  unsigned root = 0, pd0 = 0, pt = 0;
  /// Address bits of leaf `raw` that misalign a `size`-byte page (0: aligned or n/a).
  std::function<std::uint64_t(std::uint64_t raw, std::uint64_t size)> misaligned;
  std::function<BigState(std::uint64_t big_pte)> big_state;
  /// Whether dual PDE (`low`, `high`) makes its whole 2 MiB range sparse.
  std::function<bool(std::uint64_t low, std::uint64_t high)> dual_sparse;
  std::function<DualHalves(std::uint64_t low, std::uint64_t high)> halves;
};

/// Every leaf under `pdb` in VA order (4 KiB, 64 KiB, 2 MiB and larger PTEs), each with
/// its raw PTE and the rights `fmt.combine` gives; sparse ranges and ranges hidden by an
/// I or S big PTE list nothing. An entry not followed is reported to `issue`: reserved
/// encodings, tables outside `mem`, and a table page already entered at the same level
/// (every table is read at most once, so the walk ends on any memory). Bit 0 of a PTE is
/// VALID in every generation.
void walk(const PhysReader& mem, const RadixCodec& fmt, const WalkRules& rules, std::uint64_t pdb,
          const std::function<void(const Leaf&)>& leaf, const std::function<void(const WalkIssue&)>& issue);

}  // namespace vmref::impl::gmmu
