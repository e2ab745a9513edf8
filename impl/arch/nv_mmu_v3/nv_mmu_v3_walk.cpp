#include "nv_mmu_v3_walk.hpp"

#include "nv_mmu_v3_arith.hpp"

namespace vmref::impl::nv_mmu_v3 {

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
  gmmu::WalkRules rules;
  rules.root = kPd4, rules.pd0 = kPd0, rules.pt = kPt;
  rules.misaligned = [](std::uint64_t raw, std::uint64_t size) -> std::uint64_t {
    return arith::misaligned_bits(raw, __builtin_ctzll(size));
  };
  rules.big_state = big_state;
  rules.dual_sparse = dual_pde_sparse;
  rules.halves = [](std::uint64_t low, std::uint64_t high) {
    gmmu::DualHalves h;
    h.big = aperture(low) != kPdeInvalid, h.small = aperture(high) != kPdeInvalid;
    if (h.big) h.big_pt = arith::big_address(low);        // ADDRESS_BIG 51:8, shift 8
    if (h.small) h.small_pt = arith::address(high);       // ADDRESS_SMALL 115:76, shift 12
    if (high & kSmallUnused) h.unused = "unused bits 64, 75:70 or 127:116 set";
    return h;
  };
  gmmu::walk(mem, fmt, rules, pdb, leaf, issue);
}

}  // namespace vmref::impl::nv_mmu_v3
