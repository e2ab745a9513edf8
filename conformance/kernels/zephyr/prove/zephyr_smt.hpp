// The SMT form of Zephyr's demand paging (spec/kernels/zephyr.md §12): one k_mem_map
// region of `pages` pages over `frames` page frames and the RAM backing store, with NRU
// eviction, the FIFO free list, pins, the VA bitmap's bits of the region and its guards,
// and the translations CPUs may still hold after a page-out; the transition relation of an
// access, k_mem_page_out, k_mem_page_in, k_mem_pin, k_mem_unpin, the NRU tick, and the
// region's k_mem_unmap and its k_mem_map again, on demand or LOCK (eager, and failing part-
// way when frames and slots run out); the contents stamps of pages, frames and slots;
// INV-ZEPHYR-1/2/4/5/6/7/8, INV-TLB-1/2 and the strengthening lemmas LEM-ZEPHYR-S1, S2 and T.
//
// Written from the spec beside the C++ model (ZephyrModel) it must agree with; the
// faithfulness test (tests/test_zephyr_prove.cpp) evaluates it on the model's own states.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <z3++.h>

#include "zephyr_events.hpp"

namespace vmref::zephyr {
class ZephyrModel;
}
namespace vmref::model {
class Model;
}

namespace vmref::zephyr::smt {

/// A contents stamp (18 bits, the model's PageContents): the kind in bits 17:16 (0 zero,
/// 1 uninit, 2 data) and the version in 15:0, the model's 64-bit version modulo 2^16. A
/// slot taken and never written holds `kStale`, the model's kStaleSlot ({uninit, 2^64 - 1})
/// read the same way, so that a write over it wraps to version 0 as the model's does.
inline constexpr unsigned kStampBits = 18;
inline constexpr std::uint64_t kUninit = 1ull << 16, kData = 2ull << 16, kStale = kUninit | 0xffff;

/// One page of the region: `loaded` (a PTE maps `frame`, a frame number 1..frames, 8
/// bits) with the PTE's accessed and dirty bits; else paged out `in_slot` (at backing-
/// store slot `slot`, 8 bits) or still holding its ANON token. `pinned`: in the pinned
/// set (k_mem_pin or LOCK). `touched`: accessed, paged in or pinned since the region's map
/// (INV-ZEPHYR-2). `ghost`: the stamp last written to it (INV-ZEPHYR-5). Unused fields are
/// 0 / false (one form per state; all of them while the region is unmapped).
struct Page {
  z3::expr loaded, frame, a, d, in_slot, slot, pinned, touched, ghost;
};
/// One page frame's k_mem_page_frame record and its place in the allocator: `alloc`
/// (in use), `stamp` (16 bits: when it was freed; the free list hands out the lowest
/// first), the MAPPED and PINNED flags with the page index it is mapped at (`va`), and
/// the contents stamp it holds (`data`; read only while in use).
struct Frame {
  z3::expr alloc, stamp, mapped, pinned, va, data;
};
/// A translation of page p to frame f that a CPU may still hold although no PTE makes it
/// (`held`), and whether f was freed since (`dead`: INV-TLB-1 then fails).
struct Held {
  z3::expr held, dead;
};
struct State {
  z3::expr mapped;                    ///< the region is live (k_mem_map'ed, not yet unmapped)
  /// The region is what a failed LOCK map kept (the seed's missing rollback): nobody holds
  /// its address, so it is never unmapped, and a page of it that is neither loaded nor in
  /// a slot has no location at all (a fault on it fails).
  z3::expr orphan;
  /// The VA bitmap's bits of the region's pages and of the page below and above it:
  /// [0] the lower guard, [1 + i] page i, [pages + 1] the upper guard.
  std::vector<z3::expr> bits;
  std::vector<Page> pages;
  std::vector<Frame> frames;          ///< index i is frame number i + 1
  std::vector<z3::expr> slot_used;    ///< the RAM store's slots
  std::vector<z3::expr> slot_data;    ///< the contents stamp each slot holds (read only while used)
  std::vector<std::vector<Held>> tlb;  ///< [page][frame index]
  z3::expr nru_last;                  ///< 8 bits: NRU's round-robin position (a frame number or 0)
  z3::expr clock;                     ///< 16 bits: the next free-list stamp
};
/// What a call did: a fault found no slot to evict into (INV-ZEPHYR-7's call part); an
/// on-demand k_mem_map took a page frame (INV-ZEPHYR-2's call part); a failed k_mem_map
/// changed the bitmap, kept a page of its range or holds more frames than before
/// (INV-ZEPHYR-6).
struct Note {
  z3::expr fault_no_slot, map_took_frame, map_kept;
};
/// The arguments of one operation: the page is concrete (the relation is a disjunction
/// over pages), the access kind symbolic.
struct OpArgs {
  unsigned page = 0;
  z3::expr write;
};

/// `unmap` is k_mem_unmap of the whole region; `map` is k_mem_map of it again (encoded for
/// on-demand profiles only: Encoding::ops()); `map_lock` is k_mem_map of it again with
/// K_MEM_MAP_LOCK | K_MEM_MAP_UNINIT (eager and pinned, no memset), in every profile.
enum class Op { access, page_out, page_in, pin, unpin, nru_tick, unmap, map, map_lock };
const char* op_name(Op op);
/// Whether the operation names one page of the region (the rest act on the whole region).
bool per_page(Op op);

/// Pages of the region and page frames (frames = the trace header's phys_mem / 4 KiB).
struct Bounds {
  unsigned pages = 4, frames = 2;
};

inline const std::vector<std::string> kInvariants = {"INV-ZEPHYR-1", "INV-ZEPHYR-2", "INV-ZEPHYR-4",
                                                     "INV-ZEPHYR-5", "INV-ZEPHYR-6", "INV-ZEPHYR-7",
                                                     "INV-ZEPHYR-8", "INV-TLB-1",    "INV-TLB-2"};
inline const std::vector<std::string> kLemmas = {"LEM-ZEPHYR-S1", "LEM-ZEPHYR-S2", "LEM-ZEPHYR-T"};

/// A concrete state in plain numbers (from the model: `plain_of`).
struct Plain {
  struct Pg {
    bool loaded = false, a = false, d = false, in_slot = false, pinned = false, touched = false;
    std::uint64_t frame = 0, slot = 0, ghost = 0;
  };
  struct Fr {
    bool alloc = false, mapped = false, pinned = false;
    std::uint64_t stamp = 0, va = 0, data = 0;
  };
  struct Hd {
    bool held = false, dead = false;
  };
  bool mapped = false, orphan = false;
  std::vector<bool> bits;  ///< as State::bits
  std::vector<Pg> pages;
  std::vector<Fr> frames;
  std::vector<bool> slot_used;
  std::vector<std::uint64_t> slot_data;
  std::vector<std::vector<Hd>> tlb;
  std::uint64_t nru_last = 0, clock = 0;
};

/// The backing-store slots the state keeps: min(backing_pages, pages). A page is evicted
/// only while loaded, so at most pages - 1 others hold a slot (INV-ZEPHYR-7: one page per
/// used slot), and location_get's lowest free slot is then below `pages`; the slots above
/// are never used and only their number enters the refusal rule (spec §12.1).
inline unsigned encoded_slots(const ZephyrParams& p, const Bounds& b) {
  return static_cast<unsigned>(std::min<std::uint64_t>(p.backing_pages, b.pages));
}

/// The first page of the region the encoding covers: k_mem_map of `pages` pages on a
/// freshly booted kernel (the first region, top-down below the reserved page and a guard).
std::uint64_t region_start(const ZephyrParams& p, unsigned pages);
/// The model's state as a Plain one over `b` (the free list's order as stamps 0, 1, ...;
/// each translation a CPU may hold beyond the PTEs as `held`, and `dead` when its frame
/// was freed or allocated again since; no region: `mapped` false). Throws
/// std::invalid_argument when the model holds something the encoding has no form for
/// (another region, a page outside it).
Plain plain_of(const model::Model& m, const Bounds& b);

class Encoding {
 public:
  /// Throws std::invalid_argument for bounds out of range (pages 1..8, frames 1..6).
  /// Without `contents` the stamps never change (INV-ZEPHYR-5 alone reads them: its
  /// bounded model check keeps them, the others' do not need them).
  Encoding(z3::context& c, const ZephyrParams& p, Bounds b, bool contents = true);
  z3::context& ctx() const { return c_; }
  const Bounds& bounds() const { return b_; }
  const ZephyrParams& params() const { return p_; }
  /// The slots the state keeps (encoded_slots); the store has `store_slots()`.
  unsigned slots() const { return encoded_slots(p_, b_); }
  unsigned store_slots() const { return static_cast<unsigned>(p_.backing_pages); }

