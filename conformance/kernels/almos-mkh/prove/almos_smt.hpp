// The SMT form of almos-mkh (spec/kernels/almos-mkh.md §12): processes with their MMAP
// allocator (blocks live or on a zombie list, the bump pointer first_free_vpn) and the
// public DATA pages of one vseg with their reference-GPT entries and the GPT copies of
// the other clusters, and the STACK slots, over a bounded pool of physical pages with
// reference and pending-fork counts; the transition relation of vmm_create_vseg (ANON,
// STACK), vmm_remove_vseg / vmm_resize_vseg, page faults in any cluster (true and false
// faults, vmm_handle_cow, vmm_global_update_pte), fork, vmm_user_reset and vmm_destroy;
// INV-ALMOS-1..7 and the strengthening lemmas LEM-ALMOS-S1..S4. Every process's
// reference cluster is cluster 0 (spec §12.1 says why that loses nothing).
//
// Written from the spec beside the C++ model (AlmosModel) it must agree with; the
// faithfulness test (tests/test_almos_prove.cpp) evaluates it on the model's own states.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <z3++.h>

#include "almos_events.hpp"

namespace vmref::almos::smt {

/// One MMAP allocator block record: `used` (a live vseg's block or a zombie), `zombie`
/// (on list `order`), `base` (VPN) and `order` (words), `stamp` (16 bits: when it was
/// released; the list's back is the highest stamp, LIFO as vmm.h's lists).
struct Block {
  z3::expr used, zombie, base, order, stamp;
};
/// The reference-GPT entry of one DATA page: valid, the page it maps (8-bit index into
/// the pool), WRITABLE, COW.
struct Entry {
  z3::expr valid, frame, w, cow;
};
/// One STACK slot of a process: its bitmap bit, whether a STACK vseg holds it, and per
/// cluster (0 the reference) whether the slot's first page, the guard, is mapped. Only
/// the guard page's entries are kept: INV-ALMOS-2 reads no other page of a stack.
struct Slot {
  z3::expr bit, live;
  std::vector<z3::expr> guard;
};
/// Field-by-field equality of two entries.
inline z3::expr same(const Entry& a, const Entry& b) {
  return a.valid == b.valid && a.frame == b.frame && a.w == b.w && a.cow == b.cow;
}
/// One process: alive, first_free_vpn (word), its block records, its STACK slots, and for each DATA page
/// whether the vseg still covers it (`inseg`: munmap removes single pages) and its entry.
struct Proc {
  z3::expr alive, ff;
  std::vector<Block> blocks;
  std::vector<Slot> slots;
  std::vector<z3::expr> inseg;
  std::vector<Entry> pte;                ///< the reference GPT (cluster 0)
  std::vector<std::vector<Entry>> copy;  ///< copy[c - 1][page]: the GPT copy of cluster c >= 1
};
/// A physical page: allocated, refs (reference-GPT mappings) and forks (pending forks),
/// 8-bit counts.
struct Frame {
  z3::expr alloc, refs, forks;
};
struct State {
  std::vector<Proc> procs;
  std::vector<Frame> frames;
  z3::expr clock;  ///< 16 bits: the next release stamp
};
/// What a call did, for the call invariants (INV-ALMOS-3's monotonic bump pointer, 5, 7).
struct Note {
  z3::expr call, reset, pid, ff_before, ff_after;  ///< pid: 8-bit process index
  /// A false page fault (INV-ALMOS-5), whether resolving it allocated a page, and whether
  /// the reference entry was the same after it.
  z3::expr false_fault, allocated, ref_same;
};
/// The arguments of one operation: process, child, block and page indices are concrete
/// (the relation is a disjunction over them); the rest symbolic.
struct OpArgs {
  unsigned pid = 0, child = 0, block = 0, page = 0;
  unsigned slot = 0;  ///< stack, unmap_stack, stack_fault: the slot (the thread's LTID)
  z3::expr len;    ///< mmap: bytes
  z3::expr order;  ///< mmap: the request's class, pinned by the precondition (LEM-ALMOS-A1's characterization)
  z3::expr write;  ///< fault: a write (else a read)
  z3::expr fresh;  ///< fault: the pool index a new page takes (8 bits)
  /// fault: the faulting cluster (8 bits; 0 is the reference). Symbolic rather than a
  /// disjunct: one relation serves every cluster, which BMC solves about 3x faster.
  z3::expr cluster;
  /// fault, unmap_page: the DATA page (8 bits). `args` makes it `page`; BMC leaves it
  /// free, so that one disjunct serves every page.
  z3::expr at;
};

enum class Op { mmap, unmap_block, unmap_page, fault, stack, unmap_stack, stack_fault, fork, exec, exit };
const char* op_name(Op op);
inline constexpr Op kOps[] = {Op::mmap,        Op::unmap_block, Op::unmap_page, Op::fault, Op::stack,
                              Op::unmap_stack, Op::stack_fault, Op::fork,       Op::exec,  Op::exit};

/// The bounds: processes (pid i is pid i + 1 in a trace; pid 1 runs at the start), block
/// records per process, DATA pages per process, clusters (each process's reference is
/// cluster 0), STACK slots per process (LTIDs 0..slots-1); the pool has procs × pages
/// pages (a stack's pages are private and kept out of it).
struct Bounds {
  unsigned procs = 2, blocks = 2, pages = 2, clusters = 2, slots = 1;
};

inline const std::vector<std::string> kInvariants = {"INV-ALMOS-1", "INV-ALMOS-2", "INV-ALMOS-3", "INV-ALMOS-4",
                                                     "INV-ALMOS-5", "INV-ALMOS-6", "INV-ALMOS-7"};
inline const std::vector<std::string> kLemmas = {"LEM-ALMOS-S1", "LEM-ALMOS-S2", "LEM-ALMOS-S3", "LEM-ALMOS-S4"};

/// A concrete state in plain numbers (the faithfulness test builds it from the model).
struct Plain {
  struct Blk {
    bool used = false, zombie = false;
    std::uint64_t base = 0, order = 0, stamp = 0;
  };
  struct Ent {
    bool valid = false, w = false, cow = false;
    std::uint64_t frame = 0;
  };
  struct Sl {
    bool bit = false, live = false;
    std::vector<bool> guard;  ///< per cluster
  };
  struct Pr {
    bool alive = false;
    std::uint64_t ff = 0;
    std::vector<Blk> blocks;
    std::vector<Sl> slots;
    std::vector<bool> inseg;
    std::vector<Ent> pte;
    std::vector<std::vector<Ent>> copy;  ///< clusters 1.. (as Proc::copy)
  };
  struct Fr {
    bool alloc = false;
    std::uint64_t refs = 0, forks = 0;
  };
  std::vector<Pr> procs;
  std::vector<Fr> frames;
  std::uint64_t clock = 0;
};

class Encoding {
 public:
  /// Throws std::invalid_argument for bounds out of range (procs 1..4, blocks 1..6, pages
  /// 1..4, clusters 1..3, slots 1..4 and within the kernel's stack_slots).
  Encoding(z3::context& c, const AlmosParams& p, Bounds b);
  z3::context& ctx() const { return c_; }
  const Bounds& bounds() const { return b_; }
  const AlmosParams& params() const { return p_; }
  unsigned frames() const { return b_.procs * b_.pages; }

