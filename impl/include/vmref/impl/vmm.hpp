// The optimized VMM core: the model's operations (spec/vmm.md §2) over real page tables
// in simulated physical memory, with the TLB maintenance an architecture's Mmu performs.
// One event stream drives it and the model; conformance/diff compares them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "vmref/impl/almos.hpp"
#include "vmref/impl/frame_pool.hpp"
#include "vmref/impl/mmu.hpp"
#include "vmref/impl/radix_table.hpp"
#include "vmref/model/event.hpp"
#include "vmref/model/profile.hpp"

namespace vmref::impl {

struct ZephyrCore;

/// An event this implementation does not implement (mechanism events, mremap, madvise,
/// mlock, growsdown stacks...). Replay and fuzz report it as bad input naming `field`.
struct Unsupported : std::runtime_error {
  Unsupported(std::string field_, const std::string& msg) : std::runtime_error(msg), field(std::move(field_)) {}
  std::string field;
};

/// What the VMM keeps per physical frame (Linux struct page): counts by PFN.
struct PageInfo {
  bool data = false;            ///< a data frame (not a table page, not free)
  std::uint32_t refcount = 0;   ///< get/put references: mappings, page cache, pins, gathers
  std::uint32_t mapcount = 0;   ///< PTEs mapping it
  std::uint32_t pins = 0, gather = 0;
  bool cached = false;          ///< owned by an object's page cache
  std::uint64_t generation = 0; ///< distinct per allocation
};

/// The VMM core. Page size 4 KiB. Address spaces get one hardware context each (PCID).
/// The COW mark lives in a software bit of the leaf (LeafAttrs::soft bit 0; x86 bit 9,
/// "ignored" in SDM Vol 3A Table 4-20), as Linux keeps software state in PTEs.
class Vmm {
 public:
  /// `frame_capacity` data frames besides the zero page (as the model's FrameTable).
  Vmm(model::Profile profile, std::uint64_t frame_capacity, const RadixCodec& codec, Mmu& mmu,
      Mutant mutant = Mutant::none);
  ~Vmm();

  /// Applies one event with the model's semantics. Throws Unsupported for events
  /// outside the implemented set, std::invalid_argument for inapplicable ones.
  model::Outcome apply(const model::Event& e);

  // Inspection for the differential checker.
  struct Space;
  const Space* space(model::Asid as) const;
  const RadixTable& table(const Space& s) const;
  const std::map<model::Va, model::Vseg>& vsl(const Space& s) const;
  std::uint16_t context(const Space& s) const;
  std::vector<model::Asid> spaces() const;
  const PageInfo& page(std::uint64_t pfn) const { return pages_[pfn]; }
  std::uint64_t zero_pfn() const { return zero_pfn_; }
  /// Contents stamp of a data frame (bumped by each user write, copied by COW).
  std::uint64_t version(std::uint64_t pfn) const;
  static bool is_cow(const LeafAttrs& a) { return a.soft & 1; }
  std::uint64_t data_frames() const { return data_in_use_; }
  /// Table pages of every address space's tables (roots included).
  std::uint64_t table_pages() const;
  const Mmu& mmu() const { return mmu_; }
  /// Simulated physical memory holding the tables and frames.
  const SimMemory& memory() const { return mem_; }
  /// The almos-mkh profile's processes and tables (profiles.md §2); nullptr in other profiles.
  const Almos* almos() const { return almos_.get(); }
  /// Whether `pcid` belongs to a live address space, and which.
  model::Asid asid_of(std::uint16_t ctx) const;

 private:
  using Va = model::Va;
  using Vseg = model::Vseg;
  struct Object;
  struct Fault { model::AccessResult result = model::AccessResult::ok; model::Err err = model::Err::ok; std::uint64_t pfn = 0; };

  // Operations (vmm_*.cpp).
  model::Outcome as_create(const model::Event& e);
  model::Outcome as_destroy(const model::Event& e);
  model::Outcome switch_as(const model::Event& e);
  model::Outcome mmap(const model::Event& e);
  model::Outcome munmap(const model::Event& e);
  model::Outcome mprotect(const model::Event& e);
  model::Outcome brk(const model::Event& e);
  model::Outcome fork(const model::Event& e);
  model::Outcome exec_reset(const model::Event& e);
  model::Outcome access(const model::Event& e);
  model::Outcome tlb_flush(const model::Event& e);
  model::Outcome pin(const model::Event& e);
  model::Outcome unpin(const model::Event& e);
  // The mermap (profiles.md §4, vmm_mermap.cpp).
  model::Outcome mermap_prepare(const model::Event& e);
  model::Outcome mermap_get(const model::Event& e);
  model::Outcome mermap_put(const model::Event& e);
  model::Outcome mermap_teardown(const model::Event& e);
  std::optional<std::size_t> mermap_alloc(Space& s, unsigned cpu, std::uint64_t size, bool reserve);
  /// Clears mermap PTEs [lo, hi) of `s`; their frames wait for a flush of `cpu` covering them.
  void mermap_clear(Space& s, unsigned cpu, Va lo, Va hi);
  /// A flush covered these translations: frames cleared by mermap put (held only in the
  /// TLB of the CPU that used them) are released. cpu < 0: every CPU; as 0: any space.
  void release_mermap(int cpu, model::Asid as, Va lo, Va hi);

