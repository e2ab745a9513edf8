// The executable abstract model (spec/vmm.md). Readable first, fast enough second.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "vmref/model/address_space.hpp"
#include "vmref/model/event.hpp"
#include "vmref/model/frames.hpp"
#include "vmref/model/profile.hpp"
#include "vmref/model/tlb.hpp"
#include "vmref/model/zephyr.hpp"
#include "vmref/model/almos.hpp"

namespace vmref::model {

/// An event that cannot apply to the current state (unknown address space, CPU out of
/// range, unknown frame label...). Replay reports it as bad input naming `field`.
struct ModelError : std::runtime_error {
  ModelError(std::string field_, const std::string& msg)
      : std::runtime_error(msg), field(std::move(field_)) {}
  std::string field;
};

/// Three-valued answer for decisions that may hinge on kernel state a trace hides.
enum class Tri : std::uint8_t { no, yes, unknown };

/// A backing object: a file (by identity) or a shared-anonymous (shmem) object.
/// Its page cache holds one reference on each cached frame (spec §1.4).
struct Object {
  std::string id;                           ///< "dev:inode" for files, empty for shmem
  std::string path;
  bool shmem = false;
  bool live = true;                         ///< false once a shmem object died (slot reusable)
  std::optional<std::uint64_t> pages;       ///< size in pages when known; faults beyond it are SIGBUS
  std::map<std::uint64_t, FrameId> cache;   ///< page index -> frame
};

/// What the last event touched; invariant checkers look only here unless `all` is set.
struct Delta {
  struct Range { Asid as; Vpn first; std::uint64_t count; };
  std::vector<Range> ranges;
  std::vector<FrameId> frames;
  std::vector<Asid> spaces;     ///< address spaces whose VSL or allocator lists changed
  bool all = false;             ///< check everything (full mode, or a global change)
  struct Reuse { std::uint64_t list_class, request_class; };
  std::vector<Reuse> reuses;    ///< va_reuse events (INV-ALLOC-4)
  /// What a mermap event did, for INV-MERMAP-3/4/6 (which judge the call, not the state).
  struct Mermap {
    Asid as = 0;
    int cpu = 0;
    bool get = false, teardown = false;
    bool reserve = false, failed = false, reserve_held = false;  ///< get
    Va base = 0, end = 0;                                          ///< get: the range handed out
    std::uint64_t requested = 0;                                   ///< get: the length asked for, bytes
    bool write_failed = false;                                     ///< get: an injected PTE-write failure
    bool warned = false, live_anywhere = false;                    ///< teardown
  };
  std::vector<Mermap> mermap;
  /// What a zephyr call did, for INV-ZEPHYR-2/6/7 (which judge the call).
  struct Zephyr {
    bool map = false, failed = false, demand = false;   ///< k_mem_map
    Va start = 0, end = 0;                              ///< k_mem_map: the range asked for (0 if none)
    std::vector<bool> bitmap_before;
    std::uint64_t frames_before = 0, frames_after = 0;  ///< frames in use
    bool fault_no_slot = false;                         ///< a fault found no backing-store slot
    Va fault_va = 0;
  };
  std::vector<Zephyr> zephyr;
  /// What an almos-mkh call did, for INV-ALMOS-3/5/7 (which judge the call).
  struct Almos {
    std::uint64_t pid = 0;
    bool false_fault = false;                     ///< access resolved by copying the reference PTE
    std::uint64_t allocated_before = 0, allocated_after = 0;
    bool ref_had = false, ref_has = false;        ///< false fault: the reference entry before / after
    APte ref_before, ref_after;
    Vpn vpn = 0;
    bool reset = false;                           ///< almos_exec
    Vpn first_free_before = 0, first_free_after = 0;
  };
  std::vector<Almos> almos;
  void clear() {
    ranges.clear(); frames.clear(); spaces.clear(); reuses.clear(); mermap.clear(); zephyr.clear(); almos.clear();
    all = false;
  }
};

/// State of spec/vmm.md §1 plus one function per operation of §2. `apply` dispatches.
class Model {
 public:
  /// `cpus` >= 1; `frame_capacity` frames of `page_size` bytes (a power of two >= 4096)
  /// besides the zero page. Throws std::invalid_argument on bad parameters.
  Model(Profile profile, unsigned cpus, std::uint64_t frame_capacity, std::uint64_t page_size);

  /// Applies one event (spec §2). Errors the operation defines are returned in the
  /// Outcome; an event that cannot apply at all throws ModelError.
  Outcome apply(const Event& e);
  /// Everything the last `apply` changed (for incremental invariant checks); spans a
  /// whole group of events chained with Event::cont.
  const Delta& delta() const { return delta_; }