  /// A fully symbolic state; names are prefixed by `tag`.
  State fresh(const std::string& tag) const;
  State lift(const Plain& s) const;
  OpArgs args(const std::string& tag, unsigned page) const;

  /// The operations this profile's relation covers: all but `map` when maps are eager
  /// (an eager map without LOCK writes its pages with zeros, refaulting those evicted
  /// meanwhile, beyond this form; `map_lock` stands for eager maps).
  std::vector<Op> ops() const;
  /// The operation's precondition: a page-out, an unmap or a LOCK map may stamp the
  /// frames it frees (the clock does not wrap); a map needs the region unmapped and its
  /// run of bits free (else k_mem_map would place it elsewhere, beyond this form).
  z3::expr pre(Op op, const State& s, const OpArgs& a) const;
  std::pair<State, Note> apply(Op op, const State& s, const OpArgs& a) const;
  State mux(const z3::expr& c, const State& a, const State& b) const;
  Note mux(const z3::expr& c, const Note& a, const Note& b) const;
  Note no_call() const;
  z3::expr equal(const State& a, const State& b) const;

  /// Whether `id` holds in `post` (INV-ZEPHYR-2, 6 and 7 also read the note).
  z3::expr holds(const std::string& id, const State& post, const Note& n) const;
  /// Every invariant and the lemmas this profile claims (the inductive hypothesis).
  z3::expr hypothesis(const State& s) const;
  /// LEM-ZEPHYR-T (no translation outlives its PTE) needs flush_on_evict.
  std::vector<std::string> lemmas() const;

