// The nova kernel's layer of the model (spec/kernels/nova.md): per address space one VMM
// (nova-core's `Vmm`) identified by its PDB, the GPU page tables in simulated VRAM as
// table pages keyed by PFN, the pending set of prepared table pages keyed by PDE slot,
// page_table_allocs with its capacity, the VA allocator, and the GPU TLB's may-hold set;
// and per event group, what each call did (for the invariants that judge calls).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nova_events.hpp"
#include "vmref/model/layer.hpp"

namespace vmref::nova {

using model::Outcome;
using vocab::Event;
using Vfn = std::uint64_t;  ///< VA >> 12
using Pfn = std::uint64_t;  ///< VRAM address >> 12
using Translation = std::pair<Vfn, Pfn>;  ///< a VFN and the PFN the GPU TLB may translate it to

/// The level structure of one MMU version (spec/kernels/nova.md §2). Levels are numbered
/// from the root: 0 is the PDB, pde_levels() - 1 the dual-PDE level (PD0), pde_levels()
/// the leaf page table (PT_SMALL).
struct Geometry {
  unsigned mmu = 2;
  unsigned pde_levels() const { return mmu == 2 ? 4 : 5; }
  unsigned dual_level() const { return pde_levels() - 1; }
  unsigned pt_level() const { return pde_levels(); }
  /// Entries per 4 KiB table page at `level`: root 4 (v2) or 2 (v3), dual 256, else 512.
  unsigned entries(unsigned level) const;
  /// Bytes per entry: 16 at the dual level, 8 elsewhere.
  unsigned entry_size(unsigned level) const { return level == dual_level() ? 16 : 8; }
  /// Lowest VFN bit of the index at `level` (PT 0, dual 9, then 17, 26, 35, 44).
  unsigned shift(unsigned level) const;
  unsigned index(unsigned level, Vfn vfn) const { return (vfn >> shift(level)) & (entries(level) - 1); }
  /// VFN bits of the whole VA: 37 (v2, 49-bit VA) or 45 (v3, 57-bit VA).
  unsigned vfn_bits() const { return shift(0) + (mmu == 2 ? 2 : 1); }
  /// pt_pages_upper_bound(n) as the seed computes it (§2.2).
  std::uint64_t upper_bound(std::uint64_t pages) const;
};

/// A valid small PTE: the VRAM frame it maps and its write right.
struct Pte {
  Pfn pfn = 0;
  bool writable = false;
};

/// One 4 KiB table page in VRAM (live or freed; a freed page keeps its record until it
/// is allocated again). PDE levels use `pde` (the small pointer at the dual level) and
/// `big` (the dual PDE's big half); the leaf level `pte`; a big page table `chunks`.
struct Table {
  unsigned level = 0;
  Asid owner = 0;
  bool live = true;
  bool zeroed = true;   ///< zeroed through PRAMIN before any PDE could point at it (N5)
  bool is_big = false;  ///< a big (64 KiB) page table under a dual PDE's big half
  std::map<unsigned, Pfn> pde;
  std::map<unsigned, Pfn> big;
  std::map<unsigned, Pte> pte;
  std::map<unsigned, BigState> chunks;  ///< 64 KiB chunk -> state; absent: U
};

/// A VA allocation: first VFN and page count.
struct Range {
  Vfn start = 0;
  std::uint64_t pages = 0;
};

/// A prepared table page waiting in `pt_pages` (PreparedPtPage): its page and the level
/// of the table holding the PDE slot it will be installed in.
struct Staged {
  Pfn page = 0;
  unsigned level = 0;
};

/// A triggered invalidate (nova_flush_start, §15) and the translations it is sure to
/// remove: those it names that were already stale when it was triggered. One the tables
/// stop giving only later may be refilled before the invalidate reaches it.
struct InFlight {
  FlushArgs flush;
  std::set<std::pair<Vfn, Pfn>> stale;
};

/// One VMM (struct Vmm).
struct Vmm {
  Pfn pdb = 0;
  std::map<Vfn, std::uint64_t> va;            ///< live VA allocations: start -> pages
  std::map<std::uint64_t, Staged> pending;    ///< pt_pages: install_addr (PDE slot bytes) -> page
  std::vector<Pfn> allocs;                    ///< page_table_allocs
  std::uint64_t cap = 0;                      ///< page_table_allocs' capacity
  std::map<std::string, Range> prepared;      ///< PreparedMapping by handle
  std::map<std::string, Range> mapped;        ///< MappedRange by handle
  std::set<std::pair<Vfn, Pfn>> may_hold;     ///< translations the GPU TLB may hold (PDB-tagged)
  std::deque<InFlight> in_flight;             ///< nova_flush_start'ed invalidates not yet completed, oldest first
};

/// What one call did (INV-NOVA-1, 2, 5, 7, 8, 9, 10 judge calls, not states).
struct CallNote {
  Asid as = 0;
  std::string call;                       ///< "prepare", "execute", "map", "unmap", "drop"
  bool ok = false;
  bool executed = false;                  ///< execute ran past its argument checks
  std::uint64_t pending_at_execute = 0;   ///< |pt_pages| when execute started draining
  std::uint64_t room_at_execute = 0;      ///< capacity - len then
  std::uint64_t allocations_in_execute = 0;
  unsigned flushes = 0;                   ///< PDB flushes issued (completed or not)
  std::uint64_t big_halves_erased = 0;    ///< dual PDE writes that cleared a valid big half
  bool range_refused = false;             ///< map's own range check passed, prepare refused the range
  bool spurious_warning = false;          ///< "MappedRange dropped without calling unmap_pages()" after an unmap
  std::uint64_t ghost_translations = 0;   ///< drop: may-hold translations left behind the freed tables
};

class NovaModel : public model::KernelLayer {
 public:
  NovaModel(model::Core& core, const NovaParams& params) : KernelLayer(core), p_(params), g_{params.mmu} {}
  Outcome nova_new(const Event& e);
  Outcome drop(const Event& e);
  Outcome prepare(const Event& e);
  Outcome execute(const Event& e);
  Outcome map(const Event& e);
  Outcome unmap(const Event& e);
  Outcome access(const Event& e);
  Outcome set_big(const Event& e);
  /// nova_flush (§8.1): the driver's own invalidate of the PDB.
  Outcome driver_flush(const Event& e);
  // Mechanism-level steps (§15, op_steps.cpp).
  Outcome pt_alloc(const Event& e);
  Outcome pt_zero(const Event& e);
  Outcome pt_free(const Event& e);
  Outcome pde_write(const Event& e);
  Outcome pte_write(const Event& e);
  Outcome va_alloc(const Event& e);
  Outcome va_free(const Event& e);
  Outcome call_bracket(const Event& e);
  Outcome flush_start(const Event& e);
  Outcome flush_done(const Event& e);
  void begin_group() override {
    notes_.clear();
    step_notes_.clear();
  }
  void before_destroy(Asid as) override;

