#include "raw_words.hpp"

namespace vmref::nova::raw {

namespace {
constexpr std::uint64_t bits(std::uint64_t w, unsigned hi, unsigned lo) {
  return (w >> lo) & ((std::uint64_t{1} << (hi - lo + 1)) - 1);
}
PdeWord pointer(std::uint64_t w, std::uint64_t addr) {
  const std::uint64_t aperture = bits(w, 2, 1);
  return {aperture != 0, aperture == 1, bits(w, 0, 0) != 0, addr};
}
}  // namespace

PdeWord pde(unsigned mmu, std::uint64_t w) {
  PdeWord p = pointer(w, mmu == 2 ? bits(w, 32, 8) << 12 : bits(w, 51, 12) << 12);
  p.reserved = mmu == 2 ? w & (~std::uint64_t{0} << 54) : w & (~std::uint64_t{0} << 52);
  return p;
}

PdeWord small_half(unsigned mmu, std::uint64_t w) {
  PdeWord p = pde(mmu, w);
  p.is_pte = false;
  p.reserved |= w & (mmu == 2 ? std::uint64_t{0xf1} : std::uint64_t{0xfc1});
  return p;
}

PdeWord big_half(unsigned mmu, std::uint64_t w) {
  return pointer(w, mmu == 2 ? bits(w, 32, 4) << 8 : bits(w, 51, 8) << 8);
}

PteWord pte(unsigned mmu, std::uint64_t w) {
  PteWord p;
  p.valid = bits(w, 0, 0) != 0;
  p.video = bits(w, 2, 1) == 0;
  p.read_only = mmu == 2 ? bits(w, 6, 6) != 0 : bits(w, 5, 5) != 0;
  p.privileged = mmu == 2 ? bits(w, 5, 5) != 0 : bits(w, 4, 4) != 0;
  p.pfn = mmu == 2 ? bits(w, 32, 8) : bits(w, 51, 12);
  if (p.valid && p.video) p.reserved = mmu == 2 ? w & (std::uint64_t{7} << 33) : w & (std::uint64_t{7} << 61);
  return p;
}

std::optional<BigState> big_state(unsigned mmu, std::uint64_t w) {
  if (bits(w, 0, 0)) return std::nullopt;
  if (mmu == 2) return bits(w, 5, 5) ? BigState::I : bits(w, 3, 3) ? BigState::S : BigState::U;
  const std::uint64_t pcf = bits(w, 7, 3);
  return pcf == 0 ? BigState::U : pcf == 1 ? BigState::S : BigState::I;
}

}  // namespace vmref::nova::raw