  const Profile& profile() const { return profile_; }
  std::uint64_t page_size() const { return page_size_; }
  unsigned page_shift() const { return page_shift_; }
  const std::map<Asid, AddressSpace>& spaces() const { return spaces_; }
  const AddressSpace* space(Asid as) const;
  const FrameTable& frames() const { return frames_; }
  const std::vector<CpuTlb>& cpus() const { return cpus_; }
  /// Number of may-hold entries (all CPUs) per frame.
  const std::vector<std::uint64_t>& held_index() const { return held_index_; }
  const std::vector<Object>& objects() const { return objects_; }
  /// The zephyr profile's state (profiles.md §3); empty unless that profile is in use.
  const ZephyrState& zephyr() const { return zephyr_; }
  /// The almos-mkh profile's state (profiles.md §2); empty unless that profile is in use.
  const AlmosState& almos() const { return almos_; }
  /// Frames released by deferred-flush operations but still held (spec §3.3).
  const std::vector<FrameId>& pending() const { return pending_; }

  /// A vseg boundary whose merge the model could not decide (profiles.md §1.2): `at`
  /// and whether the recording kernel had merged across it.
  struct Resolution { Va at; bool merged; };
  /// Settles every undetermined boundary of `as` from what the kernel showed:
  /// `kernel_split_at(va)` is true when a kernel VMA starts at va. Merges where the
  /// kernel merged, and records the anon owners as compatible or not from then on.
  std::vector<Resolution> resolve_undetermined(Asid as, const std::function<bool(Va)>& kernel_split_at);
  /// The recording kernel reports anonymous pages in the vseg containing `va`: faults
  /// the trace did not show happened there, so it gets an owner as the fault path
  /// would have given it (trace-format §3.5 "anon_pages"). Returns whether it changed.
  bool learn_anon_pages(Asid as, Va va);
  /// The kernel shows whether the page at va is present. A provisional fault-around
  /// mapping (Pte::around) becomes ordinary if so, and is dropped if not; returns true
  /// when it was dropped (an undetermined case, trace-format §5).
  bool settle_provisional(Asid as, Va va, bool kernel_present);
  /// The kernel shows whether the page at va kept its frame through its last COW fault.
  /// If the model reused it (Pte::reused) and the kernel copied, the model makes the
  /// copy now; returns true then (an undetermined case).
  bool settle_reuse(Asid as, Va va, bool kernel_kept);

 private:
  // §2 operations, one per event kind (model/src/op_*.cpp).
  Outcome as_create(const Event& e);
  Outcome as_destroy(const Event& e);
  Outcome switch_as(const Event& e);
  Outcome mmap(const Event& e);
  Outcome munmap(const Event& e);
  Outcome mprotect(const Event& e);
  Outcome brk(const Event& e);
  Outcome fork(const Event& e);
  Outcome exec_reset(const Event& e);
  Outcome access(const Event& e);
  Outcome tlb_flush(const Event& e);
  Outcome pin(const Event& e);
  Outcome unpin(const Event& e);
  Outcome stack_expand(const Event& e);
  Outcome mremap(const Event& e);
  Outcome madvise(const Event& e);
  Outcome mlock(const Event& e);  // mlock and munlock
  // profiles.md §4: the mermap (model/src/op_mermap.cpp).
  Outcome mermap_prepare(const Event& e);
  Outcome mermap_get(const Event& e);
  Outcome mermap_put(const Event& e);
  Outcome mermap_teardown(const Event& e);
  /// mermap_alloc: the in-order bump allocator; nullopt = NULL. Returns the slot index.
  std::optional<std::size_t> mermap_alloc(AddressSpace& s, int cpu, std::uint64_t size, bool reserve);
  // profiles.md §3: Zephyr (model/src/op_zephyr_map.cpp, op_zephyr_paging.cpp).
  void zephyr_boot();
  Outcome k_mem_map(const Event& e);
  Outcome k_mem_unmap(const Event& e);
  Outcome k_mem_page_out(const Event& e);
  Outcome k_mem_paging(const Event& e);  // k_mem_page_in, k_mem_pin, k_mem_unpin
  Outcome k_mem_stat(const Event& e);
  Outcome nru_tick(const Event& e);
  Outcome zephyr_access(const Event& e);
  std::optional<Va> virt_region_alloc(std::uint64_t pages);
  void virt_region_free(Va start, std::uint64_t pages);
  /// map_anon_page: a frame (free, or evicted for it) mapped at vpn. False: ENOMEM.
  bool map_anon_page(const ZRegion& r, Vpn vpn);
  /// do_page_fault: bring vpn in (and pin it when `pin`). False when it cannot.
  bool zephyr_fault(Vpn vpn, bool pin);
  /// eviction_select + page out: frees a mapped frame for reuse (refcount kept at 1).
  std::optional<FrameId> zephyr_evict_any(bool page_fault);
  /// Pages the frame mapped at vpn out to a new slot. False when no slot is granted.
  bool zephyr_evict(Vpn vpn, bool page_fault, bool count);
  std::optional<std::uint64_t> backing_slot_get(bool page_fault);
  /// Removes every trace of the page at vpn (frame freed, slot freed): k_mem_unmap's loop.
  void zephyr_drop_page(Vpn vpn);
  ZStamp stamp_of(FrameId f) const { return {frames_[f].content, frames_[f].version}; }

