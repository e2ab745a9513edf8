// x86-64's deliberately broken variants (spec/formats/x86_64.md "Mutants"): TLB
// maintenance that disagrees with the SDM, and a leaf encoding with XD at the wrong bit.
#pragma once

#include "vmref/impl/mutant.hpp"

namespace vmref::impl::x86_64 {

extern const MutantInfo kInvlpgIgnoresPcid;    ///< shootdown uses INVLPG on every CPU, as if it reached other PCIDs
extern const MutantInfo kCr3DropsGlobals;      ///< the TLB drops global entries on MOV to CR3
extern const MutantInfo kInvpcid2KeepsGlobals; ///< the TLB keeps global entries through INVPCID type 2
extern const MutantInfo kInvpcid0KeepsWalks;   ///< INVPCID type 0 drops leaves only, not the paging-structure caches
extern const MutantInfo kXdWrongBit;           ///< XD written and tested at bit 62 instead of 63

}  // namespace vmref::impl::x86_64
