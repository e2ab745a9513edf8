// The x86-64 lemmas that take a parameter a broken variant changes, so tests can show
// each is caught (spec/formats/x86_64.md §Lemmas). `vmref prove --format x86_64` runs
// them on the format's own functions.
#pragma once

#include <cstdint>
#include <functional>

#include <z3++.h>

#include "vmref/prove/obligation.hpp"

namespace vmref::impl::x86_64 {

/// LEM-X86-RIGHTS-1 for a walk whose entries are combined with XD tested at `xd_mask`
/// (bit 63 on hardware; bit 62 is the xd-wrong-bit mutant): with 4 and 5 levels, NXE set
/// or clear, the combined rights are W iff every entry has R/W, U iff every entry has
/// U/S, X iff NXE is clear or no entry has XD (Intel SDM Vol 3A §4.6.1), and a table entry
/// the format writes restricts nothing.
prove::Result check_rights_lemma(const prove::Request& req, std::uint64_t xd_mask);

/// Builds entry `index` of the table a large leaf is split into: (large leaf, PA of the
/// child = leaf PA + index × child size, whether the child is itself large) -> child entry.
using SplitChild = std::function<z3::expr(const z3::expr& leaf, const z3::expr& child_pa, bool child_large)>;

/// What RadixTable::split writes through the format: make_leaf(child PA, the leaf's
/// attributes, child size) (x86_64_arith.hpp).
z3::expr split_child(const z3::expr& leaf, const z3::expr& child_pa, bool child_large);

/// LEM-X86-SPLIT-1 for `child_of`: for every MAXPHYADDR 32..52, every well-formed 2 MiB
/// and 1 GiB leaf and every offset in it, the child entry covering that offset is
/// present, has no reserved bit set, carries the leaf's attributes (PAT moves from bit
/// 12 to bit 7 in a 4 KiB child) and translates the offset to the same PA (SDM Vol 3A
/// §4.5, Tables 4-15 to 4-20).
prove::Result check_split_lemma(const prove::Request& req, const SplitChild& child_of);

}  // namespace vmref::impl::x86_64
