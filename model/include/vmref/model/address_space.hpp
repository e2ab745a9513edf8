// One address space: VSL + GPT + heap break + VA-allocator lists (spec/vmm.md §1.1).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vmref/model/gpt.hpp"
#include "vmref/model/tables.hpp"
#include "vmref/model/vsl.hpp"

namespace vmref::model {

/// A released virtual range waiting on an allocator list (spec/vmm.md §1.7): [start, end) bytes.
struct VaRange {
  Va start = 0, end = 0;
  friend bool operator==(const VaRange&, const VaRange&) = default;
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
  PageTables tables;      ///< table pages, when the trace reports them (spec/vmm.md §1.8)
};

}  // namespace vmref::model
