// The shared core of the model (spec/vmm.md §1, §3): address spaces with their VSL and
// GPT, page frames with reference counts, backing objects, the translations each CPU
// may hold, and the mechanisms every kernel's operations are built from (PTE install
// and removal with the reverse map, get/put of frames, shootdown, deferred release).
// Kernels (model/kernels/<k>/) add their state and operations on top.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "vmref/model/address_space.hpp"
#include "vmref/model/frames.hpp"
#include "vmref/model/tlb.hpp"
#include "vmref/vocab/event.hpp"

namespace vmref::model {

using vocab::Event;
using vocab::Outcome;

class KernelLayer;

/// An event that cannot apply to the current state (unknown address space, CPU out of
/// range, unknown frame label...). Replay reports it as bad input naming `field`.
struct ModelError : std::runtime_error {
  ModelError(std::string field_, const std::string& msg)
      : std::runtime_error(msg), field(std::move(field_)) {}
  std::string field;
};

/// A backing object: a file (by identity) or a shared-anonymous (shmem) object.
/// Its page cache holds one reference on each cached frame (spec/vmm.md §1.4).
struct Object {
  std::string id;                           ///< "dev:inode" for files, empty for shmem
  std::string path;
  bool shmem = false;
  bool live = true;                         ///< false once a shmem object died (slot reusable)
  std::optional<std::uint64_t> pages;       ///< size in pages when known; faults beyond it are SIGBUS
  std::map<std::uint64_t, FrameId> cache;   ///< page index -> frame
};

/// What the last event group touched in the shared state; invariant checkers look only
/// here unless `all` is set. Kernels keep their own notes in their layers.
struct Delta {
  struct Range { Asid as; Vpn first; std::uint64_t count; };
  std::vector<Range> ranges;
  std::vector<FrameId> frames;
  std::vector<Asid> spaces;     ///< address spaces whose VSL or allocator lists changed
  bool tables = false;          ///< a table page was linked or unlinked (INV-PT-*)
  bool all = false;             ///< check everything (full mode, or a global change)
  struct Reuse { std::uint64_t list_class, request_class; };
  std::vector<Reuse> reuses;    ///< va_reuse events (INV-ALLOC-4)
  /// A translation some CPU still held stale at the moment a rule of spec/vmm.md §3.4
  /// required it flushed: at a lock's release (INV-TLB-4) or a call's return (INV-TLB-5).
  struct Unflushed { std::string what; unsigned cpu; Asid as; Vpn vpn; };  ///< what: the lock or call
  std::vector<Unflushed> released, returned;
  /// A switch that loaded another root under a tag without flushing it (INV-TLB-6).
  struct Retag { unsigned cpu; Tag tag; TagUse was, now; };
  std::vector<Retag> retagged;
  void clear() {
    ranges.clear(); frames.clear(); spaces.clear(); reuses.clear(); released.clear(); returned.clear();
    retagged.clear();
    all = tables = false;
  }
};

/// How the core is built; kernels adjust it before construction (ModelKernelInfo::configure).
struct CoreConfig {
  unsigned cpus = 1;                 ///< 1..4096
  std::uint64_t frames = 0;          ///< page frames besides the zero page
  std::uint64_t page_size = 4096;    ///< bytes, a power of two >= 4096
  bool fifo_frames = false;          ///< FrameTable hands out frames in number order (frames.hpp)
  Va task_size = 0x7ffffffff000;     ///< top of user space (INV-VSL-2)
  bool implied_read = true;          ///< W or X imply R in a PTE (x86-64 without pkeys; INV-GPT-2)
};

/// State of spec/vmm.md §1 and the mechanisms of §3. Kernel layers reach it through
/// KernelLayer; conformance code reads it through Model.
class Core {
 public:
  /// Throws std::invalid_argument on bad parameters (cpus, page size).
  explicit Core(const CoreConfig& cfg);
  Core(const Core&) = delete;  // `frames` watches this object's held_index
  Core& operator=(const Core&) = delete;

