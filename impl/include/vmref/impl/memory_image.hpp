// A simulated memory an implementation keeps its page tables in, as `vmref replay
// --images-out` writes it for `vmref walk`: the core's physical memory, or a GPU's VRAM.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vmref/impl/phys_mem.hpp"

namespace vmref::impl {

struct MemoryImage {
  std::string name;    ///< file stem: "phys" (the core's physical memory), "vram" (a GPU's)
  /// The page-table format that decodes its tables; "" for the core's (the format the
  /// implementation runs, which the caller knows).
  std::string format;
  const SimMemory* mem = nullptr;  ///< byte offset in the image = physical address
  /// Per address space ("as 1") the root register value `vmref walk --root` takes: the
  /// root table's byte address (CR3, TTBR0, satp's PPN << 12, a PDB).
  std::vector<std::pair<std::string, std::uint64_t>> roots;
};

}  // namespace vmref::impl
