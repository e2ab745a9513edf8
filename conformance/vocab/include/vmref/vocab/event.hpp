// One trace event and one outcome (spec/trace-format.md §3). An event is a common part
// (its operation, the CPU that performs it, its source line, whether it continues a
// group, what the recording kernel observed) plus typed arguments defined by the kernel
// that defines the operation. No field changes meaning between kernels: an argument
// belongs to exactly one operation's argument type.
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>

#include <nlohmann/json.hpp>

#include "vmref/vocab/types.hpp"

namespace vmref::vocab {

struct OpInfo;

/// Base of every operation's argument struct. An argument type says which address
/// space the event acts in when it has one, so that expectations of a space's VSL and
/// pages (spec/trace-format.md §3.3) can be checked whatever kernel defines the op.
struct OpArgs {
  virtual ~OpArgs() = default;
  /// The address space this event acts in, or nullopt when it names none.
  virtual std::optional<Asid> space() const { return std::nullopt; }
};

struct Event {
  const OpInfo* op = nullptr;     ///< registry row of the operation (never null once decoded)
  int cpu = -1;                   ///< the CPU performing the event, -1 when the op names none
  /// This event and the next form one kernel operation: invariants are checked only
  /// after the last event of such a group (spec/trace-format.md §3.4).
  bool cont = false;
  std::uint64_t line = 0;         ///< source line in the trace (1-based), 0 if generated
  nlohmann::json expect;          ///< outcome the recording kernel observed; null if none
  std::shared_ptr<const OpArgs> args;

  /// The typed arguments; A must be the argument type of `op` (checked in debug builds).
  template <class A> const A& get() const;
  /// The operation's name as traces write it ("mmap"), or "?" before decoding.
  const char* op_name() const;
  std::optional<Asid> space() const { return args ? args->space() : std::nullopt; }
};

/// An event of operation `op` with arguments `a` (A must be op's argument type).
template <class A>
Event make_event(const OpInfo& op, A a, int cpu = -1);

/// What an operation returned (spec/vmm.md §2.0). Compared against Event::expect, and
/// between the model and an implementation.
struct Outcome {
  static constexpr std::uint64_t kNoFrame = UINT32_MAX;
  Err err = Err::ok;
  std::uint64_t ret = 0;          ///< an address (mmap, brk, k_mem_map), a statistic, 0 for NULL
  AccessResult access = AccessResult::ok;
  /// access/pin: the frame used, in the producer's own numbering (model frame or PFN);
  /// frames are compared up to renaming (spec/differential.md §1).
  std::uint64_t frame = kNoFrame;
  std::string note;               ///< short explanation for reports
};

}  // namespace vmref::vocab

#include "vmref/vocab/registry.hpp"

namespace vmref::vocab {

template <class A>
Event make_event(const OpInfo& op, A a, int cpu) {
  assert(!op.args_type || *op.args_type == typeid(A));  // Event::get casts to op's type
  Event e;
  e.op = &op;
  e.cpu = cpu;
  e.args = std::make_shared<const A>(std::move(a));
  return e;
}

template <class A> const A& Event::get() const {
  assert(op && op->args_type && *op->args_type == typeid(A) && args);
  return static_cast<const A&>(*args);
}

inline const char* Event::op_name() const { return op ? op->name : "?"; }

}  // namespace vmref::vocab
