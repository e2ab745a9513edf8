#include "vmref/impl/radix_walk.hpp"

#include <cstdio>

namespace vmref::impl {

namespace {

struct Walk {
  const PhysReader& mem;
  const RadixFormat& fmt;
  const std::function<void(const Leaf&)>& leaf;
  const std::function<void(const WalkIssue&)>& issue;
  std::set<std::uint64_t>* tables;

  void table(std::uint64_t table_pa, unsigned level, std::uint64_t va, Rights rights) {
    if (tables) tables->insert(table_pa & ~0xfffull);
    std::uint64_t n = 1ull << fmt.index_bits(level);
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint64_t entry_pa = table_pa + i * fmt.entry_bytes();
      std::uint64_t here = va | (i << fmt.shift(level));
      std::uint64_t raw;
      if (!mem.read_u64(entry_pa, raw)) {
        issue({fmt.canonical(here), entry_pa, level, "table entry lies outside the memory image (truncated?)"});
        return;
      }
      Entry e = fmt.decode(raw, level);
      if (!e.present) continue;
      if (!e.reserved.empty()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "entry 0x%016llx: ", static_cast<unsigned long long>(raw));
        issue({fmt.canonical(here), entry_pa, level, buf + e.reserved});
        continue;
      }
      Rights r = fmt.combine(rights, raw);
      if (e.leaf) leaf({fmt.canonical(here), e.addr, 1ull << fmt.shift(level), raw, level, r});
      else table(e.addr, level + 1, here, r);
    }
  }
};

}  // namespace

void walk_all(const PhysReader& mem, const RadixFormat& fmt, std::uint64_t root,
              const std::function<void(const Leaf&)>& leaf, const std::function<void(const WalkIssue&)>& issue,
              std::set<std::uint64_t>* tables) {
  Walk{mem, fmt, leaf, issue, tables}.table(root, 0, 0, Rights{});
}

std::optional<Leaf> walk_one(const PhysReader& mem, const RadixFormat& fmt, std::uint64_t root, std::uint64_t va) {
  Rights r;
  std::uint64_t table = root & ~0xfffull;
  for (unsigned level = 0; level < fmt.levels(); ++level) {
    std::uint64_t idx = (va >> fmt.shift(level)) & ((1ull << fmt.index_bits(level)) - 1);
    std::uint64_t raw;
    if (!mem.read_u64(table + idx * fmt.entry_bytes(), raw)) return std::nullopt;
    Entry e = fmt.decode(raw, level);
    if (!e.present || !e.reserved.empty()) return std::nullopt;
    r = fmt.combine(r, raw);
    std::uint64_t size = 1ull << fmt.shift(level);
    if (e.leaf) return Leaf{fmt.canonical(va & ~(size - 1)), e.addr, size, raw, level, r};
    table = e.addr;
  }
  return std::nullopt;
}

}  // namespace vmref::impl