  // profiles.md §2: ALMOS-MKH (model/src/op_almos_vseg.cpp, op_almos_fault.cpp).
  Outcome almos_process(const Event& e);
  Outcome almos_vseg(const Event& e);
  Outcome almos_munmap(const Event& e);
  Outcome almos_access(const Event& e);
  Outcome almos_fork(const Event& e);
  Outcome almos_exec(const Event& e);
  Outcome almos_exit(const Event& e);
  AProcess& almos_proc(const Event& e, std::uint64_t pid, const char* field = "pid");
  /// vmm_remove_vseg: PTEs unmapped in every copy, the vseg's VA back to its allocator.
  void almos_remove_vseg(AProcess& p, Vpn base);
  /// Unmaps [first, first + count) in every GPT copy of `p`, releasing pages.
  void almos_unmap_pages(AProcess& p, const AVseg& v, Vpn first, std::uint64_t count);
  /// Drops one mapping of page `ppn` (`cow`: it was a COW sharer); frees it at zero.
  void almos_put_page(std::uint64_t ppn, bool cow);
  std::uint64_t almos_new_page(std::uint64_t version);
  /// vmm_global_update_pte: the reference entry and every copy that holds the VPN.
  void almos_update_pte(AProcess& p, Vpn vpn, const APte& pte);

  // §2.14 mechanism events.
  Outcome vseg_insert(const Event& e);
  Outcome vseg_remove(const Event& e);
  Outcome pte_set(const Event& e);
  Outcome pte_clear(const Event& e);
  Outcome frame_event(const Event& e);
  Outcome va_list_event(const Event& e);

  // Shared mechanisms (model/src/model_core.cpp).
  AddressSpace& space_of(const Event& e, Asid as, const char* field = "as");
  /// Installs `pte` at vpn (replacing any entry; rmap kept exact; a replaced entry
  /// becomes stale where cached). Does not touch reference counts.
  void install_pte(AddressSpace& s, Vpn vpn, const Pte& pte);
  /// Every CPU that may have cached `old` (the translation at vpn until now) keeps it
  /// as a stale entry until a covering flush (spec §3.1).
  void note_superseded(Asid as, Vpn vpn, const Pte& old);
  /// Removes the entry at vpn (rmap only). Returns the removed frame or kNoFrame.
  FrameId remove_pte(AddressSpace& s, Vpn vpn);
  /// Drops one reference; frees the frame at zero (put_page).
  void put_frame(FrameId f);
  void get_frame(FrameId f);
  /// Broadcast shootdown of [first, first+count) of `as` on every CPU.
  void shootdown(Asid as, Vpn first, std::uint64_t count);
  /// Unmaps every PTE in [start, end) of `s`, releasing frames the way `mode` says.
  void unmap_ptes(AddressSpace& s, Va start, Va end, TlbMode mode);
  /// Removes [start, end) from the VSL and the GPT (munmap core).
  void unmap_range(AddressSpace& s, Va start, Va end, TlbMode mode);
  void release_pending();
  /// After `v` left its VSL: a shmem object no vseg maps any more frees its pages.
  void drop_vseg_object(const Vseg& v);
  bool object_mapped(ObjectId obj) const;
  std::uint64_t fresh_anon_id() { return ++anon_ids_; }
  ObjectId object_for(const FileRef& f);
  ObjectId new_shmem(std::uint64_t pages);
  FrameId frame_label(const Event& e, bool must_exist);