  const CoreConfig config;
  const std::uint64_t page_size;
  const unsigned page_shift;
  const TableGeometry geometry;  ///< how table-page events split a VA (tables.hpp)
  std::uint64_t link_seq = 0;    ///< counts table links and unlinks, to order them
  FrameTable frames;
  std::vector<CpuTlb> cpus;
  std::vector<std::uint64_t> held_index;     ///< may-hold entries (all CPUs) per frame
  std::map<Asid, AddressSpace> spaces;
  std::vector<Object> objects;               ///< index = ObjectId; [0] unused
  /// Mechanism-event frame names: label -> (frame, allocation generation). A label whose
  /// frame has been freed and reused is forgotten (spec/vmm.md §2.6), so the map is
  /// bounded by the frames, not by the trace's length.
  std::unordered_map<std::string, std::pair<FrameId, std::uint64_t>> labels;
  std::size_t label_sweep_at = 4096;  ///< size at which outdated labels are dropped (doubles)
  std::vector<FrameId> pending;              ///< frames held by deferred flushes (§3.3)
  FrameId huge_zero = kNoFrame;              ///< the huge zero page once allocated (§1.5)
  /// A pin by handle: the frame, the allocation it pinned, and what it was taken through.
  struct PinRecord {
    FrameId frame = kNoFrame;
    std::uint64_t generation = 0;
    PinRef ref;
  };
  std::unordered_map<std::string, PinRecord> pins;  ///< handle -> pin (spec/vmm.md §1.4)
  /// A held kernel lock (spec/vmm.md §3.4): the CPU holding it (-1: none named) and the
  /// PTEs that CPU changed while holding it.
  struct Lock {
    int cpu = -1;
    std::vector<std::pair<Asid, Vpn>> changed;
  };
  std::map<std::string, Lock> locks;
  std::map<Asid, std::uint64_t> flush_pending;  ///< tlb_pending marks per address space
  int acting_cpu = -1;  ///< the CPU the current event names (PTE changes are its locks')
  Delta delta;
  /// Every layer of the model, bottom-up (for hooks such as as_destroy's).
  std::vector<KernelLayer*> layers;

  /// Rights the hardware grants for a vseg's prot (INV-GPT-2 compares PTEs with this).
  Prot grantable(Prot p) const {
    if (config.implied_read && (p.w || p.x)) p.r = true;
    return p;
  }
  const AddressSpace* space(Asid as) const;
  /// The address space `as`; throws ModelError naming `field` when it does not exist.
  AddressSpace& space_of(Asid as, const char* field = "as");
  /// Throws ModelError naming `field` unless 0 <= cpu < cpus.size().
  void need_cpu(int cpu, const char* field = "cpu") const;

