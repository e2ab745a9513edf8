// The VER2 format's deliberately broken variants (spec/formats/nv_mmu_v2.md "Mutants"):
// entry encodings the GMMU reads differently, and invalidations that drop the wrong set.
// Each is caught by the differential (spec/differential.md §3).
#pragma once

#include "vmref/impl/mutant.hpp"

namespace vmref::impl::nv_mmu_v2 {

extern const MutantInfo kSmallHalfShift8;   ///< dual PDE small half written with the big half's shift (8)
extern const MutantInfo kPdeValidBit;       ///< PDEs written with bit 0 set, as if presence were a VALID bit
extern const MutantInfo kReadOnlyIgnored;   ///< READ_ONLY never written
extern const MutantInfo kAckNoneComplete;   ///< invalidates issued with ACK NONE, treated as complete
/// A targeted invalidate drops 4 KiB entries only, keeping a 2 MiB one over the VA. Not
/// const: its profile (one with 2 MiB leaves) is looked up when the format registers.
extern MutantInfo kTargetedKeeps2M;
/// PDEs written with the PTE aperture encoding: VIDEO_MEMORY is 0 there, which a PDE
/// reads as INVALID, so the GMMU sees no table the kernel installs.
extern const MutantInfo kPdePteAperture;
/// The codec reads a PD0 slot as a dual PDE even when IS_PTE says it holds a 2 MiB PTE.
/// Not const: its profile (2 MiB leaves) is looked up when the format registers.
extern MutantInfo k2MLeafIgnored;
/// The big PTE of state S (sparse) written as U (all zero), as if sparse were unmapped:
/// the small PTEs beneath are read again. Its profile is a GPU kernel's.
extern MutantInfo kSparseAsUnmapped;
/// A targeted invalidate ignores SIZE and drops the 4 KiB at VADDR only. Its profile is a
/// GPU kernel's (the harness's CPU kernels invalidate one page at a time).
extern MutantInfo kTargetedIgnoresSize;

/// The dual PDE's big half written with the small half's shift (12, not 8): the GMMU
/// reads the big page table at a sixteenth of its address. Its profile is a GPU kernel's
/// (nova writes the big halves).
extern MutantInfo kBigHalfShift12;

}  // namespace vmref::impl::nv_mmu_v2
