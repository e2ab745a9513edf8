// Deliberately broken variants of the implementation (spec/formats/x86_64.md §Mutants).
// Selected at run time with `--mutant NAME`, never on by default; each one must be
// caught by the differential checks (conformance/tests/test_mutants.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vmref::impl {

enum class Mutant : unsigned char {
  none,
  no_invlpg_after_unmap,   ///< munmap clears PTEs but invalidates no TLB entry
  invlpg_ignores_pcid,     ///< shootdown uses INVLPG on every CPU, as if it reached other PCIDs
  cr3_drops_globals,       ///< the TLB drops global entries on MOV to CR3
  invpcid2_keeps_globals,  ///< the TLB keeps global entries through INVPCID type 2
  cow_keeps_old_count,     ///< a COW copy forgets to drop the old frame's reference
  xd_wrong_bit,            ///< XD written and tested at bit 62 instead of 63
  split_loses_last,        ///< splitting a large page writes all but its last entry
  reclaim_live_table,      ///< a table page is reclaimed while it still holds one live entry
  table_leak,              ///< emptied table pages are never reclaimed
  no_accessed_bit,         ///< the hardware walk never sets A
  merge_ignores_prot,      ///< adjacent vsegs merge even when their rights differ
  hint_ignored,            ///< mmap without MAP_FIXED ignores a free hint address
  zephyr_lifo_frames,      ///< Zephyr's free page frames are handed out last-freed first
  zephyr_slot_leak,        ///< a Zephyr page-in from the backing store keeps its slot
  almos_update_skips_copies, ///< ALMOS vmm_global_update_pte writes the reference GPT only
  almos_fork_no_forks,     ///< ALMOS fork shares pages COW without raising their forks count
};

const char* to_string(Mutant m);
/// nullopt for an unknown name.
std::optional<Mutant> parse_mutant(const std::string& name);
/// Every mutant name (without "none").
std::vector<std::string> mutant_names();
/// The profile whose events reach the mutated code ("linux", "zephyr" or "almos-mkh").
const char* mutant_profile(Mutant m);

}  // namespace vmref::impl
