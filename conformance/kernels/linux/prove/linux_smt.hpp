// The SMT form of Linux's private anonymous memory (spec/kernels/linux.md §8): a parent
// space with one private anonymous read-write vseg of `pages` pages, the child a fork
// gives it, their PTEs (the zero page, COW, writable), a pool of `frames` page frames with
// reference counts and Linux's last-freed-first reuse, and the translations a CPU may still
// hold after their PTE went; the transition relation of an access (demand fault, zero
// page, COW break with reuse), fork, munmap of one page and mprotect of the vseg's range;
// INV-FRAME-1/2, INV-COW-1/2, INV-GPT-1/2/3, INV-TLB-1/2/3 and the strengthening lemmas
// LEM-LINUX-S1..S3 and T.
//
// Written from the spec beside the C++ model (LinuxModel) it must agree with; the
// faithfulness test (tests/test_linux_prove.cpp) evaluates it on the model's own states.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <z3++.h>

#include "linux_events.hpp"

namespace vmref::model {
class Model;
}

namespace vmref::linux_mm::smt {

/// One page of one space: whether the vseg still covers it (`inseg`: munmap removes single
/// pages), whether its vseg part has an owner of anonymous pages (`anon`: fork copies
/// PTEs only then, spec §1.5), and its PTE: valid, the frame (8 bits, 0 = the zero page),
/// writable, COW; and whether its vseg part grants write (`vw`: mprotect sets it). Unused
/// fields are 0 / false (one form per state).
struct Page {
  z3::expr inseg, anon, valid, frame, w, cow, vw;
};
/// A frame 1..frames: allocated, its reference count (8 bits) and, when free, its place
/// in the allocator (16-bit stamp: the highest is handed out first).
struct Frame {
  z3::expr alloc, refs, stamp;
};
/// A translation of (space, page) to frame f a CPU may still hold although no PTE makes it
/// as it is, whether f was freed since (INV-TLB-1 then fails), and whether it carries the
/// write right (INV-TLB-3 fails when the PTE maps f without it).
struct Held {
  z3::expr held, dead, w;
};
struct State {
  std::vector<z3::expr> alive;                       ///< per space (space 0 always)
  std::vector<std::vector<Page>> pages;              ///< [space][page]
  std::vector<Frame> frames;                         ///< index i is frame i + 1
  std::vector<std::vector<std::vector<Held>>> tlb;   ///< [space][page][frame index]
  z3::expr clock;                                    ///< 16 bits: the next free stamp
};
/// The arguments of one operation: space and page concrete, the access kind (or the
/// write right mprotect gives) symbolic.
struct OpArgs {
  unsigned space = 0, page = 0;
  z3::expr write;
};

/// `mprotect` covers the vseg's whole original range with `r--` or `rw-` (OpArgs::write).
enum class Op { access, fork, munmap, mprotect };
const char* op_name(Op op);
inline constexpr Op kOps[] = {Op::access, Op::fork, Op::munmap, Op::mprotect};

/// Pages of the vseg and page frames (the trace header's phys_mem / 4 KiB). Two spaces:
/// the parent (asid 1, run by CPU 0) and the child of its fork (asid 2, CPU 1).
struct Bounds {
  unsigned pages = 2, frames = 2;
};
inline constexpr unsigned kSpaces = 2;

inline const std::vector<std::string> kInvariants = {"INV-FRAME-1", "INV-FRAME-2", "INV-COW-1", "INV-COW-2",
                                                     "INV-GPT-1",   "INV-GPT-2",   "INV-GPT-3", "INV-TLB-1",
                                                     "INV-TLB-2",   "INV-TLB-3"};
inline const std::vector<std::string> kLemmas = {"LEM-LINUX-S1", "LEM-LINUX-S2", "LEM-LINUX-S3", "LEM-LINUX-T"};

/// A concrete state in plain numbers (from the model: `plain_of`).
struct Plain {
  struct Pg {
    bool inseg = false, anon = false, valid = false, w = false, cow = false, vw = false;
    std::uint64_t frame = 0;
  };
  struct Fr {
    bool alloc = false;
    std::uint64_t refs = 0, stamp = 0;
  };
  struct Hd {
    bool held = false, dead = false, w = false;
  };
  std::vector<bool> alive;
  std::vector<std::vector<Pg>> pages;
  std::vector<Fr> frames;
  std::vector<std::vector<std::vector<Hd>>> tlb;
  std::uint64_t clock = 0;
};

/// The vseg's first byte in every trace and obligation.
inline constexpr std::uint64_t kBase = 0x20000000;
/// The trace lines that set the state up: the parent space, CPU 0 running it, its vseg.
std::vector<std::string> setup_lines(const Bounds& b);
/// The trace lines of one operation: an access by the space's CPU, munmap of one page,
/// fork followed by CPU 1 switching to the child, or mprotect of the vseg's `pages` pages
/// (`write`: rw-, else r--).
std::vector<std::string> op_lines(Op op, unsigned space, unsigned page, bool write, unsigned pages);
/// The model's state as a Plain one (the free frames' order as stamps, each translation a
/// CPU may hold beyond the PTEs as `held`, `dead` when its frame was freed or allocated
/// again since). Throws std::invalid_argument for what the encoding has no form for.
Plain plain_of(const model::Model& m, const Bounds& b);

class Encoding {
 public:
  /// Throws std::invalid_argument for bounds out of range (pages 1..4, frames 1..6).
  Encoding(z3::context& c, const LinuxParams& p, Bounds b);
  z3::context& ctx() const { return c_; }
  const Bounds& bounds() const { return b_; }
  const LinuxParams& params() const { return p_; }

