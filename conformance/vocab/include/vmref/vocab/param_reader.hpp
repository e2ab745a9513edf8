// Reading a trace header's "params" object (spec/trace-format.md §2) for a kernel's
// KernelInfo::with_params hook: names checked against the kernel's settable list, values
// typed and range-checked, every error a trace::TraceError naming "params.<name>".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vmref/vocab/registry.hpp"

namespace vmref::vocab {

class ParamReader {
 public:
  /// Throws (naming "params" or "params.<name>") when `values` is not an object or has
  /// a member `settable` does not list. `kernel` names the kernel in messages.
  ParamReader(const nlohmann::json& values, const ParamContext& ctx, const std::vector<ParamSpec>& settable,
              const std::string& kernel);
  bool has(const std::string& name) const { return values_.contains(name); }
  /// An unsigned value ("0x..." or a non-negative integer) in [lo, hi]; `current` when
  /// the header does not set it.
  std::uint64_t u64(const std::string& name, std::uint64_t current, std::uint64_t lo, std::uint64_t hi) const;
  /// A boolean; `current` when absent.
  bool flag(const std::string& name, bool current) const;
  /// The machine the header describes (page size, frames) and where the header is.
  const ParamContext& ctx() const { return ctx_; }
  /// Throws TraceError(ctx.file, ctx.line, "params.<name>", msg).
  [[noreturn]] void fail(const std::string& name, const std::string& msg) const;

 private:
  const nlohmann::json& values_;
  const ParamContext& ctx_;
};

}  // namespace vmref::vocab
