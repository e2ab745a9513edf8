// The VER3 format's deliberately broken variants (spec/formats/nv_mmu_v3.md "Mutants").
// Each is caught by the differential (spec/differential.md §3).
#pragma once

#include "vmref/impl/mutant.hpp"

namespace vmref::impl::nv_mmu_v3 {

extern const MutantInfo kSmallHalfShift8;   ///< dual PDE small half written with the big half's shift (8)
extern const MutantInfo kPdeValidBit;       ///< PDEs written with bit 0 set, as if presence were a VALID bit
extern const MutantInfo kPcfSwapped;        ///< PCF PRIVILEGE and RO bits swapped
extern const MutantInfo kAckNoneComplete;   ///< invalidates issued with ACK NONE, treated as complete
extern MutantInfo kTargetedKeeps2M;         ///< a targeted invalidate keeps a 2 MiB entry (profile set at registration)
extern const MutantInfo kPdePteAperture;    ///< PDEs written with the PTE aperture VIDEO (0), INVALID in a PDE
extern MutantInfo k2MLeafIgnored;           ///< a PD0 slot read as a dual PDE despite IS_PTE (profile: 2 MiB pages)
extern MutantInfo kSparseAsUnmapped;        ///< big PTE state S written as U (profile: a GPU kernel's)
extern MutantInfo kTargetedIgnoresSize;     ///< a targeted invalidate drops the 4 KiB at VADDR only (profile: a GPU kernel's)

/// The dual PDE's big half written with the small half's shift (12, not 8): the GMMU
/// reads the big page table at a sixteenth of its address. Its profile is a GPU kernel's
/// (nova writes the big halves).
extern MutantInfo kBigHalfShift12;

}  // namespace vmref::impl::nv_mmu_v3