  /// A fully symbolic state; names are prefixed by `tag`.
  State fresh(const std::string& tag) const;
  /// pid 1 after almos_process and a DATA vseg of `pages` pages at elf_base; nothing mapped.
  State initial() const;
  State lift(const Plain& s) const;
  OpArgs args(const std::string& tag, unsigned pid, unsigned child, unsigned block, unsigned page,
              unsigned slot = 0) const;

  /// The operation's precondition: the process lives, a child pid is free, an unmapped
  /// block is live, and a new page or block record needed fits within the bounds.
  z3::expr pre(Op op, const State& s, const OpArgs& a) const;
  std::pair<State, Note> apply(Op op, const State& s, const OpArgs& a) const;
  State mux(const z3::expr& c, const State& a, const State& b) const;
  Note mux(const z3::expr& c, const Note& a, const Note& b) const;
  Note no_call() const;
  /// The note of an allocator call (mmap, or exec when `reset`) of process `pid`.
  Note call_note(bool reset, unsigned pid, const z3::expr& ff_before, const z3::expr& ff_after) const;
  z3::expr equal(const State& a, const State& b) const;

  /// Whether `id` holds: state invariants and lemmas read `post`, the call parts the note.
  z3::expr holds(const std::string& id, const State& post, const Note& n) const;
  /// Every state invariant and every lemma this profile claims (the inductive hypothesis).
  z3::expr hypothesis(const State& s) const;
  static bool is_state_invariant(const std::string& id) { return id != "INV-ALMOS-5" && id != "INV-ALMOS-7"; }
  /// Whether this profile claims lemma `id` (spec §12.3): LEM-ALMOS-S4 (no page leaks)
  /// is broken on purpose by `false-fault-allocates` and `no-forks-dec`.
  bool claims(const std::string& id) const;
  /// Cone of influence (spec §12.3): whether `op` writes a field that `id` reads, or that
  /// an operation it keeps reads. BMC leaves the others out: dropping a step that writes
  /// nothing they read reaches the same verdict in fewer steps.
  static bool affects(Op op, const std::string& id);

