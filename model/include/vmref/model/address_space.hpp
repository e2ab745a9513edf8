// One address space: VSL + GPT + heap break + VA-allocator lists (spec/vmm.md §1.1).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "vmref/model/gpt.hpp"
#include "vmref/model/vsl.hpp"

namespace vmref::model {

/// A released virtual range waiting on an allocator list (spec §1.7): [start, end) bytes.
struct VaRange {
  Va start = 0, end = 0;
  friend bool operator==(const VaRange&, const VaRange&) = default;
};

/// One live (or free) mermap tracking slot (profiles.md §4.2).
struct MermapSlot {
  bool in_use = false, reserve = false;
  Va base = 0, end = 0;    ///< bytes
  std::string handle;
};
/// A CPU's mermap state: the bump pointer and the tracking slots.
struct MermapCpu {
  Va next_addr = 0;
  std::vector<MermapSlot> slots;
};
/// The mm's mermap: per-CPU state once prepared, and the task's migrate-disable depth.
struct MermapState {
  bool prepared = false;
  std::vector<MermapCpu> cpus;
  std::uint64_t migrate_disabled = 0;   ///< migrate_disable() calls not yet undone
  std::uint64_t flushes = 0;            ///< local TLB flushes on the reset path
  std::map<std::string, std::pair<int, std::size_t>> handles;  ///< live handle -> (cpu, slot)
};

struct AddressSpace {
  Asid asid = 0;
  Vsl vsl;
  Gpt gpt;
  bool has_brk = false;   ///< false until the heap start is known (as_create "brk")
  Va brk_start = 0;       ///< Linux mm->start_brk
  Va brk = 0;             ///< current break (not page aligned)
  /// Free/zombie lists of a size-class VA allocator: class -> released ranges.
  std::map<std::uint64_t, std::vector<VaRange>> va_lists;
  /// Starts of vsegs whose merge with the vseg below could not be decided (hidden state).
  std::set<Va> undetermined;
  MermapState mermap;
};

}  // namespace vmref::model
