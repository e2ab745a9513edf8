// The radix engine's deliberately broken variants (radix_table.cpp), caught by the table
// layer of `vmref fuzz` (DIFF-TBL-*) or by the VMM layer's page comparisons.
#pragma once

#include "vmref/impl/mutant.hpp"

namespace vmref::impl {

extern const MutantInfo kSplitLosesLast;    ///< splitting a large page writes all but its last entry
extern const MutantInfo kReclaimLiveTable;  ///< a table page is reclaimed while it still holds one live entry
extern const MutantInfo kTableLeak;         ///< emptied table pages are never reclaimed
extern const MutantInfo kNoAccessedBit;     ///< the hardware walk never sets A

/// Registers the rows above (before any format or kernel).
void register_engine_mutants();

}  // namespace vmref::impl
