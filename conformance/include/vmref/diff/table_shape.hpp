// DIFF-TBL-2 (spec/differential.md §2): a page-table tree keeps no table page it does not
// need. Shared by the engine layer and the VMM layer.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "vmref/impl/phys_mem.hpp"
#include "vmref/impl/radix_table.hpp"

namespace vmref::diff {

/// Problems with the tree `t`, given the table pages a walk from its root reached
/// (`reachable`): pages held but not reachable (a leak or a use after free), and
/// reachable pages other than the root with no present entry (not reclaimed). One
/// sentence each; empty when the tree is tidy.
std::vector<std::string> table_shape_issues(const impl::SimMemory& mem, const impl::RadixTable& t,
                                            const std::set<std::uint64_t>& reachable);

}  // namespace vmref::diff
