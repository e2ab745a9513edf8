#include "vmref/impl/gmmu_walk.hpp"

#include <cstdio>
#include <set>
#include <utility>

namespace vmref::impl::gmmu {

namespace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

constexpr std::uint64_t k4K = 1ull << 12, k64K = 1ull << 16, k2M = 1ull << 21;
constexpr std::uint64_t kValid = 1;

struct Walker {
  const PhysReader& mem;
  const RadixCodec& fmt;
  const WalkRules& rules;
  const std::function<void(const Leaf&)>& leaf;
  const std::function<void(const WalkIssue&)>& issue;
  // (table PA, 0) for directories and small PTs, (PA, 1) for big PTs: a big PT may share
  // a page with other big PTs, never with a table of another kind.
  std::set<std::pair<std::uint64_t, unsigned>> entered{};

  void report(std::uint64_t va, std::uint64_t pa, unsigned level, WalkIssueKind k, std::string what) {
    issue(WalkIssue{va, pa, level, k, std::move(what)});
  }

  bool enter(std::uint64_t table, bool big, unsigned level, std::uint64_t va, std::uint64_t entry_pa) {
    if (entered.insert({table, big ? 1 : 0}).second) return true;
    report(va, entry_pa, level, WalkIssueKind::aliased_table, "points at the table at PA " + hex(table) + ", already walked: not followed again");
    return false;
  }

  bool read(std::uint64_t pa, std::uint64_t& v, std::uint64_t va, unsigned level) {
    if (mem.read_u64(pa, v)) return true;
    report(va, pa, level, WalkIssueKind::outside_image, "table entry lies outside the memory image (truncated?)");
    return false;
  }

  /// A PTE (at PT, PD0 or above, or in a big PT) that decodes as a leaf of `size` bytes.
  void pte(std::uint64_t raw, unsigned level, std::uint64_t va, std::uint64_t size, std::uint64_t entry_pa) {
    Entry e = fmt.decode(raw, level);
    std::uint64_t mis = size > k4K ? rules.misaligned(raw, size) : 0;
    if (!e.reserved.empty() || mis) {
      report(va, entry_pa, level, WalkIssueKind::reserved_bits,
             "entry " + hex(raw) + ": " + (e.reserved.empty() ? "misaligned " + hex(size) + " page" : e.reserved));
      return;
    }
    leaf(Leaf{va, e.addr, size, raw, level, fmt.combine(Rights{}, raw)});
  }

  void directory(std::uint64_t table, unsigned level, std::uint64_t va) {
    for (std::uint64_t i = 0; i < (1ull << fmt.index_bits(level)); ++i) {
      std::uint64_t at = va | i << fmt.shift(level), entry_pa = table + 8 * i;
      if (level == rules.pd0) {
        dual(table + 16 * i, at);
        continue;
      }
      std::uint64_t raw;
      if (!read(entry_pa, raw, at, level)) return;
      Entry e = fmt.decode(raw, level);
      if (!e.present) continue;  // aperture 0: absent, or sparse
      if (e.leaf) pte(raw, level, at, 1ull << fmt.shift(level), entry_pa);
      else if (!e.reserved.empty()) report(at, entry_pa, level, WalkIssueKind::reserved_bits, "entry " + hex(raw) + ": " + e.reserved);
      else if (enter(e.addr, false, level + 1, at, entry_pa)) directory(e.addr, level + 1, at);
    }
  }

  void dual(std::uint64_t entry_pa, std::uint64_t va) {
    std::uint64_t w[2];
    if (!read(entry_pa, w[0], va, rules.pd0) || !read(entry_pa + 8, w[1], va, rules.pd0)) return;
    if (w[0] & kValid) return pte(w[0], rules.pd0, va, k2M, entry_pa);  // a 2 MiB PTE
    if (rules.dual_sparse(w[0], w[1])) return;
    DualHalves h = rules.halves(w[0], w[1]);
    if (!h.unused.empty()) {
      report(va, entry_pa + 8, rules.pd0, WalkIssueKind::reserved_bits, "dual PDE upper word " + hex(w[1]) + ": " + h.unused);
      return;
    }
    if (h.big && !enter(h.big_pt, true, rules.pd0 + 1, va, entry_pa)) h.big = false;
    if (h.small && !enter(h.small_pt, false, rules.pt, va, entry_pa + 8)) h.small = false;
    for (std::uint64_t j = 0; j < 32; ++j) chunk(h, va + j * k64K, j);
  }

  /// 64 KiB chunk `j` of a dual PDE: its big PTE's state decides whether the 16 small
  /// PTEs beneath are read.
  void chunk(DualHalves& h, std::uint64_t va, std::uint64_t j) {
    BigState st = BigState::unmapped;
    std::uint64_t big = 0;
    if (h.big) {
      if (!read(h.big_pt + 8 * j, big, va, rules.pt)) h.big = false;
      else st = rules.big_state(big);
    }
    if (st == BigState::valid) pte(big, rules.pt, va, k64K, h.big_pt + 8 * j);
    if (st != BigState::unmapped || !h.small) return;
    for (std::uint64_t k = 0; k < 16; ++k) {
      std::uint64_t raw, pa = h.small_pt + 8 * (16 * j + k);
      if (!read(pa, raw, va + k * k4K, rules.pt)) {
        h.small = false;
        return;
      }
      if (raw & kValid) pte(raw, rules.pt, va + k * k4K, k4K, pa);
    }
  }
};

}  // namespace

void walk(const PhysReader& mem, const RadixCodec& fmt, const WalkRules& rules, std::uint64_t pdb,
          const std::function<void(const Leaf&)>& leaf, const std::function<void(const WalkIssue&)>& issue) {
  Walker w{mem, fmt, rules, leaf, issue};
  w.entered.insert({pdb, 0});
  w.directory(pdb, rules.root, 0);
}

}  // namespace vmref::impl::gmmu
