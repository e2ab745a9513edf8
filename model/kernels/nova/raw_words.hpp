// The model's own reading of raw NVIDIA MMU v2/v3 table words, for the mechanism-level
// events that record them (spec/kernels/nova.md §15). Written from the format pages
// (spec/formats/nv_mmu_v2.md "PTE", "PDE", "Dual PDE", "Big-page PTE states" and
// nv_mmu_v3.md's), apart from impl/arch's codecs: the differential compares the two.
#pragma once

#include <cstdint>
#include <optional>

#include "nova_events.hpp"

namespace vmref::nova::raw {

/// A PDE word, or one half of a dual PDE.
struct PdeWord {
  bool present = false;  ///< aperture non-zero (PDE encoding: 0 INVALID)
  bool video = false;    ///< aperture 1, VIDEO_MEMORY
  bool is_pte = false;   ///< bit 0 of an upper PDE or big half: a large-page PTE, not a pointer
  std::uint64_t addr = 0;  ///< byte address of the table it points at
  std::uint64_t reserved = 0;  ///< set bits the format page reserves (its walk does not follow the entry)
};
/// A PTE word of a small (4 KiB) page table.
struct PteWord {
  bool valid = false;
  bool video = false;      ///< PTE aperture 0, VIDEO_MEMORY (1 is PEER in a PTE)
  bool read_only = false;  ///< v2 READ_ONLY bit 6; v3 PCF bit 2 (RO), word bit 5
  bool privileged = false; ///< v2 PRIVILEGE bit 5; v3 PCF bit 1, word bit 4
  std::uint64_t pfn = 0;   ///< the 4 KiB frame (address >> 12)
  std::uint64_t reserved = 0;  ///< of a valid VIDEO PTE: a peer ID (v2 35:33, v3 63:61; V2-C8, V3-C8)
};

/// An 8-byte upper PDE: IS_PTE bit 0, aperture 2:1, address 32:8 (v2) or 51:12 (v3),
/// shift 12; bits 63:54 (v2) or 63:52 (v3) reserved.
PdeWord pde(unsigned mmu, std::uint64_t w);
/// The small half of a dual PDE, its upper word, read as a PDE in its own word; bit 0
/// (bit 64 of the entry) is unused there, not IS_PTE, and reserved with bits 7:4 (v2:
/// 71:68) or 11:6 and 63:52 (v3: 75:70, 127:116).
PdeWord small_half(unsigned mmu, std::uint64_t w);
/// The big half of a dual PDE (the lower word): address 32:4 (v2) or 51:8 (v3), shift 8.
PdeWord big_half(unsigned mmu, std::uint64_t w);
PteWord pte(unsigned mmu, std::uint64_t w);
/// The state of a big (64 KiB) PTE: U, I or S; nullopt for VALID (a 64 KiB page).
/// v2: PRIVILEGE (bit 5) reads I, else VOL (bit 3) S, else U (V2-C4); v3: PCF 7:3 0 U,
/// 1 S, anything else I (V3-C4).
std::optional<BigState> big_state(unsigned mmu, std::uint64_t w);

}  // namespace vmref::nova::raw
