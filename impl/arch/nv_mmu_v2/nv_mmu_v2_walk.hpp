// The VER2 GMMU's architectural walk of a whole address space, with both halves of the
// dual PDE: the 64 KiB big-page table (32 PTEs, 256 bytes, shift 8 in the big half) and
// the 4 KiB small-page table, resolved per 64 KiB chunk by the big PTE's state
// ([NV-PASCAL]; [NV-MMU3]/nouveau vmm.c for the U/I/S/V names; spec/formats/nv_mmu_v2.md
// "Big-page states" and "Sparse"). `vmref walk --arch nv_mmu_v2` runs it.
#pragma once

#include <cstdint>
#include <functional>

#include "vmref/impl/gmmu_walk.hpp"
#include "vmref/impl/phys_mem.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "nv_mmu_v2_format.hpp"

namespace vmref::impl::nv_mmu_v2 {

using gmmu::BigState;
/// A big PTE's state [NV-PASCAL]: VALID = 1 is V; with VALID = 0 only PRIVILEGE (I) and
/// VOL (S) keep a meaning, neither is U; I wins over S when
/// both are set (spec choice V2-C4).
BigState big_state(std::uint64_t big_pte);

/// Whether a PD0 dual PDE (`low`, `high`: its two words) makes its 2 MiB range sparse:
/// both apertures 0 and VOL_BIG = 1 [NV-PASCAL; NV-MMU2].
bool dual_pde_sparse(std::uint64_t low, std::uint64_t high);

/// Every leaf under `pdb` in VA order: 4 KiB, 64 KiB, 2 MiB and (Ampere on) 512 MiB pages,
/// each with `raw` its PTE and rights as Format::combine gives them; sparse ranges and
/// ranges hidden by an I or S big PTE list nothing. An entry not followed is reported to
/// `issue`: reserved encodings, tables outside `mem`, and a table page already entered at
/// the same level (so every table is read at most once and the walk ends on any memory).
void walk(const PhysReader& mem, const Format& fmt, std::uint64_t pdb, const std::function<void(const Leaf&)>& leaf,
          const std::function<void(const WalkIssue&)>& issue);

}  // namespace vmref::impl::nv_mmu_v2
