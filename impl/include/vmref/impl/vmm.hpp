// The optimized implementations' shared VMM core: address spaces, each with real page
// tables in simulated physical memory and a hardware context (PCID/ASID); data frames
// counted the way a kernel counts struct page; PTE writes that keep map counts; TLB
// maintenance through a format's Mmu. Kernels (impl/kernels/<k>/) build their own
// structures on it, in the style of the kernel each imitates; `Vmm` composes the core
// and a profile's kernel layers and dispatches events to them. It never includes the
// model: it reads the shared vocabulary only (spec/differential.md §1).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "vmref/impl/frame_pool.hpp"
#include "vmref/impl/memory_image.hpp"
#include "vmref/impl/mmu.hpp"
#include "vmref/impl/mutant.hpp"
#include "vmref/impl/radix_table.hpp"
#include "vmref/vocab/core_ops.hpp"

namespace vmref::impl {

using vocab::Asid;
using vocab::Err;
using vocab::Event;
using vocab::Outcome;
using vocab::Va;

inline constexpr std::uint64_t kPage = 4096;
inline constexpr unsigned kPageShift = 12;
/// Pages above which a range shootdown becomes a whole-context flush (Linux
/// tlb_single_page_flush_ceiling, arch/x86/mm/tlb.c).
inline constexpr std::uint64_t kFlushCeiling = 33;

/// An event this implementation does not implement (mechanism events, mremap, madvise,
/// mlock, growsdown stacks...). Replay and fuzz report it as bad input naming `field`.
struct Unsupported : std::runtime_error {
  Unsupported(std::string field_, const std::string& msg) : std::runtime_error(msg), field(std::move(field_)) {}
  std::string field;
};

/// What the VMM keeps per physical frame (Linux struct page): counts by PFN. A folio of
/// 2^order frames (a THP) keeps its counts, generation and contents stamp in its head
/// frame; each tail frame names the head and counts only its own base-page mappings.
struct PageInfo {
  bool data = false;            ///< a data frame or folio head (not a tail, a table page, or free)
  std::uint32_t refcount = 0;   ///< get/put references: mappings, page cache, pins, mmu_gather
  std::uint32_t mapcount = 0;   ///< leaves mapping it (a folio's: leaves mapping any of its pages)
  std::uint32_t pins = 0;
  std::uint32_t mmu_gather = 0;  ///< references a deferred flush holds until it completes (Linux mmu_gather)
  bool cached = false;          ///< owned by an object's page cache
  std::uint64_t generation = 0; ///< distinct per allocation
  std::uint8_t order = 0;       ///< head of a folio of 2^order frames
  std::uint64_t head = 0;       ///< a tail frame's head PFN (0: not a tail)
  std::uint32_t page_maps = 0;  ///< a folio page's base-page (4 KiB) mappings (Linux page->_mapcount)
  std::uint32_t entire_maps = 0;  ///< a folio head's whole-folio leaves (Linux _entire_mapcount)
};

class VmmCore;

/// One kernel's part of an implementation: its own structures and operations, and the
/// hooks the core calls.
class KernelLayer {
 public:
  explicit KernelLayer(VmmCore& core) : core_(core) {}
  virtual ~KernelLayer() = default;
  KernelLayer(const KernelLayer&) = delete;
  KernelLayer& operator=(const KernelLayer&) = delete;
  /// as_create made address space `as` (with the heap start the event gave).
  virtual void created(Asid, const vocab::AsCreateArgs&) {}
  /// as_destroy of `as` is about to run: refuse it (throw), or drop the layer's state.
  virtual void before_destroy(Asid) {}
  /// A TLB invalidation covered [lo, hi) of `as` (0: every space) on `cpu` (-1: every CPU).
  virtual void flushed(int, Asid, Va, Va) {}
  /// The address space's user mappings all went (exec): drop what lived in them.
  virtual void reset(Asid) {}
  /// Appends the memories the layer keeps tables in besides the core's (a GPU's VRAM).
  virtual void images(std::vector<MemoryImage>&) const {}

 protected:
  VmmCore& core_;
};

/// Address spaces, contexts, frames, PTE writes and TLB maintenance (4 KiB pages).
class VmmCore {
 public:
  struct Space {
    Space(Asid a, std::uint16_t c, FramePool& pool, const RadixCodec& codec, Mutant m)
        : asid(a), ctx(c), table(pool, codec, m) {}
    Asid asid;
    std::uint16_t ctx;  ///< PCID / ASID
    RadixTable table;
  };

  /// `frame_capacity` data frames besides the zero page (as the model's FrameTable).
  VmmCore(std::uint64_t frame_capacity, const RadixCodec& codec, Mmu& mmu, Mutant mutant);

