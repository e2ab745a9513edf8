#include "vmref/impl/radix_walk.hpp"

#include <algorithm>
#include <cstdio>
#include <unordered_set>
#include <vector>

namespace vmref::impl {

namespace {

constexpr std::uint64_t kPageMask = ~0xfffull;

/// Reads the level-`level` entry at `entry_pa` (entry_words(level) words) as the format's
/// view; false when a word lies outside the memory.
bool read_entry(const PhysReader& mem, const RadixFormat& fmt, std::uint64_t entry_pa, unsigned level,
                std::uint64_t& raw) {
  unsigned n = fmt.entry_words(level);
  if (n == 1) return mem.read_u64(entry_pa, raw);
  std::uint64_t w[4] = {};
  for (unsigned k = 0; k < n && k < 4; ++k)
    if (!mem.read_u64(entry_pa + 8 * k, w[k])) return false;
  raw = fmt.load(w, level);
  return true;
}

/// `v` in hex with at least `digits` digits.
std::string hex(std::uint64_t v, int digits = 1) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

struct Walk {
  const PhysReader& mem;
  const RadixFormat& fmt;
  const std::function<void(const Leaf&)>& leaf;
  const std::function<void(const WalkIssue&)>& issue;
  std::set<std::uint64_t>* tables;
  std::uint64_t rewalk_left;
  // Table pages entered so far, and those on the current path: first entries are bounded
  // by the pages in memory, re-entries by `rewalk_left`, cycles are never followed.
  std::unordered_set<std::uint64_t> entered{};
  std::vector<std::uint64_t> path{};

  void table(std::uint64_t table_pa, unsigned level, std::uint64_t va, Rights rights) {
    std::uint64_t page = table_pa & kPageMask;
    entered.insert(page);
    if (tables) tables->insert(page);
    path.push_back(page);
    entries(table_pa, level, va, rights);
    path.pop_back();
  }

  void entries(std::uint64_t table_pa, unsigned level, std::uint64_t va, Rights rights) {
    std::uint64_t n = 1ull << fmt.index_bits(level);
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint64_t entry_pa = table_pa + i * fmt.entry_bytes() * fmt.entry_words(level);
      WalkIssue at{fmt.canonical(va | (i << fmt.shift(level))), entry_pa, level};
      std::uint64_t raw;
      if (!read_entry(mem, fmt, entry_pa, level, raw)) {
        report(at, WalkIssueKind::outside_image, "table entry lies outside the memory image (truncated?)");
        return;
      }
      Entry e = fmt.decode(raw, level);
      if (!e.present) continue;
      if (!e.reserved.empty()) {
        report(at, WalkIssueKind::reserved_bits, "entry " + hex(raw, 16) + ": " + e.reserved);
        continue;
      }
      Rights r = fmt.combine_at(rights, raw, level);
      if (e.leaf) leaf({at.va, e.addr, 1ull << fmt.shift(level), raw, level, r, entry_pa});
      else if (may_enter(e.addr, level + 1)) table(e.addr, level + 1, va | (i << fmt.shift(level)), r);
      else aliased(at, e.addr);
    }
  }

  bool on_path(std::uint64_t page) const { return std::find(path.begin(), path.end(), page) != path.end(); }

  /// First entry to a table page, or a re-walk of a shared one the budget still covers.
  bool may_enter(std::uint64_t table_pa, unsigned level) {
    std::uint64_t page = table_pa & kPageMask;
    if (!entered.contains(page)) return true;
    std::uint64_t n = 1ull << fmt.index_bits(level);
    if (on_path(page) || rewalk_left < n) return false;
    rewalk_left -= n;
    return true;
  }

  void aliased(WalkIssue at, std::uint64_t target) {
    std::uint64_t page = target & kPageMask;
    report(at, WalkIssueKind::aliased_table,
           "points at the table page at PA " + hex(page) +
               (on_path(page) ? ", a table above this entry (a cycle, e.g. a recursive mapping)"
                              : ", already walked (a table shared by several entries), with no re-walk budget left") +
               ": not followed again");
  }

  void report(WalkIssue at, WalkIssueKind kind, std::string what) {
    at.kind = kind;
    at.what = std::move(what);
    issue(at);
  }
};

}  // namespace

void walk_all(const PhysReader& mem, const RadixFormat& fmt, std::uint64_t root,
              const std::function<void(const Leaf&)>& leaf, const std::function<void(const WalkIssue&)>& issue,
              std::set<std::uint64_t>* tables, std::uint64_t rewalk_entries) {
  Walk{mem, fmt, leaf, issue, tables, rewalk_entries}.table(root, 0, 0, Rights{});
}

std::optional<Leaf> walk_one(const PhysReader& mem, const RadixFormat& fmt, std::uint64_t root, std::uint64_t va) {
  Rights r;
  std::uint64_t table = root;  // as walk_all: a root table smaller than a page (AArch64) sits at its own alignment
  for (unsigned level = 0; level < fmt.levels(); ++level) {
    std::uint64_t idx = (va >> fmt.shift(level)) & ((1ull << fmt.index_bits(level)) - 1);
    std::uint64_t raw;
    if (!read_entry(mem, fmt, table + idx * fmt.entry_bytes() * fmt.entry_words(level), level, raw)) return std::nullopt;
    Entry e = fmt.decode(raw, level);
    if (!e.present || !e.reserved.empty()) return std::nullopt;
    r = fmt.combine_at(r, raw, level);
    std::uint64_t size = 1ull << fmt.shift(level);
    if (e.leaf) return Leaf{fmt.canonical(va & ~(size - 1)), e.addr, size, raw, level, r};
    table = e.addr;
  }
  return std::nullopt;
}

}  // namespace vmref::impl
