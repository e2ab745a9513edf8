// Break-before-make on AArch64 stage-1 tables as an automaton per table entry, the way
// Casemate models it ([CASEMATE], ../shared/references/page-table-formats.md §7): an
// entry is valid, invalid-unclean (written invalid, but a TLB may still hold what it
// mapped) or invalid-clean (a TLBI covering it, completed by a DSB, followed). Arm ARM
// DDI 0487 D8.16.1 "Using break-before-make when updating translation table entries":
// changing a live valid entry in a way the rule covers takes the sequence invalid, TLBI,
// DSB, new entry; what may change without it is a parameter (BbmRule).
// spec/formats/aarch64.md "Break-before-make" states exactly what is checked.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "vmref/impl/radix_table.hpp"
#include "aarch64_format.hpp"
#include "aarch64_tlb.hpp"

namespace vmref::impl::aarch64 {

/// Which changes of a live entry need break-before-make.
enum class BbmRule : unsigned {
  architecture = 0,  ///< D8.16.1: output address, block size (block <-> table), Contiguous, AttrIndx, NS, SH
  allow_list = 1,  ///< Linux's pgattr_change_is_safe(): only PXN, AP[2], DBM, nG 0->1, software bits; no Contiguous
  bbml2 = 2,  ///< FEAT_BBM level 2 (Linux BBML2_NOABORT): as architecture, but the size and Contiguous may change
};
const char* to_string(BbmRule r);

/// Why changing valid entry `old` into valid `now` at architectural level `arch_level`
/// needs break-before-make under `rule`: a phrase naming the change; "" when it does not.
/// `old_leaf`/`now_leaf`: whether each is a block or page (rather than a table).
std::string bbm_change(std::uint64_t old, bool old_leaf, std::uint64_t now, bool now_leaf, unsigned page_shift,
                       BbmRule rule);

/// The automaton over every entry of the trees it observes (the VMM core's spaces),
/// told of the TLBIs and DSBs the Mmu issues and of the entries each successful walk
/// read. Only invalid-unclean entries are stored: an entry not stored is valid (its value
/// is in memory, and each write reports the old one) or invalid-clean. An entry no walk
/// read since it was last written valid goes straight to invalid-clean: no TLB can hold
/// what it mapped (TLBs fill on accesses only, spec/vmm.md §3). Reach is not judged: a
/// TLBI on any PE, completed by a DSB on that PE, cleans what it covers (which PEs must
/// be reached is DIFF-TLB-1's business).
class BreakBeforeMake : public EntryObserver {
 public:
  BreakBeforeMake(const Format& geometry, BbmRule rule) : fmt_(geometry), rule_(rule) {}
  void written(std::uint64_t entry_pa, unsigned level, std::uint64_t va, std::uint64_t old, std::uint64_t now) override;
  void table_created(std::uint64_t pfn) override;
  /// A walk of the tree at `root` for `va` succeeded along `t` (Translation::next_table):
  /// the entries it read may now be cached.
  void walked(std::uint64_t root, std::uint64_t va, const Translation& t);
  /// TLBI `op` issued on `cpu`: covers the unclean entries it reaches, once `dsb(cpu)`.
  void tlbi(unsigned cpu, const Tlbi& op);
  /// DSB on `cpu`: the entries its TLBIs covered are clean.
  void dsb(unsigned cpu);
  /// Entries now invalid-unclean.
  std::size_t unclean() const { return unclean_.size(); }
  /// Hands over, and forgets, the violations found so far (ID "DIFF-BBM").
  void take(const std::function<void(const char* id, const std::string& msg)>& fn) const;

 private:
  struct Unclean {
    std::uint64_t last = 0;       ///< the last valid value
    unsigned level = 0;
    std::uint64_t va = 0, size = 0;
    std::uint64_t covered_on = 0; ///< bit c: a TLBI issued on PE c covers it, awaiting c's DSB
  };
  bool covers(const Tlbi& op, const Unclean& u) const;
  void judge(std::uint64_t entry_pa, unsigned level, std::uint64_t va, std::uint64_t old, std::uint64_t now, bool unclean);
  Format fmt_;
  BbmRule rule_;
  std::unordered_map<std::uint64_t, Unclean> unclean_;  ///< by entry PA
  std::unordered_set<std::uint64_t> walked_;            ///< entries a walk read since written valid
  mutable std::vector<std::string> findings_;
};

}  // namespace vmref::impl::aarch64
