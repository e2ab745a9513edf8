// The page-table engine against a flat reference map (spec/differential.md §2,
// DIFF-TBL-1/2): random map/protect/unmap with 4 KiB and 2 MiB leaves, so large-page
// creation, splitting and table reclaim are all exercised, in any registered format.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "vmref/conformance/finding.hpp"
#include "vmref/impl/format.hpp"
#include "vmref/impl/radix_table.hpp"

namespace vmref::diff {

/// One engine operation: VA/PA/len in bytes; `max_leaf` the largest leaf map may use.
struct TableOp {
  enum Kind : unsigned char { map, protect, unmap } kind = map;
  std::uint64_t va = 0, len = 0, pa = 0, max_leaf = 4096;
  impl::LeafAttrs attrs;
  /// The format's attribute fields (RadixCodec::arch_fields) are written by name.
  nlohmann::json to_json(const std::vector<impl::AttrField>& fields) const;
  /// Throws std::runtime_error naming the field when `j` is not a table op.
  static TableOp from_json(const nlohmann::json& j, const std::vector<impl::AttrField>& fields);
};

class TableDifferential {
 public:
  /// The engine writing `format`'s tables with its codec (`cfg`: levels, the mutant).
  TableDifferential(const impl::FormatInfo& format, const impl::FormatConfig& cfg);
  /// A random operation inside the fuzzing window.
  TableOp random_op(std::mt19937_64& rng) const;
  /// Applies `op` to the engine and the reference and compares the edited range
  /// (widened to whole 2 MiB blocks); every `full_every` ops the whole tree.
  std::vector<conformance::Finding> step(const TableOp& op);
  std::vector<conformance::Finding> check_all();
  std::uint64_t ops() const { return ops_; }
  std::uint64_t max_tables() const { return max_tables_; }
  std::uint64_t large_leaves_seen() const { return large_seen_; }
  const std::vector<impl::AttrField>& fields() const { return fields_; }

  static constexpr std::uint64_t kWindow = 0x100000000ull, kWindowBytes = 64ull << 20;

 private:
  void compare_range(std::uint64_t lo, std::uint64_t hi, std::vector<conformance::Finding>& out);
  void add(std::vector<conformance::Finding>& out, const char* id, const std::string& msg) const;

  std::unique_ptr<impl::RadixCodec> arch_, codec_;
  std::vector<impl::AttrField> fields_;
  impl::SimMemory mem_;
  impl::FramePool pool_;
  impl::RadixTable table_;
  struct Ref { std::uint64_t pa; impl::LeafAttrs attrs; };
  std::map<std::uint64_t, Ref> ref_;  ///< 4 KiB page VA -> expected translation
  std::uint64_t ops_ = 0, max_tables_ = 0, large_seen_ = 0;
  std::string op_name_;
};

}  // namespace vmref::diff
