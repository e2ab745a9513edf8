// The SMT form of the mermap (spec/kernels/mermap.md §10): its state, the transition
// relation of each operation and INV-MERMAP-1..7 with the strengthening lemmas
// LEM-MERMAP-S1..S4, over Z3 bit-vectors. Addresses are full 64-bit words; page sets
// are bit-vectors with one bit per page of the tracked area (the CPUs' regions and one
// region beyond, where R5's misplaced allocations land).
//
// The encoding is written from the spec, next to the C++ model it must agree with; the
// faithfulness test (tests/test_mermap_prove.cpp) evaluates it on the model's own states.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <z3++.h>

#include "mermap_events.hpp"

namespace vmref::mermap::smt {

/// One tracking slot (spec §1): in_use and reserve are Booleans, base/end bytes, and
/// `pages` the tracked pages of [base, end), kept beside the bytes so that a put and
/// INV-MERMAP-7 need no address arithmetic (the representation lemma LEM-MERMAP-R).
struct Slot {
  z3::expr in_use, reserve, base, end, pages;
};
/// One CPU: its bump pointer (bytes), the pages its CPU-local PTEs map (`mapped`) and
/// the pages it may still cache after their PTE went (`stale`), one bit per page.
struct Cpu {
  z3::expr next;
  std::vector<Slot> slots;
  z3::expr mapped, stale;
};
/// The mm's mermap once prepared (every CPU runs the mm; spec §10.1). `dead` after
/// teardown: the mm is going away and no operation follows.
struct State {
  std::vector<Cpu> cpus;
  z3::expr migrate, dead;
};
/// What one call did (the inputs of the call invariants 3, 4 and 6).
struct Note {
  z3::expr get, teardown, failed, write_failed, reserve, reserve_held, requested, base, end, warned, live_anywhere;
  z3::expr cpu;    ///< the CPU the call ran on (a word)
  z3::expr pages;  ///< get: the tracked pages of [base, end)
};
/// The arguments of one operation; `cpu` and `slot` are concrete (the relation is a
/// disjunction over them), the rest symbolic. A put reads its slot from `which` instead:
/// cpu × slots + slot as an 8-bit term, which `args` makes the concrete pair and BMC a
/// free constant, so that one disjunct serves every slot of every CPU (a put on any CPU
/// does the same: its slot's PTEs go stale where they were local). A flush and a teardown
/// read their CPU from `on` (8 bits) the same way.
struct OpArgs {
  unsigned cpu = 0, slot = 0;
  z3::expr len, reserve, has_fail, fail_after, which, on;
};

enum class Op { get, put, teardown, flush };
const char* op_name(Op op);
inline constexpr Op kOps[] = {Op::get, Op::put, Op::teardown, Op::flush};

/// The invariants and lemmas of spec §8 and §10.2, in the order checked.
inline const std::vector<std::string> kInvariants = {"INV-MERMAP-1", "INV-MERMAP-2", "INV-MERMAP-3", "INV-MERMAP-4",
                                                     "INV-MERMAP-5", "INV-MERMAP-6", "INV-MERMAP-7"};
inline const std::vector<std::string> kLemmas = {"LEM-MERMAP-R", "LEM-MERMAP-S1", "LEM-MERMAP-S2", "LEM-MERMAP-S3",
                                                 "LEM-MERMAP-S4"};

/// The encoding for one profile's parameters on `cpus` CPUs (tracked pages:
/// (cpus + 1) × region_pages, at most 64; throws std::invalid_argument otherwise).
class Encoding {
 public:
  Encoding(z3::context& c, const MermapParams& p, unsigned cpus);
  z3::context& ctx() const { return c_; }
  unsigned cpus() const { return cpus_; }
  unsigned slots() const { return p_.slots; }
  std::uint64_t page() const { return 4096; }
  const MermapParams& params() const { return p_; }

  /// A fully symbolic state; names are prefixed by `tag`.
  State fresh(const std::string& tag) const;
  /// The state right after mermap_prepare: every bump pointer at its region's base.
  State initial() const;
  /// A concrete state (for the faithfulness test).
  State concrete(const std::vector<std::uint64_t>& next, const std::vector<std::vector<std::uint64_t>>& slot_words,
                 const std::vector<std::uint64_t>& mapped, const std::vector<std::uint64_t>& stale,
                 std::uint64_t migrate) const;
  /// Fresh symbolic arguments for `cpu`/`slot`.
  OpArgs args(const std::string& tag, unsigned cpu, unsigned slot) const;

  /// The operation's precondition in `s` (the mm is alive; put: the slot is live).
  z3::expr pre(Op op, const State& s, const OpArgs& a) const;
  /// The post-state and what the call did.
  std::pair<State, Note> apply(Op op, const State& s, const OpArgs& a) const;
  /// `c ? a : b`, field by field.
  State mux(const z3::expr& c, const State& a, const State& b) const;
  Note mux(const z3::expr& c, const Note& a, const Note& b) const;
  Note no_call() const;
  /// Field-by-field equality of two states.
  z3::expr equal(const State& a, const State& b) const;

  /// Whether `id` (an INV-MERMAP or LEM-MERMAP ID) holds: state invariants read `post`,
  /// call invariants read `pre` (4), `post` (3) and the note.
  z3::expr holds(const std::string& id, const State& pre, const State& post, const Note& n) const;
  /// LEM-MERMAP-R: every slot's `pages` is the page set of its [base, end).
  z3::expr representation(const State& s) const;
  /// Every state invariant and lemma the profile claims (the inductive hypothesis).
  z3::expr hypothesis(const State& s) const;
  /// The lemmas that hold on this profile (S4 needs reserve_slot_fix, S1 and S2 the
  /// bump order the fixes keep); an inductive obligation per op for each.
  std::vector<std::string> lemmas() const;
  /// Whether `id` reads only the state (else it judges a call).
  static bool is_state_invariant(const std::string& id);

  /// The set of tracked pages in [a, b), floor of both ends (bytes -> page bits).
  z3::expr range_mask(const z3::expr& a, const z3::expr& b) const;
  /// Region bounds of CPU `c` (bytes).
  z3::expr lo(unsigned c) const;
  z3::expr hi(unsigned c) const;
  unsigned width() const { return width_; }
  std::uint64_t area_base() const { return p_.base; }

 private:
  z3::expr w(std::uint64_t v) const { return c_.bv_val(v, 64); }
  z3::expr pages(std::uint64_t v) const { return c_.bv_val(v, width_); }
  z3::expr live_count(const State& s) const;
  /// The page index of byte `x` in the tracked area, clamped to [0, width] (8 bits).
  z3::expr page_index(const z3::expr& x) const;
  /// The page set [i, j) of two page indices.
  z3::expr between(const z3::expr& i, const z3::expr& j) const;
  z3::expr live_mask(const State& s, unsigned c) const;
  std::pair<State, Note> get(const State& s, const OpArgs& a) const;
  std::pair<State, Note> put(const State& s, const OpArgs& a) const;
  /// PTEs of `m` installed by `cpu` (`cpu` < 0: removed): the old ones go stale on their CPU.
  void write_ptes(State& s, const z3::expr& m, int cpu) const;
  z3::context& c_;
  MermapParams p_;
  unsigned cpus_;
  unsigned width_;
};

}  // namespace vmref::mermap::smt