  /// Installs `pte` at vpn (replacing any entry; rmap kept exact; a replaced entry
  /// becomes stale where cached). Does not touch reference counts.
  void install_pte(AddressSpace& s, Vpn vpn, const Pte& pte);
  /// Every CPU that may have cached `old` (the translation at vpn until now) keeps it
  /// as a stale entry until a covering flush (§3.1).
  void note_superseded(Asid as, Vpn vpn, const Pte& old);
  /// Removes the entry at vpn (rmap only). Returns the removed frame or kNoFrame.
  FrameId remove_pte(AddressSpace& s, Vpn vpn);
  /// Drops one reference; frees the frame at zero (put_page).
  void put_frame(FrameId f);
  void get_frame(FrameId f);
  /// Throws ModelError(field) unless `handle` is a non-empty name no live pin uses.
  void need_new_pin(const std::string& handle, const char* field) const;
  /// Records a pin named `handle` on `f` (not its reference: callers take that with
  /// get_frame). Throws ModelError(field) when the handle is empty or in use.
  void add_pin(const std::string& handle, FrameId f, const PinRef& r, const char* field);
  /// Forgets the pin `handle` and returns its frame; throws ModelError(field) when unknown.
  FrameId remove_pin(const std::string& handle, const char* field);
  /// Records (+1) or drops (-1) a named kernel reference of `holder` on `f` (the count
  /// itself moves with get_frame/put_frame). Dropping one `holder` does not hold throws
  /// ModelError("holder").
  void add_holder(FrameId f, const std::string& holder);
  void drop_holder(FrameId f, const std::string& holder);
  /// The table page `t` (level `level`) becomes a root of `s` (spec/vmm.md §1.8); a
  /// space may have several (PTI's user and kernel PGDs).
  void set_root(AddressSpace& s, FrameId t, unsigned level);
  /// Links `t` as the level-`level` table of `s` whose range holds `va`, replacing (and
  /// unlinking) any table linked there.
  void link_table(AddressSpace& s, unsigned level, Va va, FrameId t, bool shared);
  /// Unlinks the level-`level` table of `s` whose range holds `va`, and every table below
  /// it. CPUs that may have cached a walk through them keep it until a covering flush.
  /// Returns false when no table is linked there.
  bool unlink_table(AddressSpace& s, unsigned level, Va va);
  /// The CPUs that may still hold a translation of (as, vpn) that the PTE no longer
  /// backs: it is gone, maps another frame or allocation, or grants fewer rights. One
  /// with fewer rights than the PTE only causes a spurious fault (Intel SDM Vol 3A
  /// §4.10.4.3) and is not counted.
  std::vector<unsigned> cpus_holding_stale(Asid as, Vpn vpn) const;
  /// Broadcast shootdown of [first, first+count) of `as` on every CPU.
  void shootdown(Asid as, Vpn first, std::uint64_t count);
  /// Frees deferred frames no CPU may still hold a translation to (§3.3).
  void release_pending();
  /// Unmaps every PTE in [start, end) of `s`, releasing frames the way `mode` says.
  void unmap_ptes(AddressSpace& s, Va start, Va end, TlbMode mode);
  /// Removes [start, end) from the VSL and the GPT (munmap core).
  void unmap_range(AddressSpace& s, Va start, Va end, TlbMode mode);
  /// as_destroy (spec/vmm.md §2.2): every layer's before_destroy hook (which may refuse
  /// with ModelError), then every mapping goes with a synchronous shootdown and no CPU
  /// keeps the space loaded.
  void destroy_space(Asid as);
  /// After `v` left its VSL: a shmem object no vseg maps any more frees its pages.
  void drop_vseg_object(const Vseg& v);
  bool object_mapped(ObjectId obj) const;
  /// The file object `f` names (created on first use).
  ObjectId object_for(const FileRef& f);
  /// A new shmem object of `pages` pages (a dead one's slot when there is one).
  ObjectId new_shmem(std::uint64_t pages);
  /// A fresh owner identity for anonymous pages (Vseg::anon_id).
  std::uint64_t fresh_anon_id() { return ++anon_ids_; }
  /// The frame a mechanism event labels; throws ModelError("frame") when unknown (or its
  /// frame was reused since) and `must_exist`, else returns kNoFrame. "zero" is the zero
  /// page, "huge_zero" the huge zero page once mapped (§1.5).
  FrameId frame_label(const std::string& label, bool must_exist) const;
  /// The huge zero page: a zero page of page_size × E pages (one level-2 leaf: 2 MiB with
  /// 4 KiB pages), allocated on first use and kept for good, as Linux's
  /// `mm_get_huge_zero_folio` keeps it. Throws ModelError("frame") when it does not fit.
  FrameId huge_zero_frame();
  /// Names the freshly allocated frame `f` `label`; drops outdated labels now and then.
  void set_frame_label(const std::string& label, FrameId f);
  /// Page-rounds `len`; 0 on overflow.
  std::uint64_t page_round(std::uint64_t len) const;

 private:
  void drop_link(FrameId t, const TableLink& l);
  /// Records a PTE change under every lock the acting CPU holds (INV-TLB-4).
  void note_locked_change(Asid as, Vpn vpn);

  std::unordered_map<std::string, ObjectId> file_objects_;
  std::vector<ObjectId> free_shmem_;  ///< dead shmem objects' slots
  std::uint64_t anon_ids_ = 0;
};

}  // namespace vmref::model