 private:
  z3::expr b8(std::uint64_t v) const { return c_.bv_val(v, 8); }
  z3::expr b16(std::uint64_t v) const { return c_.bv_val(v, 16); }
  z3::expr stamp(std::uint64_t v) const { return c_.bv_val(v, kStampBits); }
  /// `old` if contents are not tracked, else `now`.
  z3::expr tracked(const z3::expr& now, const z3::expr& old) const { return contents_ ? now : old; }
  /// `field` of the frame numbered `fno` (an 8-bit term), false / 0 beyond the frames.
  z3::expr frame_field(const State& s, const z3::expr& fno, z3::expr Frame::*field, const z3::expr& none) const;
  z3::expr page_field(const State& s, const z3::expr& idx, z3::expr Page::*field) const;
  /// do_page_fault(page, pin): the state after and whether the page is loaded.
  struct Fault {
    State s;
    z3::expr ok;
    Note note;
  };
  Fault fault(const State& s, unsigned page, bool pin) const;
  /// A frame for `page`, the head of the free list or an evicted one (`page_fault` as
  /// location_get reads it), mapped there with the record MAPPED (PINNED with `pin`); the
  /// page's old location is released. `s` is the state after and `ok` whether a frame was
  /// found (else `s` is what the failed eviction left).
  struct Load {
    State s;
    z3::expr ok;
  };
  /// `anon`: map_anon_page (the frame's contents become uninitialized, and the page's
  /// ghost with them) rather than a page-in (the frame receives the page's location).
  Load load(const State& s, unsigned page, bool pin, const z3::expr& page_fault, bool anon) const;
  /// eviction_select + page-out for a fault: the state after and the frame index freed
  /// for reuse (one-hot `won`; none when no frame qualifies or no slot was granted).
  struct Evict {
    State s;
    std::vector<z3::expr> won;
    z3::expr ok;
  };
  Evict evict_any(const State& s, const z3::expr& page_fault) const;
  /// The page-out of the page `sel` picks (one-hot over pages): its PTE, its frame record,
  /// a new slot, the translation kept unless flushed. `ok` false when no slot is granted.
  std::pair<State, z3::expr> evict(const State& s, const std::vector<z3::expr>& sel, const z3::expr& page_fault) const;
  std::pair<State, Note> page_out(const State& s, unsigned v) const;
  /// The per-page operation `op` on a live region (the caller keeps the state otherwise).
  std::pair<State, Note> page_op(Op op, const State& s, const OpArgs& a) const;
  /// A page with no state: unloaded, on no slot, unpinned, untouched, nothing written.
  Page blank(const Page& pg) const;
  /// k_mem_unmap of the live region: PTEs, frames (to the back of the free list, in page
  /// order), slots and pins released, the bitmap's run freed (the guards' bits too when
  /// `guard_bits`).
  State release(const State& s, bool guard_bits) const;
  /// The start of every map of the region: live, its run of bits set, its pages blank.
  State claim(const State& s) const;
  /// k_mem_map of the region again: tokens, the run of bits (map-allocates: then a fault
  /// on page 0).
  std::pair<State, Note> map(const State& s) const;
  /// k_mem_map of the region again with LOCK | UNINIT: map_anon_page per page, pinned; a
  /// page that finds no frame fails the map, which `fixed` rolls back (#115581) and `seed`
  /// leaves as an orphan.
  std::pair<State, Note> map_lock(const State& s) const;
  /// Whether the run of bits k_mem_map takes is free and the region unmapped.
  z3::expr can_map(const State& s) const;
  /// Whether the bitmap's bit k (State::bits) lies in the run k_mem_map takes.
  bool in_run(unsigned k) const { return p_.guards || (k >= 1 && k <= b_.pages); }
  z3::context& c_;
  ZephyrParams p_;
  Bounds b_;
  bool contents_;
  /// State::bits that the reserved pages or the kernel image keep set whatever the region.
  std::vector<bool> fixed_;
};

}  // namespace vmref::zephyr::smt
