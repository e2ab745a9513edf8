#include "nv_mmu_v2_walk.hpp"

#include "nv_mmu_v2_arith.hpp"

namespace vmref::impl::nv_mmu_v2 {

BigState big_state(std::uint64_t big_pte) {
  if (big_pte & kValid) return BigState::valid;
  if (big_pte & kPrivilege) return BigState::invalid;
  if (big_pte & kVol) return BigState::sparse;
  return BigState::unmapped;
}

bool dual_pde_sparse(std::uint64_t low, std::uint64_t high) {
  return aperture(low) == kPdeInvalid && aperture(high) == kPdeInvalid && (low & kVol);
}

void walk(const PhysReader& mem, const Format& fmt, std::uint64_t pdb, const std::function<void(const Leaf&)>& leaf,
          const std::function<void(const WalkIssue&)>& issue) {
  gmmu::WalkRules rules;
  rules.root = kPd3, rules.pd0 = kPd0, rules.pt = kPt;
  rules.misaligned = [](std::uint64_t raw, std::uint64_t size) -> std::uint64_t {
    return aperture(raw) <= kPtePeer ? arith::misaligned_bits(raw, __builtin_ctzll(size)) : 0;
  };
  rules.big_state = big_state;
  rules.dual_sparse = dual_pde_sparse;
  rules.halves = [](std::uint64_t low, std::uint64_t high) {
    gmmu::DualHalves h;
    h.big = aperture(low) != kPdeInvalid, h.small = aperture(high) != kPdeInvalid;
    if (h.big) h.big_pt = aperture(low) == kPdeVid ? arith::big_address(low) : ((low >> 4) & ((1ull << 50) - 1)) << 8;  // BIG_SYS 53:4
    if (h.small) h.small_pt = aperture(high) == kPdeVid ? arith::vid_address(high) : arith::sys_address(high);
    if (high & kSmallUnused) h.unused = "unused bits 71:68 or 64 set";
    return h;
  };
  gmmu::walk(mem, fmt, rules, pdb, leaf, issue);
}

}  // namespace vmref::impl::nv_mmu_v2
