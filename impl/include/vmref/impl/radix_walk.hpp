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
  std::uint64_t entry_pa = 0;              ///< where the leaf entry lies (its table page: entry_pa & ~0xfff)
};

/// Why the walker did not follow an entry.
enum class WalkIssueKind {
  reserved_bits,  ///< a present entry with reserved bits set (the hardware would fault, RSVD=1)
  outside_image,  ///< the table holding the entry lies outside the memory (a truncated image)
  aliased_table,  ///< points at a table page above it (a cycle, e.g. a recursive mapping),
                  ///< or at one already walked once the re-walk budget is spent
};

/// A table entry the walker could not follow.
struct WalkIssue {
  std::uint64_t va = 0;        ///< first VA the entry covers
  std::uint64_t entry_pa = 0;  ///< where the entry is
  unsigned level = 0;
  WalkIssueKind kind = WalkIssueKind::reserved_bits;
  std::string what;            ///< the reason, for people (with the entry or target PA)
};

/// Visits every present leaf under `root` in ascending (canonical) VA order. Each entry
/// not followed is reported to `issue` once instead: one with reserved bits; a table
/// outside the memory (its first unreadable entry; the rest of that table is skipped);
/// and one pointing at a table page (keyed by its 4 KiB-aligned PA) that the walk
/// cannot enter again. A page on the path to the entry (a cycle) is never entered again.
/// A page entered before elsewhere (a table shared by several entries, as Linux's ESPFIX
/// area shares one PMD and one PTE page) is walked again, as the hardware would, while
/// the entries read by such re-walks stay within `rewalk_entries` in total (0: never).
/// So a walk reads at most (distinct table pages) x 2^index_bits + `rewalk_entries`
/// entries, and makes at most one `leaf` or `issue` call per entry read, whatever
/// cycles or sharing the memory holds. `tables`, if given, receives the 4 KiB-aligned
/// PA of every table page entered.
void walk_all(const PhysReader& mem, const RadixFormat& fmt, std::uint64_t root,
              const std::function<void(const Leaf&)>& leaf, const std::function<void(const WalkIssue&)>& issue,
              std::set<std::uint64_t>* tables = nullptr, std::uint64_t rewalk_entries = 0);

/// The leaf translating `va` under `root` as the hardware finds it (rights combined over
/// the walk), or nullopt when an entry is not present, has reserved bits set, or lies
/// outside the memory. No A/D update.
std::optional<Leaf> walk_one(const PhysReader& mem, const RadixFormat& fmt, std::uint64_t root, std::uint64_t va);

}  // namespace vmref::impl
