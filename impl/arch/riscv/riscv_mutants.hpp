// RISC-V's deliberately broken variants (spec/formats/riscv.md "Mutants"): SFENCE.VMA
// forms that drop too little or too much, Svinval brackets missing a fence, and leaf encodings the architecture refuses or
// reads differently. Each is caught by the differential (spec/differential.md §3).
#pragma once

#include "vmref/impl/mutant.hpp"

namespace vmref::impl::riscv {

/// SFENCE.VMA rs1=va drops 4 KiB entries only, not a superpage covering va. Not const:
/// its profile (one with superpage leaves) is looked up when the format registers.
extern MutantInfo kFenceVaKeepsSuperpages;
extern const MutantInfo kAsidFenceDropsGlobals;  ///< SFENCE.VMA x0, asid also drops global entries
extern const MutantInfo kWriteWithoutRead;       ///< writable leaves written R=0 W=1 (reserved), and the walk accepts them
extern const MutantInfo kUserAlwaysSet;          ///< every leaf written with U=1, kernel pages included
extern const MutantInfo kDirtyNotSet;            ///< the walk sets A but never D on a store
extern const MutantInfo kSinvalWithoutInvalIr;   ///< Svinval: no SFENCE.INVAL.IR after SINVAL.VMA, yet the TLB counts it done
extern const MutantInfo kSinvalBeforeWInval;     ///< Svinval: SINVAL.VMA issued before SFENCE.W.INVAL, yet the TLB counts it done
extern const MutantInfo kMisalignedSuperpage;    ///< superpage PPN written in units of its size (misaligned), decoded instead of faulting

}  // namespace vmref::impl::riscv