  /// The size in pages of a block of `order` (2^order).
  z3::expr block_pages(const z3::expr& order) const;
  std::uint64_t data_vpn(unsigned page) const { return p_.elf_base + page; }
  /// Slot `slot`'s first page (the guard page when stack_guard is set).
  std::uint64_t slot_vpn(unsigned slot) const { return p_.stack_base + slot * p_.stack_slot_pages; }
  /// The STACK vseg of a slot: its first page and its length in pages (spec §2).
  std::uint64_t stack_base(unsigned slot) const { return slot_vpn(slot) + (p_.stack_guard ? 1 : 0); }
  std::uint64_t stack_pages() const { return p_.stack_slot_pages - (p_.stack_guard ? 1 : 0); }

 private:
  z3::expr w(std::uint64_t v) const { return c_.bv_val(v, 64); }
  z3::expr b8(std::uint64_t v) const { return c_.bv_val(v, 8); }
  z3::expr count(const std::vector<z3::expr>& bits) const;  ///< 8-bit sum of Booleans
  /// Mappers / COW sharers of pool page `f` over living processes.
  z3::expr mappers(const State& s, unsigned f, bool cow_only) const;
  z3::expr mmap_pages(const OpArgs& a) const;
  z3::expr mmap_refused(const OpArgs& a) const;  ///< EINVAL: no page, or the length wraps
  z3::expr mmap_class(const OpArgs& a) const;    ///< `a.order` is the class of the request
  /// What vmm_create_vseg decides: the zombie record it takes (one-hot), whether it bumps
  /// first_free_vpn, whether vmm_check_conflict refuses, the block's pages.
  struct MmapPlan {
    std::vector<z3::expr> pick;
    z3::expr bump, conflict, size;
  };
  MmapPlan plan_mmap(const Proc& p, const OpArgs& a) const;
  std::pair<State, Note> mmap(const State& s, const OpArgs& a) const;
  /// What a fault decides: a true fault, a write to a COW entry, whether that write
  /// copies (forks pending), and the entry once a true fault has set it.
  struct FaultPlan {
    z3::expr true_fault, false_fault, cow_write, copy;
    Entry ref, local;  ///< the reference entry and the faulting cluster's, once the fault is resolved
  };
  FaultPlan plan_fault(const State& s, const OpArgs& a) const;
  std::pair<State, Note> fault(const State& s, const OpArgs& a) const;
  std::pair<State, Note> fork(const State& s, const OpArgs& a) const;
  /// The STACK operations (spec §2): create the slot's vseg, remove it, fault its first page.
  State stack(const State& s, const OpArgs& a) const;
  State unmap_stack(const State& s, const OpArgs& a) const;
  State stack_fault(const State& s, const OpArgs& a) const;
  /// vmm_remove_vseg of every vseg of `pid` (exec and exit): blocks to the zombie lists in
  /// base order, every DATA entry's page put.
  State remove_all(const State& s, unsigned pid) const;
  /// vmm_global_update_pte of DATA page `page`: the reference entry, and every copy that
  /// holds the page when updates propagate.
  void update_pte(Proc& p, unsigned page, const Entry& e, const z3::expr& when) const;
  Entry mux(const z3::expr& c, const Entry& a, const Entry& b) const;
  /// The entry of DATA page `at` in `row` (a mux over the pages).
  Entry entry_at(const std::vector<Entry>& row, const z3::expr& at) const;
  /// Whether the vseg covers DATA page `at` of `p`.
  z3::expr inseg_at(const Proc& p, const z3::expr& at) const;
  /// A slot with no STACK vseg, no bit and nothing mapped.
  void clear(Slot& sl) const;
  /// put_page of pool page `frame` once (`cow`: the mapping was a COW sharer).
  void put_page(State& s, const z3::expr& frame, const z3::expr& cow, const z3::expr& when) const;
  /// The page a new allocation takes: allocated, refs 1, forks 0.
  void new_page(State& s, const z3::expr& frame, const z3::expr& when) const;
  bool state_ok(const std::string& id) const;
  z3::expr inv1(const State& s) const;
  z3::expr inv2(const State& s) const;
  z3::expr inv3(const State& s) const;
  z3::expr inv4(const State& s) const;
  z3::expr inv6(const State& s) const;
  z3::expr lem1(const State& s) const;
  z3::expr lem2(const State& s) const;
  z3::expr lem3(const State& s) const;
  z3::expr lem4(const State& s) const;
  z3::context& c_;
  AlmosParams p_;
  Bounds b_;
};

}  // namespace vmref::almos::smt
