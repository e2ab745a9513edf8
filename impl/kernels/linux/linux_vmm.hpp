// The linux kernel's optimized implementation (spec/kernels/linux.md) over the shared
// VMM core: per address space a VMA tree as Linux keeps it, the page cache and shmem
// objects, the fault path writing real PTEs, fork's COW, and pins. Written from the spec
// and Linux's mm/ in the style of that code, independently of the model.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "linux_events.hpp"
#include "vma_tree.hpp"
#include "vmref/impl/vmm.hpp"

namespace vmref::linux_mm {

using impl::LeafAttrs;
using impl::Mapping;
using impl::VmmCore;
using vocab::Err;
using vocab::Event;
using vocab::Outcome;

extern const impl::MutantInfo kNoInvlpgAfterUnmap;  ///< munmap clears PTEs but invalidates no TLB entry
extern const impl::MutantInfo kCowKeepsOldCount;    ///< a COW copy forgets to drop the old frame's reference
extern const impl::MutantInfo kMergeIgnoresProt;    ///< adjacent VMAs merge even when their rights differ
extern const impl::MutantInfo kHintIgnored;         ///< mmap without MAP_FIXED ignores a free hint address
extern const impl::MutantInfo kFlushOwnPcidOnly;    ///< munmap flushes the mm's own context, not the tags it ran under
extern const impl::MutantInfo kSplitSkipsFlush;     ///< a huge-leaf split leaves the 2 MiB TLB entry in place
extern const impl::MutantInfo kSplitLosesFolioRefs; ///< a huge-leaf split takes no reference for its new PTEs

class LinuxVmm : public impl::KernelLayer {
 public:
  /// What Linux keeps per mm: the VMA tree and the heap (mm->start_brk, mm->brk).
  struct Mm {
    VmaTree vmas;
    bool has_brk = false;
    Va start_brk = 0, brk = 0;
  };

  LinuxVmm(VmmCore& core, const LinuxParams& params);
  Outcome mmap(const Event& e);          // mm.cpp
  Outcome munmap(const Event& e);
  Outcome mprotect(const Event& e);
  Outcome brk(const Event& e);
  Outcome fork(const Event& e);          // fork.cpp
  Outcome exec_reset(const Event& e);
  Outcome access(const Event& e);        // fault.cpp
  Outcome pin(const Event& e);
  Outcome unpin(const Event& e);

  void created(Asid as, const vocab::AsCreateArgs& a) override;
  void before_destroy(Asid as) override;

  /// The mm of `as`, or nullptr.
  const Mm* mm(Asid as) const;
  /// Whether object `id` is a shmem object (rather than a file).
  bool is_shmem(std::uint32_t id) const { return id && objects_[id]->shmem; }

 private:
  /// A file (page cache) or shared-anonymous (shmem) object.
  struct Object {
    bool shmem = false;
    bool live = true;
    std::optional<std::uint64_t> pages;                      ///< size; faults beyond are SIGBUS
    std::unordered_map<std::uint64_t, std::uint64_t> cache;  ///< page index -> PFN
    std::uint64_t vmas = 0;                                  ///< VMAs mapping it (shmem dies at 0)
  };
  struct Fault { vocab::AccessResult result = vocab::AccessResult::ok; Err err = Err::ok; std::uint64_t pfn = 0; };
  using Space = VmmCore::Space;

  Mm& mm_of(Asid as);
  // VMA tree edits and placement (mm.cpp).
  void insert_vma(Mm& m, const Vma& v);
  void erase_vma(Mm& m, Vma& v);
  /// Splits the VMA holding `va` there (and a huge leaf across `va`: Linux __split_vma).
  void split_at(Space& s, Mm& m, Va va);
  std::vector<Vma> remove_range(Space& s, Mm& m, Va start, Va end);
  bool gap_free(const Mm& m, Va start, std::uint64_t len) const;
  std::optional<Va> find_gap(const Mm& m, std::uint64_t len, std::optional<Va> hint) const;
  bool anon_compatible(const Vma& src, const Vma& tgt) const;
  bool mergeable(const Vma& lo, const Vma& hi, bool src_is_lo) const;
  void merge_around(Mm& m, Va start);
  Vma new_vma(const MmapArgs& a, Va start, std::uint64_t len);
  void unmap_range(Space& s, Mm& m, Va start, Va end);
  /// Unmaps PTEs with a synchronous shootdown (the only TLB mode implemented).
  void unmap_ptes(Space& s, Va start, Va end);
  void reprotect(Space& s, const Vma& v);
  void populate(Space& s, Mm& m, Va start, Va end);
  LeafAttrs attrs_for(const Vma& v, std::uint64_t pfn, bool cow) const;
  void forget_forked_owners(const Mm& m);
  // Objects (mm.cpp).
  std::uint32_t object_for(const vocab::FileRef& f);
  std::uint32_t new_shmem(std::uint64_t pages);
  void drop_object_ref(std::uint32_t obj);
  // The fault path (fault.cpp).
  Fault fault_in(Space& s, Mm& m, Va va, vocab::AccessKind kind, int cpu);
  Fault demand_fault(Space& s, Mm& m, Vma& v, Va va, vocab::AccessKind kind);
  Fault cow_break(Space& s, Mm& m, Vma& v, Va va, const Mapping& old);
  void fault_around(Space& s, Vma& v, Va va);
  void anon_vma_prepare(Mm& m, Vma& v);
  // Transparent huge pages (thp.cpp, §1.13; Linux mm/huge_memory.c).
  /// do_huge_pmd_anonymous_page: a 2 MiB leaf for a fault at `va`, or nullopt to fault base pages.
  std::optional<Fault> huge_anonymous_fault(Space& s, Mm& m, Vma& v, Va va, vocab::AccessKind kind);
  /// do_huge_pmd_wp_page: reuse of an exclusive folio, or nullopt after splitting the leaf.
  std::optional<Fault> huge_wp_fault(Space& s, Vma& v, const Mapping& leaf);
  /// __split_huge_pmd: the huge leaf across `va` (if any) becomes base PTEs.
  void split_huge_pmd(Space& s, Va va);
  std::optional<std::uint64_t> cached_frame(std::uint32_t obj, std::uint64_t index);
  static bool is_cow(const LeafAttrs& a) { return a.soft & 1; }

  LinuxParams p_;
  std::unordered_map<Asid, Mm> mms_;
  std::vector<std::unique_ptr<Object>> objects_;  ///< [0] unused
  std::unordered_map<std::string, std::uint32_t> file_objects_;
  std::vector<std::uint32_t> free_shmem_;
  std::unordered_map<std::string, std::uint64_t> pins_;  ///< pin handle -> PFN
  std::uint64_t anon_ids_ = 0;
  std::set<std::uint64_t> forked_anon_ids_;
};

/// Registers the implementation and its mutants.
void register_impl();

}  // namespace vmref::linux_mm
