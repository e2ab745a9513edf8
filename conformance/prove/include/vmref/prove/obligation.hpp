// Proof obligations (spec/prove.md): what `vmref prove` checks with Z3, and the registry
// in which each kernel and each page-table format lists its own. An obligation is one of
//  - a lemma: an arithmetic fact over all 2^64 inputs of a function the code runs
//    (written over the word type, vmref/vocab/word.hpp), spec/prove.md §4;
//  - an inductive step: from any state within the bounds where every invariant and
//    strengthening lemma holds, one operation keeps one invariant, §2;
//  - a bounded model check: no sequence of at most `depth` operations from the initial
//    state breaks one invariant, §3.
// A counterexample of a kernel obligation is written as a trace (spec/trace-format.md)
// and replayed through the C++ model, §5.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vmref::prove {

enum class Kind { lemma, inductive, bmc };
enum class Status { proved, counterexample, unknown };
const char* to_string(Kind k);
const char* to_string(Status s);

/// The bounds of the symbolic state (`--bound NAME=N`), the BMC depth and the solver
/// budget. A bound an owner does not know is bad input (its check names it).
struct Request {
  std::map<std::string, unsigned> bounds;  ///< e.g. cpus=2
  unsigned depth = 5;                      ///< BMC: operations after the initial state
  unsigned timeout_ms = 60000;             ///< per solver call
  /// Run every bounded model check, also those the inductive proofs imply (§3).
  bool explicit_bmc = false;
  std::string out_dir;                     ///< where counterexample traces go ("" = none written)
  unsigned bound(const std::string& name, unsigned dflt) const {
    auto it = bounds.find(name);
    return it == bounds.end() ? dflt : it->second;
  }
};

/// How one obligation ended.
struct Result {
  Status status = Status::unknown;
  /// proved: what was shown; counterexample: the values or operations that break it;
  /// unknown: the solver's reason (timeout, incomplete).
  std::string detail;
  std::string trace;       ///< the counterexample trace written, if any
  /// For a counterexample with a trace: the replay's verdict ("confirmed by replay,
  /// INV-..." or "NOT confirmed by replay: ..."). `confirmed` is false in the latter case.
  std::string replay;
  bool confirmed = false;
  double seconds = 0;
};

/// One obligation. `run` builds its own Z3 context (obligations run in parallel).
struct Obligation {
  Kind kind = Kind::lemma;
  std::string owner;  ///< kernel or format
  std::string id;     ///< invariant (INV-...) or lemma (LEM-...) ID, defined in spec/
  std::string op;     ///< inductive: the operation; else ""
  std::string cite;   ///< the spec section of the rule
  std::function<Result(const Request&)> run;
  /// The name printed in a report line: "KIND OWNER ID [OP]".
  std::string name() const;
};

/// The obligations of a profile (a kernel or kernel:variant) or of a page-table format.
/// `bounds` lists the bound names the owner reads, with their defaults and meaning.
struct ProverInfo {
  std::string owner;
  bool format = false;  ///< a page-table format (lemmas only) rather than a kernel
  std::vector<std::pair<std::string, std::string>> bounds;  ///< name -> "default: meaning"
  /// Throws std::invalid_argument naming the field for an unknown variant or a bound out
  /// of range.
  std::function<std::vector<Obligation>(const std::string& profile, const Request& req)> obligations;
  /// What is encoded, one line for `vmref prove --list` (e.g. "arithmetic lemmas only").
  std::string coverage;
  /// The profile `vmref prove` without options proves: the kernel's correct one, when its
  /// default is not (nova's default is the seed as posted). Empty: the owner's name.
  std::string suite_profile;
};

void add_prover(ProverInfo p);
const std::vector<ProverInfo>& provers();
const ProverInfo* find_prover(std::string_view owner);

}  // namespace vmref::prove