  // Address spaces and contexts.
  /// A new space with a free context; throws Unsupported when contexts run out.
  Space& create_space(Asid as);
  /// Unmaps everything (synchronous shootdown), invalidates the context, frees it.
  void destroy_space(Asid as);
  Space& space_of(Asid as, const char* field = "as");
  const Space* space(Asid as) const;
  Space* space(Asid as);
  /// Live spaces in ascending order of their ids.
  std::vector<Asid> spaces() const;
  /// The space whose own hardware context is `ctx`, 0 for none (a tag is no space's own).
  Asid asid_of(std::uint16_t ctx) const { return ctx < ctx_owner_.size() ? ctx_owner_[ctx] : 0; }

  // Contexts per CPU. A space runs under its own context unless the trace's `switch`
  // names a tag (spec/vmm.md §2.3): that tag is then the PCID/ASID, as the kernel chose it.
  /// The address space `cpu` runs, 0 = none.
  Asid running(unsigned cpu) const { return cpu_[cpu].running; }
  /// Runs `s` on `cpu`: under its own context, or under `tag`, whose non-global entries
  /// go first when `flush`. Throws Unsupported("tag") for a tag that is 0, above the
  /// Mmu's contexts, or some live space's own context.
  void load_space(unsigned cpu, Space& s, std::optional<std::uint32_t> tag = std::nullopt, bool flush = false);
  /// The contexts under which `cpu` may hold translations of `as`: its own, and each tag
  /// loaded for it since that tag's last flush on `cpu`.
  std::vector<std::uint16_t> contexts_of(unsigned cpu, Asid as) const;
  /// Whether `ctx` is a tag a trace named rather than a space's own context.
  bool is_tag(std::uint16_t ctx) const { return tags_used_.count(ctx) != 0; }
  /// Invalidates `s`'s translation of the page at `va` on `cpu` under each of its contexts.
  void invalidate_page(unsigned cpu, const Space& s, Va va, bool with_global);
  /// Invalidates every translation of `s` on `cpu` (with `with_global`: everything there).
  void invalidate_space(unsigned cpu, const Space& s, bool with_global);
  /// Invalidates everything on `cpu`.
  void invalidate_all(unsigned cpu);
  /// Throws std::invalid_argument("cpu: ...") unless 0 <= cpu < cpus.
  unsigned need_cpu(int cpu) const;

  // Frames (PFNs of simulated memory).
  /// A fresh data frame with refcount 1, or nullopt at capacity.
  std::optional<std::uint64_t> alloc_data();
  /// A fresh folio of 2^order frames (its head PFN, aligned) with refcount 1, or nullopt
  /// when fewer than 2^order frames of the capacity are free.
  std::optional<std::uint64_t> alloc_folio(unsigned order);
  /// The huge zero page (a folio of `order`), made on first use and never freed or
  /// counted (Linux mm_get_huge_zero_folio); nullopt when it does not fit.
  std::optional<std::uint64_t> huge_zero(unsigned order);
  /// Whether `pfn` is (in) a zero page: never counted, never written.
  bool is_zero(std::uint64_t pfn) const { return pfn == zero_pfn_ || (huge_zero_pfn_ && head_of(pfn) == huge_zero_pfn_); }
  /// The folio head of `pfn` (`pfn` itself unless it is a tail frame).
  std::uint64_t head_of(std::uint64_t pfn) const {
    return pfn < pages_.size() && pages_[pfn].head ? pages_[pfn].head : pfn;
  }
  /// Whether a leaf other than the one of `size` bytes mapping `pfn` maps one of its
  /// pages too: the folio mapped whole elsewhere, or a page by another base PTE (Linux
  /// page_mapcount > 1).
  bool page_shared(std::uint64_t pfn, std::uint64_t size) const;
  /// Marks `pfn` (taken from the pool by the caller) a live data frame with refcount 1.
  void claim_data(std::uint64_t pfn);
  /// Marks a data frame free without returning it to the pool (the caller keeps it).
  void unclaim_data(std::uint64_t pfn);
  void get(std::uint64_t pfn);
  /// Drops one reference; at zero the frame goes back to the pool.
  void put(std::uint64_t pfn);
  /// The contents stamp of a data frame or of the folio it belongs to (bumped by each
  /// user write, copied by COW).
  std::uint64_t& stamp(std::uint64_t pfn) { return mem_.page(head_of(pfn))[0]; }
  std::uint64_t version(std::uint64_t pfn) const;
  PageInfo& page(std::uint64_t pfn) { return pages_[pfn]; }
  const PageInfo& page(std::uint64_t pfn) const { return pages_[pfn]; }
  std::uint64_t zero_pfn() const { return zero_pfn_; }
  std::uint64_t data_frames() const { return data_in_use_; }
  std::uint64_t capacity() const { return capacity_; }