  // Zephyr (profiles.md §3): vmm_zephyr_map.cpp (boot, VA bitmap, map, unmap) and
  // vmm_zephyr_paging.cpp (store, NRU, faults, page out/in, pin, stats). Addresses in bytes.
  void zephyr_boot();
  /// The kernel address space; throws Unsupported outside the zephyr profile.
  Space& zephyr_space();
  model::Outcome k_mem_map(const model::Event& e);
  model::Outcome k_mem_unmap(const model::Event& e);
  model::Outcome k_mem_page_out(const model::Event& e);
  /// k_mem_page_in, k_mem_pin and k_mem_unpin.
  model::Outcome k_mem_paging(const model::Event& e);
  model::Outcome nru_tick(const model::Event& e);
  model::Outcome k_mem_stat(const model::Event& e);
  model::Outcome zephyr_access(const model::Event& e);
  std::optional<Va> zephyr_va_alloc(std::uint64_t pages);
  void zephyr_va_free(Va start, std::uint64_t pages);
  std::optional<std::uint32_t> zephyr_frame_alloc();
  void zephyr_frame_free(std::uint32_t index);
  /// Maps a fresh or evicted frame at `va` of the region starting at `region` (eager maps).
  bool zephyr_map_page(Va region, Va va);
  /// Drops one page of a region being unmapped or rolled back: PTE, frame, slot, location.
  void zephyr_drop(Va va);
  std::optional<std::uint32_t> zephyr_slot_get(bool page_fault);
  bool zephyr_evict(Va va, bool page_fault, bool count);
  std::optional<std::uint32_t> zephyr_evict_any(bool page_fault);
  bool zephyr_fault(Va va, bool pin);

  Space& space_of(model::Asid as, const char* field = "as");
  // Frames.
  std::optional<std::uint64_t> alloc_data();
  void get(std::uint64_t pfn);
  void put(std::uint64_t pfn);
  std::uint64_t& stamp(std::uint64_t pfn);
  // PTEs and TLB maintenance.
  void set_pte(Space& s, Va va, std::uint64_t pfn, const LeafAttrs& a);
  /// Clears the PTE at va (mapcount kept exact); returns the PFN it mapped or 0.
  std::uint64_t clear_pte(Space& s, Va va);
  void shootdown(Space& s, Va start, Va end);
  void release_pending();
  /// Unmaps PTEs with a synchronous shootdown (the only TLB mode the VMM core runs).
  void unmap_ptes(Space& s, Va start, Va end);
  void unmap_range(Space& s, Va start, Va end);
  LeafAttrs attrs_for(const Vseg& v, std::uint64_t pfn, bool cow) const;
  // VSL.
  Vseg* find(Space& s, Va va);
  Vseg* starting_at(Space& s, Va va);
  Vseg* ending_at(Space& s, Va va);
  bool any_overlap(const Space& s, Va start, Va end) const;
  void vsl_insert(Space& s, const Vseg& v);
  void vsl_erase(Space& s, Va start);
  void split_at(Space& s, Va va);
  std::vector<Vseg> remove_range(Space& s, Va start, Va end);
  bool mergeable(const Vseg& lo, const Vseg& hi, bool src_is_lo) const;
  bool anon_compatible(const Vseg& src, const Vseg& tgt) const;
  void merge_around(Space& s, Va start);
  void prepare_anon(Space& s, Vseg& v);
  std::optional<Va> find_gap(const Space& s, std::uint64_t len, std::optional<Va> hint) const;
  bool gap_free(const Space& s, Va start, std::uint64_t len) const;
  Vseg new_vseg(const model::Event& e, Va start, std::uint64_t len);
  std::uint32_t object_for(const model::FileRef& f);
  std::uint32_t new_shmem(std::uint64_t pages);
  void drop_object_ref(std::uint32_t obj);
  void reprotect(Space& s, const Vseg& v);
  void populate(Space& s, Va start, Va end);
  // Faults.
  Fault fault_in(Space& s, Va va, model::AccessKind kind, int cpu);
  Fault demand_fault(Space& s, Vseg& v, Va va, model::AccessKind kind);
  Fault cow_break(Space& s, Vseg& v, Va va, const Mapping& m);
  void fault_around(Space& s, Vseg& v, Va va);
  std::optional<std::uint64_t> cached_frame(std::uint32_t obj, std::uint64_t index);

  model::Profile profile_;
  std::uint64_t capacity_;
  const RadixCodec& codec_;
  Mmu& mmu_;
  Mutant mutant_;
  SimMemory mem_;
  FramePool pool_;
  std::vector<PageInfo> pages_;
  std::uint64_t zero_pfn_ = 0, data_in_use_ = 0, generations_ = 0;
  std::unordered_map<model::Asid, std::unique_ptr<Space>> spaces_;
  std::vector<std::unique_ptr<Object>> objects_;  ///< [0] unused
  std::unordered_map<std::string, std::uint32_t> file_objects_;
  std::vector<std::uint32_t> free_shmem_;
  std::unordered_map<std::string, std::uint64_t> pins_;
  std::vector<std::uint64_t> pending_;
  std::vector<std::uint16_t> free_ctx_;
  std::uint16_t next_ctx_ = 1;
  std::uint64_t anon_ids_ = 0;
  std::set<std::uint64_t> forked_anon_ids_;
  std::vector<model::Asid> ctx_owner_;
  struct MermapPending { unsigned cpu; model::Asid as; Va va; std::uint64_t pfn; };
  std::vector<MermapPending> mermap_pending_;
  std::unique_ptr<ZephyrCore> zephyr_;  ///< only in the zephyr profile
  std::unique_ptr<Almos> almos_;        ///< only in the almos-mkh profile
};

}  // namespace vmref::impl
