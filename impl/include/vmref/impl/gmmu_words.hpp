// What a GPU kernel writes into an NVIDIA format's tables beyond the RadixCodec: the dual
// PDE's big half and the big PTE states (spec/formats/nv_mmu_v2.md and nv_mmu_v3.md "Dual
// PDE", "Big-page PTE states"). Each NVIDIA format fills one (FormatInfo::gmmu), so a
// kernel finds the format of its MMU version in the registry without naming it.
#pragma once

#include <cstdint>

#include "vmref/impl/gmmu_tlb.hpp"
#include "vmref/impl/gmmu_walk.hpp"
#include "vmref/impl/mutant.hpp"
#include "vmref/impl/radix_format.hpp"

namespace vmref::impl::gmmu {

/// A big (64 KiB) PTE state a kernel writes: U lets the small PTEs beneath be read,
/// I and S hide them.
enum class Chunk : std::uint8_t { U, I, S };

struct Words {
  unsigned version = 0;                         ///< the GMMU page-table version: 2 (VER2) or 3 (VER3)
  /// The codec's PD0 view bit that makes `store` keep the dual PDE's big half.
  std::uint64_t big_in_use_marker = 0;
  /// The low word pointing at a big PT at byte address `pa` (VIDEO aperture), as written
  /// under `mutant` (the format's own or nullptr).
  std::uint64_t (*big_half)(std::uint64_t pa, Mutant mutant) = nullptr;
  std::uint64_t (*big_pt)(std::uint64_t low) = nullptr;    ///< that word's big PT byte address; 0 when its aperture is 0
  /// The big PTE of `state` as written under `mutant` (the format's own or nullptr).
  std::uint64_t (*chunk_word)(Chunk state, Mutant mutant) = nullptr;
  /// The format's GPU TLB under `mutant`: its page sizes and its TLB mutants' flags.
  TlbConfig (*tlb)(Mutant mutant) = nullptr;
  bool (*hides)(std::uint64_t big_pte) = nullptr;
  /// The architectural reading of a big PTE (the format's walk's, never mutated).
  BigState (*big_state)(std::uint64_t big_pte) = nullptr;           ///< the small PTEs beneath are not read (I, S or V)
  /// Whether `codec` is this format's (the core may run it; its mutants then apply to
  /// the codec, chunk_word and tlb).
  bool (*owns)(const RadixCodec& codec) = nullptr;
};

}  // namespace vmref::impl::gmmu
