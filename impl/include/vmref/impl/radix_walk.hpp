// The generic walker: every present leaf reachable from a root, in VA order.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "vmref/impl/phys_mem.hpp"
#include "vmref/impl/radix_format.hpp"

namespace vmref::impl {

struct Leaf {
  std::uint64_t va = 0, pa = 0, size = 0;  ///< bytes
  std::uint64_t raw = 0;                   ///< the leaf entry itself
  unsigned level = 0;
  Rights rights;                           ///< combined over the walk
};

/// A table entry the walker could not follow: reserved bits set, or unreadable memory.
struct WalkIssue {
  std::uint64_t va = 0;        ///< first VA the entry covers
  std::uint64_t entry_pa = 0;  ///< where the entry is
  unsigned level = 0;
  std::string what;
};

/// Visits every present leaf under `root` in ascending (canonical) VA order. Entries
/// with reserved bits are reported to `issue` and not followed; so are tables outside
/// the memory (a truncated image). `tables`, if given, receives every table page read.
void walk_all(const PhysReader& mem, const RadixFormat& fmt, std::uint64_t root,
              const std::function<void(const Leaf&)>& leaf, const std::function<void(const WalkIssue&)>& issue,
              std::set<std::uint64_t>* tables = nullptr);

/// The leaf translating `va` under `root` as the hardware finds it (rights combined over
/// the walk), or nullopt when an entry is not present, has reserved bits set, or lies
/// outside the memory. No A/D update.
std::optional<Leaf> walk_one(const PhysReader& mem, const RadixFormat& fmt, std::uint64_t root, std::uint64_t va);

}  // namespace vmref::impl