  // PTEs and TLB maintenance.
  /// Maps a 4 KiB page; keeps map counts (the replaced frame's too).
  void set_pte(Space& s, Va va, std::uint64_t pfn, const LeafAttrs& a);
  /// Maps the whole folio at `head` with one leaf of `size` bytes at `va` (aligned);
  /// keeps map counts (the replaced leaf's too).
  void set_huge(Space& s, Va va, std::uint64_t head, std::uint64_t size, const LeafAttrs& a);
  /// Map counts for a leaf of `size` bytes mapping `pfn` that went (-1) or came (+1).
  void count_map(std::uint64_t pfn, std::uint64_t size, int delta);
  /// Invalidates the leaf of `size` bytes at `va` everywhere: one INVLPG per CPU and
  /// context reaches every page of a large leaf (Intel SDM Vol 3A §4.10.4.1).
  void shootdown_leaf(Space& s, Va va, std::uint64_t size);
  /// Clears the PTE at va (mapcount kept exact); returns the PFN it mapped or 0.
  std::uint64_t clear_pte(Space& s, Va va);
  /// Linux flush_tlb_mm_range: page by page up to kFlushCeiling, else the whole context,
  /// on every CPU; then every layer hears of it.
  void shootdown(Space& s, Va start, Va end);
  /// Every layer hears that a flush covered [lo, hi) of `as` on `cpu` (layer.flushed).
  void flushed(int cpu, Asid as, Va lo, Va hi);
  /// Every layer hears that `as` was reset by exec (layer.reset).
  void reset(Asid as) {
    for (KernelLayer* l : layers) l->reset(as);
  }

  // Shared operations (spec/vmm.md §2.1-§2.3, §3.2).
  Outcome as_create(const Event& e);
  Outcome as_destroy(const Event& e);
  Outcome switch_as(const Event& e);
  Outcome tlb_flush(const Event& e);

  Mmu& mmu() { return mmu_; }
  const Mmu& mmu() const { return mmu_; }
  const RadixCodec& codec() const { return codec_; }
  Mutant mutant() const { return mutant_; }
  FramePool& pool() { return pool_; }
  const SimMemory& memory() const { return mem_; }
  /// Table pages of every address space's tables (roots included).
  std::uint64_t table_pages() const;
  /// Every layer, bottom-up (for hooks).
  std::vector<KernelLayer*> layers;

 private:
  std::uint64_t capacity_;
  const RadixCodec& codec_;
  Mmu& mmu_;
  Mutant mutant_;
  SimMemory mem_;
  FramePool pool_;
  std::vector<PageInfo> pages_;
  std::uint64_t zero_pfn_ = 0, huge_zero_pfn_ = 0, data_in_use_ = 0, generations_ = 0;
  /// What a CPU runs, and which spaces each tag it loaded may hold translations of.
  struct CpuContexts {
    Asid running = 0;
    std::map<std::uint16_t, std::vector<Asid>> tags;
  };
  std::uint16_t tag_context(std::uint32_t tag);
  /// `ctx` was flushed on `cpu` (`all`: every context was): a tag now holds only what
  /// the CPU runs under it.
  void forget(unsigned cpu, std::uint16_t ctx, bool all);

  std::unordered_map<Asid, std::unique_ptr<Space>> spaces_;
  std::vector<std::uint16_t> free_ctx_;
  std::uint16_t next_ctx_ = 0;  ///< own contexts are handed out from the top, tags come from traces
  std::vector<Asid> ctx_owner_;
  std::vector<CpuContexts> cpu_;
  std::set<std::uint16_t> tags_used_;
};

/// What an implementation is built with.
struct VmmConfig {
  std::uint64_t frames = 4096;      ///< data frames besides the zero page
  const RadixCodec* codec = nullptr;
  Mmu* mmu = nullptr;
  Mutant mutant = nullptr;
};

/// The implementation of one profile: the core and the profile's kernel layers.
class Vmm {
 public:
  /// Throws std::invalid_argument when a kernel of the profile has no implementation.
  Vmm(const vocab::Profile& profile, const VmmConfig& cfg);
  ~Vmm();
  /// Applies one event with the spec's semantics. Throws Unsupported for events outside
  /// the implemented set, std::invalid_argument naming the field for inapplicable ones.
  Outcome apply(const Event& e);
  const VmmCore& core() const { return *core_; }
  /// The core's physical memory ("phys", a root per live space) and each layer's images.
  std::vector<MemoryImage> images() const;
  /// The layer of type L, or nullptr when the profile has none.
  template <class L> const L* layer() const {
    for (const auto& l : layers_)
      if (auto* p = dynamic_cast<const L*>(l.get())) return p;
    return nullptr;
  }

 private:
  struct Route { KernelLayer* layer = nullptr; Outcome (*fn)(KernelLayer&, const Event&) = nullptr; };
  std::unique_ptr<VmmCore> core_;
  std::vector<std::unique_ptr<KernelLayer>> layers_;
  std::vector<Route> routes_;  ///< by OpInfo::id
};

}  // namespace vmref::impl