  const NovaParams& params() const { return p_; }
  const Geometry& geometry() const { return g_; }
  const std::map<Asid, Vmm>& vmms() const { return vmms_; }
  const std::map<Pfn, Table>& vram() const { return vram_; }
  const std::vector<CallNote>& notes() const { return notes_; }
  /// The valid PTE of `vfn` reached from the PDB through small pointers, or nullopt.
  std::optional<Pte> lookup(const Vmm& v, Vfn vfn) const;
  /// Whether `vfn` lies in a live VA allocation of `v`.
  static bool va_live(const Vmm& v, Vfn vfn);

  /// lookup() with the leaf table of the last 512-page block kept: walking the may-hold
  /// set (VFN order) costs one path walk per block, not one per VFN. Valid while the
  /// tables do not change.
  class BlockLookup {
   public:
    BlockLookup(const NovaModel& m, const Vmm& v) : m_(m), v_(v) {}
    std::optional<Pte> operator()(Vfn vfn);

   private:
    const NovaModel& m_;
    const Vmm& v_;
    Vfn block_ = ~Vfn{0};
    const Table* pt_ = nullptr;  ///< block_'s leaf table; nullptr: none installed
  };

 private:
  Vmm& vmm_of(Asid as);
  Pfn alloc_page(Asid owner, unsigned level);
  void free_page(Pfn p);
  bool reserve(Vmm& v, std::uint64_t k, bool inject_fail);
  /// prepare_map; the note is the calling event's. Returns the VA start or an error.
  Outcome do_prepare(Vmm& v, std::uint64_t pages, const std::string& handle,
                     const std::optional<std::pair<vocab::Va, vocab::Va>>& range, const PrepareFail& fail, CallNote& n);
  Outcome do_execute(Vmm& v, const std::string& handle, Pfn pfn, std::optional<std::uint64_t> count, bool writable,
                     const StepFail& fail, CallNote& n);
  std::optional<Range> alloc_va(Vmm& v, std::uint64_t pages, const std::optional<std::pair<vocab::Va, vocab::Va>>& range,
                                vocab::Err& err);
  /// The table page `p` an API call's walk reaches; bad input naming `op` when a
  /// recorded PDE points at a page that is no table page.
  const Table& walked(Pfn p) const;
  /// The table page at the end of vfn's small-pointer path down to `level`, or nullopt
  /// (also when a PDE on the path points at no table page).
  std::optional<Pfn> table_at(const Vmm& v, Vfn vfn, unsigned level) const;
  void write_pte(Vmm& v, Vfn vfn, std::optional<Pte> pte);
  void flush(Vmm& v, CallNote& n);
  /// Removes from the may-hold set every translation `named` accepts that the tables no
  /// longer give: what an invalidate that guarantees removal leaves.
  void forget_stale(Vmm& v, const std::function<bool(const Translation&)>& named);
  /// Whether a big PTE hides `vfn`'s small PTE (a chunk in state I or S).
  bool hidden_by_big(const Vmm& v, Vfn vfn) const;
  /// The table page `addr` lies in: live and owned by `as`, else bad input naming `field`.
  Table& owned_table(Asid as, std::uint64_t addr, const char* field);
  /// The note mechanism steps of `as` add to in this group: its nova_call's, else one
  /// named "driver" (so a big half cleared outside any call is still judged).
  CallNote& step_note(Asid as);
  /// The VFN of entry 0 of table `t` when it is reachable from the PDB through small
  /// pointers at its own level, else nullopt. A search of the VMM's tables: mechanism
  /// traces are a driver's recorded code paths, not million-event campaigns.
  std::optional<Vfn> prefix_of(const Vmm& v, Pfn t) const;
  /// Adds every valid small PTE under table `t` (at `level`, entry 0 at `prefix`) to the
  /// may-hold set: linking a subtree lets the GPU fill from it (§1). Tables in `seen` are
  /// not entered again: a table linked twice (INV-NOVA-4) is filled through its first
  /// path only; an access through another path fills what it reads (access()).
  void fill_below(Vmm& v, Pfn t, unsigned level, Vfn prefix, std::set<Pfn>& seen);
  /// An invalidate of `a.range` (all VA when absent) that completed with `a.ack`.
  void complete(Vmm& v, const FlushArgs& a);
  /// Whether invalidate `a` names the page of `vfn`.
  static bool names(const FlushArgs& a, Vfn vfn);
  /// The may-hold translations `a` names that the tables no longer give.
  std::set<std::pair<Vfn, Pfn>> stale_named(const Vmm& v, const FlushArgs& a) const;
  /// table_at for a call about to write: bad input naming `op` when a PDE on the path
  /// points at a page that is no table page (N-C9), rather than writing through it.
  std::optional<Pfn> table_for_write(const Vmm& v, Vfn vfn, unsigned level) const;
  std::uint64_t slot_key(Pfn table, unsigned level, unsigned idx) const {
    return (table << 12) + std::uint64_t{idx} * g_.entry_size(level);
  }

  NovaParams p_;
  Geometry g_;
  std::map<Asid, Vmm> vmms_;
  std::map<Pfn, Table> vram_;
  std::set<Pfn> free_;          ///< freed table pages, reused lowest first
  /// Translations a dropped VMM left in the GPU TLB, by the PDB they are tagged with: a
  /// VMM made later on the same PDB page starts with them (§3).
  std::map<Pfn, std::set<std::pair<Vfn, Pfn>>> left_by_pdb_;
  Pfn next_pfn_ = 0x10000;      ///< the next never-used table page (our choice: VRAM from 256 MiB)
  std::vector<CallNote> notes_;
  std::map<Asid, std::size_t> step_notes_;  ///< index into notes_ of each VMM's step note this group
};

/// Table pages a recorded driver may name (§15, N-C9): VRAM from 256 MiB (N-C7) up to 64 GiB.
inline constexpr Pfn kFirstTablePfn = 0x10000, kTablePfnLimit = Pfn{1} << 24;
/// Throws bad input naming `field` when `p` lies outside [kFirstTablePfn, kTablePfnLimit).
void check_table_pfn(Pfn p, const char* field);

/// Registers the nova layer and INV-NOVA-1..10.
void register_model();

}  // namespace vmref::nova
