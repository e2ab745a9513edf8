// `vmref prove --corpus DIR` (spec/prove.md §1): a directory a proof campaign resumes from
// and adds to. Obligations are deterministic for a given tool version, depth, bounds and
// solver budget, so a decided one (proved, or a counterexample whose trace is still in
// DIR) need not be solved again: a rerun of the same campaign, or a larger selection that
// contains it, takes its recorded result. Unknown results are not kept (a quieter machine
// or a later run may decide them). The results live in DIR/proofs.json; counterexample
// traces are written to DIR itself.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vmref/prove/obligation.hpp"

namespace vmref::prove {

class ProofCorpus {
 public:
  /// Reads DIR/proofs.json (creating DIR; no file: nothing recorded). `identity` names
  /// what every result depends on besides the obligation itself (version, depth, bounds,
  /// timeout); results recorded under another identity are kept in the file but not used.
  /// Throws std::runtime_error naming the file and the field when the file is malformed.
  ProofCorpus(std::string dir, std::string identity);

  /// The key of one obligation within a campaign: profile, kind, ID and operation.
  static std::string key(const std::string& profile, const Obligation& ob);

  /// The recorded result for `key`, if it was decided and (for a counterexample with a
  /// trace) its trace file still exists.
  std::optional<Result> find(const std::string& key) const;

  /// Records a decided result (unknown results are ignored) and rewrites the file through
  /// a temporary one renamed over it, so an interrupted campaign keeps every obligation
  /// finished before the interruption. Safe from several workers. Throws
  /// trace::OutputError (a std::runtime_error) when the file cannot be written.
  void add(const std::string& key, const Result& r);

  std::size_t size() const;  ///< results recorded for this identity

 private:
  std::string path_, identity_;
  nlohmann::json others_ = nlohmann::json::object();   ///< other identities, kept verbatim
  std::map<std::string, Result> mine_;
  mutable std::mutex mu_;
  void save() const;
};

}  // namespace vmref::prove
