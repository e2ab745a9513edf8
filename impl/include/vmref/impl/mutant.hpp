// Deliberately broken variants of the implementations (spec/differential.md §3). Each
// owner (the radix engine, a page-table format, a kernel's implementation) defines its
// variants as MutantInfo rows in its own folder and registers them; code tests for one
// by identity (`mutant_ == &kTableLeak`). Selected at run time with `--mutant NAME`,
// never on by default; each must be caught by the differential checks:
// conformance/tests/test_mutants.cpp (Differential_3_Mutant) runs a campaign for every row.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vmref::impl {

struct MutantInfo {
  const char* name;     ///< "--mutant" value, e.g. "xd-wrong-bit"
  const char* owner;    ///< "engine", a format's name or a kernel's name
  const char* what;     ///< the bug, one line
  /// The profile whose events reach the broken code; "" for the default profile.
  const char* profile;
  /// Caught by the table layer (engine vs flat map) rather than the VMM layer.
  bool tables = false;
};

/// The active variant: nullptr for none.
using Mutant = const MutantInfo*;

/// Registers a row; throws std::logic_error for a duplicate name.
void add_mutant(const MutantInfo& m);
/// Every registered variant, in registration order.
const std::vector<const MutantInfo*>& all_mutants();
/// The variant named `name`, or nullptr.
Mutant find_mutant(std::string_view name);
/// Every name, for --mutant choice lists.
std::vector<std::string> mutant_names();
/// "none" for nullptr, else the name.
const char* to_string(Mutant m);

}  // namespace vmref::impl