  State fresh(const std::string& tag) const;
  State lift(const Plain& s) const;
  OpArgs args(const std::string& tag, unsigned space, unsigned page) const;
  /// The operation's precondition: the space lives (fork: the child does not yet), and a
  /// frame freed may take a stamp (the clock does not wrap).
  z3::expr pre(Op op, const State& s, const OpArgs& a) const;
  State apply(Op op, const State& s, const OpArgs& a) const;
  State mux(const z3::expr& c, const State& a, const State& b) const;
  z3::expr equal(const State& a, const State& b) const;

  /// Whether `id` holds in `s`.
  z3::expr holds(const std::string& id, const State& s) const;
  /// Every invariant and the lemmas this profile claims (the inductive hypothesis).
  z3::expr hypothesis(const State& s) const;
  /// LEM-LINUX-T (a translation is held only of the frame its PTE still maps) needs fork's
  /// reference and the flush before the free (a frame freed under a PTE marks the
  /// translations held to it).
  std::vector<std::string> lemmas() const;

 private:
  z3::expr b8(std::uint64_t v) const { return c_.bv_val(v, 8); }
  z3::expr b16(std::uint64_t v) const { return c_.bv_val(v, 16); }
  /// How many PTEs of living spaces map frame index i (8 bits).
  z3::expr mappers(const State& s, unsigned i) const;
  /// A free frame for a fault (one-hot over frame indices; none when all are in use).
  std::vector<z3::expr> pick_free(const State& s) const;
  /// put_page of frame number `f` (0: the zero page, not counted): the count drops, and at
  /// 0 the frame is freed, marking the translations still held to it.
  void put(State& s, const z3::expr& f) const;
  /// prepare_anon: the vseg part around `page` (its run of covered pages) gets an owner.
  void prepare_anon(State& s, unsigned space, unsigned page) const;
  /// The shootdown of one page of a space: every held translation of it goes.
  void shootdown(State& s, unsigned space, unsigned page) const;
  State access(const State& s, const OpArgs& a) const;
  State fork(const State& s) const;
  State munmap(const State& s, const OpArgs& a) const;
  /// mprotect of the vseg's original range (spec §2.4): the part from its first page to
  /// the first hole takes the right; its PTEs are reprotected and shot down if one lost W.
  State mprotect(const State& s, const OpArgs& a) const;
  z3::context& c_;
  LinuxParams p_;
  Bounds b_;
};

}  // namespace vmref::linux_mm::smt
