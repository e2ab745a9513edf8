// The linux kernel's layer of the model (spec/kernels/linux.md): the system calls on a
// process address space (mmap, munmap, mprotect, brk, mremap, madvise, mlock), fork and
// exec, the fault path (demand faults, the zero page, COW breaks, fault-around, stack
// growth) and pins, with Linux's merge rules for vsegs and their anonymous-page owners.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "linux_events.hpp"
#include "linux_rules.hpp"
#include "vmref/model/layer.hpp"

namespace vmref::linux_mm {

using model::AddressSpace;
using model::Err;
using model::FrameId;
using model::ObjectId;
using model::Outcome;
using model::Pte;
using model::Vpn;
using model::Vseg;
using vocab::Event;

/// Three-valued answer for a merge that may hinge on kernel state a trace hides
/// (spec/vmm.md §5): whether two anonymous-page owners are compatible.
enum class Decision : std::uint8_t { no, yes, undetermined };

class LinuxModel : public model::KernelLayer {
 public:
  LinuxModel(model::Core& core, const LinuxParams& params);

  // §2 operations, one per event kind.
  Outcome exec_reset(const Event& e);    // op_map.cpp
  Outcome mmap(const Event& e);
  Outcome munmap(const Event& e);
  Outcome brk(const Event& e);
  Outcome mprotect(const Event& e);      // op_range.cpp
  Outcome madvise(const Event& e);
  Outcome mlock(const Event& e);         ///< mlock and munlock
  Outcome mremap(const Event& e);        // op_mremap.cpp
  Outcome fork(const Event& e);          // op_fork.cpp
  Outcome access(const Event& e);        // op_access.cpp
  Outcome pin(const Event& e);
  Outcome unpin(const Event& e);
  Outcome stack_expand(const Event& e);

  // Hooks (layer.hpp).
  void before_destroy(model::Asid as) override;
  std::vector<model::Resolution> resolve_undetermined(model::Asid as, const std::function<bool(Va)>& kernel_split_at) override;
  bool learn_anon_pages(model::Asid as, Va va) override;
  std::optional<model::Settled> settle_present(model::Asid as, Va va, bool kernel_present) override;
  std::optional<model::Settled> settle_kept(model::Asid as, Va va, bool kernel_kept) override;
  const model::RuleCoverage* rule_coverage() const override { return &rules_; }

  const LinuxParams& params() const { return p_; }
  /// Starts of vsegs of `as` whose merge with the vseg below could not be decided.
  const std::set<Va>& undetermined(model::Asid as) const;

 private:
  // The fault path (op_access.cpp, §2.7).
  struct FaultResult { vocab::AccessResult result = vocab::AccessResult::ok; Err err = Err::ok; FrameId frame = model::kNoFrame; };
  /// Resolves `va` for `kind` in `s` (demand fault, COW break). `cpu` < 0 means a
  /// kernel-internal access (GUP/populate) that fills no TLB.
  FaultResult fault_in(AddressSpace& s, Va va, AccessKind kind, int cpu);
  FaultResult demand_fault(AddressSpace& s, Vseg& v, Vpn vpn, AccessKind kind);
  FaultResult cow_break(AddressSpace& s, Vseg& v, Vpn vpn);
  // Transparent huge pages (op_thp.cpp, §1.13).
  /// A fault inside the huge leaf at `leaf`: its access, or a huge COW break (reuse of an
  /// exclusive folio). nullopt when the fault split the leaf: the caller goes on with the
  /// base page at `vpn`.
  std::optional<FaultResult> huge_leaf_access(AddressSpace& s, Vseg& v, Vpn leaf, AccessKind kind, int cpu);
  /// A 2 MiB leaf for a fault at `vpn` where §1.13 allows one; nullopt to fault base pages.
  std::optional<FaultResult> huge_fault(AddressSpace& s, Vseg& v, Vpn vpn, AccessKind kind);
  /// Whether [first, first + E) may get a huge leaf in `v` (E pages per level-2 leaf).
  bool thp_eligible(const AddressSpace& s, const Vseg& v, Vpn first) const;
  /// Replaces the huge leaf at `leaf` with base PTEs of the same pages (Linux __split_huge_pmd).
  void split_huge(AddressSpace& s, Vpn leaf);
  /// Splits the huge leaf that `va` falls strictly inside, if any (a cut at `va`).
  void split_huge_at(AddressSpace& s, Va va);
  /// fork: splits each huge leaf of `v` whose folio is pinned (its pages are then copied).
  void split_pinned_huge(AddressSpace& s, const Vseg& v);
  /// How many leaves map each page of frame `f` (Linux's per-page mapcount), for COW
  /// decisions on compound frames, whose pages a split folio maps once each.
  std::vector<std::uint32_t> page_maps(FrameId f) const;
  bool try_expand_stack(AddressSpace& s, Va va);
  /// Gives `v` an owner of anonymous pages: a compatible neighbour's (next, then prev)
  /// when it can be reused, else a new one (Linux anon_vma_prepare).
  void prepare_anon(AddressSpace& s, Vseg& v);
  /// Read fault on a file/shmem page: also map the cached pages around it (§1.9).
  void fault_around(AddressSpace& s, Vseg& v, Vpn vpn);
  /// Rights a PTE for frame `f` gets in vseg `v` (§2.7.4): W withheld for COW.
  Prot effective_rights(const Vseg& v, FrameId f, bool cow) const;
  std::optional<FrameId> cached_frame(ObjectId obj, std::uint64_t index);

