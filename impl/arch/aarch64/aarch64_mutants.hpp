// AArch64's deliberately broken variants (spec/formats/aarch64.md "Mutants"): TLB
// maintenance that completes too early or drops too little or too much, and descriptor
// encodings or hardware flag updates the architecture reads differently. Each is caught
// by the differential (spec/differential.md §3).
#pragma once

#include "vmref/impl/mutant.hpp"

namespace vmref::impl::aarch64 {

/// A TLBI is taken as complete without the DSB after it (Arm ARM D8.13.8): the Mmu skips
/// the DSB and its TLB drops the entries at once.
extern const MutantInfo kTlbiWithoutDsb;
/// TLBI VAE1 drops page entries only, keeping a block entry that covers the VA. Not
/// const: its profile (one with block leaves) is looked up when the format registers.
extern MutantInfo kTlbiVaKeepsBlocks;
extern const MutantInfo kAsidTlbiDropsGlobals;  ///< TLBI ASIDE1 also drops global (nG = 0) entries
extern const MutantInfo kEl0AlwaysSet;          ///< every leaf written with AP[1] = 1 (EL0 access), kernel pages included
extern const MutantInfo kUxnPxnSwapped;         ///< leaves written with UXN and PXN exchanged
extern const MutantInfo kAfNotSet;              ///< the hardware walk never sets AF (and takes no access-flag fault)
/// A page shootdown issues TLBI VALE1 (last level only) where VAE1 is needed: a table
/// entry cleared when its table page was freed is never cleaned, and rewriting it breaks
/// break-before-make (the walk caches may still lead to the freed table).
extern const MutantInfo kVale1ForTables;

}  // namespace vmref::impl::aarch64
