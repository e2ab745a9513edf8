// The rules of spec/kernels/linux.md whose runs the model counts ("Rule coverage", §6):
// each merge and split path by the system call that took it, the anon_vma compatibility
// cases, COW, the zero page, fault-around, SIGBUS beyond an object's size, fork's copy
// decisions and mremap's three ways.
#pragma once

#include <cstdint>
#include <span>

#include "vmref/model/rule_coverage.hpp"

namespace vmref::linux_mm {

/// One counted rule; the order is the table's (linux_rules.cpp).
enum class Rule : std::uint8_t {
  merge_mmap, merge_brk, merge_mprotect, merge_madvise, merge_mlock, merge_mremap_grow, merge_mremap_move,
  split_mmap, split_munmap, split_brk, split_mprotect, split_madvise, split_mlock, split_mremap,
  mmap_fixed_replaces,
  anon_same_owner, anon_ownerless_joins_owner, anon_owner_joins_ownerless, anon_fork_child_refused,
  anon_grown_range_of_fork_child, anon_distinct_owners_refused, anon_prev_next_incompatible, anon_undetermined,
  anon_reuse_neighbour, anon_new_owner,
  zero_page_read_fault, zero_page_write_replaces,
  cow_reuse, cow_copy,
  fork_copy_ptes, fork_skip_untouched, fork_dontcopy, fork_wipeonfork, fork_pinned_copy,
  stack_grow, fault_around, fault_sigbus_beyond_size,
  mremap_shrink, mremap_grow_in_place, mremap_move,
  madvise_dontneed, madvise_free, mprotect_partial,
  thp_fault, thp_zero_fault, thp_split, thp_cow_reuse, thp_move_whole,
  count
};

/// The table behind Rule: id, spec section, what one hit means.
std::span<const model::RuleInfo> linux_rules();

/// Which system call is running, for the merge and split counters.
enum class Caller : std::uint8_t { mmap, munmap, brk, mprotect, madvise, mlock, mremap_grow, mremap_move, other };

/// The merge and the split rule a call's vseg changes count under; Rule::count where the
/// call has none (munmap never merges; `other` is no system call).
Rule merge_rule(Caller c);
Rule split_rule(Caller c);

}  // namespace vmref::linux_mm