  // VSL helpers (op_map.cpp, op_range.cpp, op_mremap.cpp).
  Va start_gap(const Vseg& v) const;                  ///< start less the stack guard gap
  void forget_forked_owners(const AddressSpace& s);   ///< the space is going: drop its fork-made owners
  /// Whether `src` (new or changed) may join `tgt` as far as anon owners go; `src_is_vseg`
  /// is false for the range an in-place mremap grow adds (§1.2).
  Decision anon_compatible(const Vseg& src, const Vseg& tgt, bool src_is_vseg = true) const;
  /// Whether lo and hi (adjacent) may merge; `src_is_lo` names which one is changing.
  Decision mergeable(const Vseg& lo, const Vseg& hi, bool src_is_lo, bool src_is_vseg = true) const;
  void join(AddressSpace& s, Vseg& lo, const Vseg& hi);
  void count_merge() const;  ///< a merge happened: count it under the running call
  void count_split() const;  ///< a vseg was cut: count it under the running call
  Vseg new_vseg(const MmapArgs& a, Va start, std::uint64_t len);
  /// Applies `change` to the vseg parts in [start, end) in address order, splitting only
  /// those it changes; each changed part is merged at once, then `after` runs on a view of
  /// it (its range, the merged vseg's attributes). Returns the first error, or ENOMEM
  /// for a hole (stop_at_hole: stop there, as mprotect and mlock do).
  Err change_range(AddressSpace& s, Va start, Va end, bool stop_at_hole,
                   const std::function<Err(Vseg&)>& change, const std::function<void(Vseg&)>& after);
  void reprotect_ptes(AddressSpace& s, const Vseg& v);
  /// Shared checks of a page-aligned [addr, addr+len) argument: an outcome to return at
  /// once (unaligned, empty, or overflowing with `overflow`), or nullopt and `end` set.
  std::optional<Outcome> range_arguments(const RangeArgs& a, Err overflow, Va& end) const;
  void move_ptes(AddressSpace& s, Va from, Va to, std::uint64_t len);
  /// Merges the vseg starting at `start` with its neighbours where the profile allows.
  void merge_around(AddressSpace& s, Va start);
  /// After an in-place mremap grow of `v`: merges v with the vseg after it (§2.13).
  void merge_grown(AddressSpace& s, Vseg& v);
  std::optional<Va> find_gap(const AddressSpace& s, std::uint64_t len, std::optional<Va> hint) const;
  bool gap_free(const AddressSpace& s, Va start, std::uint64_t len) const;
  /// Faults in every page of [start, end) as GUP does (§2.2, §2.12); false if one could
  /// not be (SIGBUS beyond the object, no access right), stopping there if asked.
  bool populate(AddressSpace& s, Va start, Va end, bool stop_at_failure = false);

  /// Counts one run of `r` (§6 Rule coverage).
  void hit(Rule r) const { rules_.hit(static_cast<std::size_t>(r)); }
  /// unmap_range, counting a cut vseg under the running call's split rule.
  void unmap_vsegs(AddressSpace& s, Va start, Va end, model::TlbMode m);

  LinuxParams p_;
  Caller caller_ = Caller::other;  ///< the system call running, for the merge and split counters
  model::RuleCoverage rules_{linux_rules()};
  std::set<std::uint64_t> forked_anon_ids_;  ///< owners made by fork: not reusable (non-singular chain)
  std::map<model::Asid, std::set<Va>> undetermined_;   ///< per space: undecided vseg boundaries
};

/// Registers the linux layer: its handlers (the operations above and `access`).
void register_model();

}  // namespace vmref::linux_mm