  // Fault handling (model/src/op_access.cpp).
  struct FaultResult { AccessResult result = AccessResult::ok; Err err = Err::ok; FrameId frame = kNoFrame; };
  /// The kernel's fault path: resolve `va` for `kind` in `s` (demand fault, COW break).
  /// `cpu` < 0 means a kernel-internal access (GUP/populate) that fills no TLB.
  FaultResult fault_in(AddressSpace& s, Va va, AccessKind kind, int cpu);
  FaultResult demand_fault(AddressSpace& s, Vseg& v, Vpn vpn, AccessKind kind);
  FaultResult cow_break(AddressSpace& s, Vseg& v, Vpn vpn);
  bool try_expand_stack(AddressSpace& s, Va va);
  /// Gives `v` an owner of anonymous pages: a compatible neighbour's (next, then prev)
  /// when it can be reused, else a new one (Linux anon_vma_prepare).
  void prepare_anon(AddressSpace& s, Vseg& v);
  /// Read fault on a file/shmem page: also map the cached pages around it (Linux
  /// do_fault_around; profiles.md §1.9).
  void fault_around(AddressSpace& s, Vseg& v, Vpn vpn);
  /// Rights a PTE for frame `f` gets in vseg `v` (spec §2.9.4): W withheld for COW.
  Prot effective_rights(const Vseg& v, FrameId f, bool cow) const;
  std::optional<FrameId> cached_frame(ObjectId obj, std::uint64_t index);

  // VSL helpers (model/src/op_map.cpp, op_range.cpp, op_mremap.cpp).
  std::uint64_t page_round(std::uint64_t len) const;  ///< 0 on overflow
  Va start_gap(const Vseg& v) const;                  ///< start less the stack guard gap
  void forget_forked_owners(const AddressSpace& s);   ///< the space is going: drop its fork-made owners
  /// Whether `src` (new or changed) may join `tgt` as far as anon owners go.
  Tri anon_compatible(const Vseg& src, const Vseg& tgt) const;
  /// Whether lo and hi (adjacent) may merge; `src_is_lo` names which one is changing.
  Tri mergeable(const Vseg& lo, const Vseg& hi, bool src_is_lo) const;
  void join(AddressSpace& s, Vseg& lo, const Vseg& hi);
  Vseg new_vseg(const Event& e, Va start, std::uint64_t len);
  /// Applies `change` to the vseg parts in [start, end), splitting only those it changes,
  /// then `after` on each changed part, then merges. Returns the first error, or ENOMEM
  /// for a hole (stop_at_hole: stop there, as mprotect and mlock do).
  Err change_range(AddressSpace& s, Va start, Va end, bool stop_at_hole,
                   const std::function<Err(Vseg&)>& change, const std::function<void(Vseg&)>& after);
  void reprotect_ptes(AddressSpace& s, const Vseg& v);
  /// Shared checks of a page-aligned [addr, addr+len) argument: an outcome to return at
  /// once (unaligned, empty, or overflowing with `overflow`), or nullopt and `end` set.
  std::optional<Outcome> range_arguments(const Event& e, Err overflow, Va& end) const;
  void move_ptes(AddressSpace& s, Va from, Va to, std::uint64_t len);
  /// Merges the vseg starting at `start` with its neighbours where the profile allows.
  void merge_around(AddressSpace& s, Va start);
  std::optional<Va> find_gap(const AddressSpace& s, std::uint64_t len, std::optional<Va> hint) const;
  bool gap_free(const AddressSpace& s, Va start, std::uint64_t len) const;
  void populate(AddressSpace& s, Va start, Va end);

  Profile profile_;
  std::uint64_t page_size_;
  unsigned page_shift_;
  FrameTable frames_;
  std::vector<CpuTlb> cpus_;
  std::vector<std::uint64_t> held_index_;
  std::map<Asid, AddressSpace> spaces_;
  std::vector<Object> objects_;             ///< index = ObjectId; [0] unused
  std::unordered_map<std::string, ObjectId> file_objects_;
  std::unordered_map<std::string, FrameId> labels_;     ///< mechanism-event frame names
  std::unordered_map<std::string, FrameId> pins_;       ///< pin handle -> frame
  std::vector<FrameId> pending_;
  std::vector<ObjectId> free_shmem_;        ///< dead shmem objects' slots
  std::uint64_t anon_ids_ = 0;
  std::set<std::uint64_t> forked_anon_ids_;  ///< owners made by fork: not reusable (non-singular chain)
  ZephyrState zephyr_;
  AlmosState almos_;
  std::map<Vpn, std::uint64_t> code_pages_;  ///< almos-mkh: the .elf mapper's page per CODE VPN
  Delta delta_;
  bool continuing_ = false;  ///< the previous event had `cont`: keep accumulating the delta
};

}  // namespace vmref::model
