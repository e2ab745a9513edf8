#include "nv_mmu_v3_walk.hpp"

#include <cstdio>
#include <set>
#include <utility>

#include "nv_mmu_v3_arith.hpp"

namespace vmref::impl::nv_mmu_v3 {

namespace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

constexpr std::uint64_t k64K = 1ull << 16;

struct Walker {
  const PhysReader& mem;
  const Format& fmt;
  const std::function<void(const Leaf&)>& leaf;
  const std::function<void(const WalkIssue&)>& issue;
  std::set<std::pair<std::uint64_t, unsigned>> entered{};  // (table PA, 0), or (big PT PA, kLevels)

  void report(std::uint64_t va, std::uint64_t pa, unsigned level, WalkIssueKind k, std::string what) {
    issue(WalkIssue{va, pa, level, k, std::move(what)});
  }

  bool enter(std::uint64_t table, unsigned level, std::uint64_t va, std::uint64_t entry_pa) {
    if (entered.insert({table, level == kLevels ? kLevels : 0}).second) return true;  // a page is one table
    report(va, entry_pa, level, WalkIssueKind::aliased_table, "points at the table at PA " + hex(table) + ", already walked: not followed again");
    return false;
  }

  bool read(std::uint64_t pa, std::uint64_t& v, std::uint64_t va, unsigned level) {
    if (mem.read_u64(pa, v)) return true;
    report(va, pa, level, WalkIssueKind::outside_image, "table entry lies outside the memory image (truncated?)");
    return false;
  }

  /// A PTE (at PT, PD0 or PD1, or in a big PT) that decodes as a leaf of `size` bytes.
  void pte(std::uint64_t raw, unsigned level, std::uint64_t va, std::uint64_t size, std::uint64_t entry_pa) {
    Entry e = fmt.decode(raw, level);
    std::uint64_t mis = size > 4096 ? arith::misaligned_bits(raw, __builtin_ctzll(size)) : 0;
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
      if (level == kPd0) {
        dual(table + 16 * i, at);
        continue;
      }
      std::uint64_t raw;
      if (!read(entry_pa, raw, at, level)) return;
      Entry e = fmt.decode(raw, level);
      if (!e.present) continue;  // aperture 0: absent, or sparse with VOL
      if (e.leaf) pte(raw, level, at, 1ull << fmt.shift(level), entry_pa);
      else if (!e.reserved.empty()) report(at, entry_pa, level, WalkIssueKind::reserved_bits, "entry " + hex(raw) + ": " + e.reserved);
      else if (enter(e.addr, level + 1, at, entry_pa)) directory(e.addr, level + 1, at);
    }
  }

  void dual(std::uint64_t entry_pa, std::uint64_t va) {
    std::uint64_t w[2];
    if (!read(entry_pa, w[0], va, kPd0) || !read(entry_pa + 8, w[1], va, kPd0)) return;
    if (w[0] & kValid) return pte(w[0], kPd0, va, 1ull << 21, entry_pa);  // a 2 MiB PTE
    if (dual_pde_sparse(w[0], w[1])) return;
    std::uint64_t big_pt = 0, small_pt = 0;
    unsigned big_ap = aperture(w[0]), small_ap = aperture(w[1]);
    if (big_ap != kPdeInvalid) big_pt = arith::big_address(w[0]);      // ADDRESS_BIG 51:8, shift 8
    if (small_ap != kPdeInvalid) small_pt = arith::address(w[1]);      // ADDRESS_SMALL 115:76, shift 12
    if (w[1] & kSmallUnused) {
      report(va, entry_pa + 8, kPd0, WalkIssueKind::reserved_bits, "dual PDE upper word " + hex(w[1]) + ": unused bits 64, 75:70 or 127:116 set");
      return;
    }
    if (big_ap != kPdeInvalid && !enter(big_pt, kLevels, va, entry_pa)) big_ap = kPdeInvalid, big_pt = 0;
    if (small_ap != kPdeInvalid && !enter(small_pt, kPt, va, entry_pa + 8)) small_ap = kPdeInvalid;
    for (std::uint64_t j = 0; j < 32; ++j) {
      std::uint64_t chunk = va + j * k64K;
      BigState st = BigState::unmapped;
      std::uint64_t big = 0;
      if (big_ap != kPdeInvalid) {
        if (!read(big_pt + 8 * j, big, chunk, kPt)) big_ap = kPdeInvalid;
        else st = big_state(big);
      }
      if (st == BigState::valid) pte(big, kPt, chunk, k64K, big_pt + 8 * j);
      if (st != BigState::unmapped || small_ap == kPdeInvalid) continue;
      for (std::uint64_t k = 0; k < 16; ++k) {
        std::uint64_t raw, pa = small_pt + 8 * (16 * j + k);
        if (!read(pa, raw, chunk + k * 4096, kPt)) { small_ap = kPdeInvalid; break; }
        if (raw & kValid) pte(raw, kPt, chunk + k * 4096, 4096, pa);
      }
    }
  }
};

}  // namespace

BigState big_state(std::uint64_t big_pte) {
  if (big_pte & kValid) return BigState::valid;
  unsigned p = pcf(big_pte);
  if (p == kPcfInvalid) return BigState::unmapped;
  return p == kPcfSparse ? BigState::sparse : BigState::invalid;
}

bool dual_pde_sparse(std::uint64_t low, std::uint64_t high) {
  return aperture(low) == kPdeInvalid && aperture(high) == kPdeInvalid && (pcf(low) & 7) == kPcfSparse;
}

void walk(const PhysReader& mem, const Format& fmt, std::uint64_t pdb, const std::function<void(const Leaf&)>& leaf,
          const std::function<void(const WalkIssue&)>& issue) {
  Walker w{mem, fmt, leaf, issue};
  w.entered.insert({pdb, 0});
  w.directory(pdb, kPd4, 0);
}

}  // namespace vmref::impl::nv_mmu_v3
