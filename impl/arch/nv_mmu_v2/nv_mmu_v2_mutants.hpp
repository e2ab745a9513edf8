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

}  // namespace vmref::impl::nv_mmu_v2
