// The x86-64 format's rows: the codec and the architectural decoder (4- or 5-level,
// MAXPHYADDR, NXE), the PCID-aware Mmu, the SDM reference TLB, QEMU's `info tlb` listing,
// and the format's mutants.
#include <fmt/format.h>

#include "vmref/impl/format.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "x86_64_format.hpp"
#include "x86_64_mutants.hpp"
#include "x86_64_reference_tlb.hpp"
#include "x86_64_tlb.hpp"

namespace vmref::impl::x86_64 {

const MutantInfo kInvlpgIgnoresPcid{"invlpg-ignores-pcid", "x86_64",
                                    "shootdown uses INVLPG on every CPU, as if it reached other PCIDs", ""};
const MutantInfo kCr3DropsGlobals{"cr3-drops-globals", "x86_64", "the TLB drops global entries on MOV to CR3", ""};
const MutantInfo kInvpcid2KeepsGlobals{"invpcid2-keeps-globals", "x86_64",
                                       "the TLB keeps global entries through INVPCID type 2", ""};
const MutantInfo kInvpcid0KeepsWalks{"invpcid0-keeps-walks", "x86_64",
                                     "INVPCID type 0 drops the TLB entry only, not the paging-structure cache entries for the address", ""};
const MutantInfo kXdWrongBit{"xd-wrong-bit", "x86_64", "XD written and tested at bit 62 instead of 63", ""};

namespace {
Config config(const FormatConfig& c, bool architectural) {
  bool broken = !architectural && c.mutant == &kXdWrongBit;
  return Config{c.get("levels", 4), c.get("maxphyaddr", 52), c.get("no-nxe", 0) == 0, broken ? 62u : 63u};
}

/// Effective rights plus the leaf's attributes, as one comparable string (`vmref walk`).
std::string leaf_flags(const Leaf& l) {
  std::string f{'r', l.rights.w ? 'w' : '-', l.rights.x ? 'x' : '-'};
  f += l.rights.u ? " user" : " kernel";
  if (l.raw & kG) f += " global";
  if (l.raw & kA) f += " accessed";
  if (l.raw & kD) f += " dirty";
  if (l.raw & kPCD) f += " pcd";
  if (l.raw & kPWT) f += " pwt";
  return f;
}
}  // namespace

void register_format() {
  FormatInfo f;
  f.name = "x86_64";
  f.title = "x86-64 4-level and 5-level paging with PCIDs (Intel SDM Vol 3A ch. 4)";
  f.spec = "spec/formats/x86_64.md";
  f.root_name = "CR3";
  f.params = {{"levels", "Paging levels: 4, or 5 with CR4.LA57", 4, {4, 5}},
              {"maxphyaddr", "Physical address width; bits above are reserved", 52, {}, 32, 52},
              {"no-nxe", "IA32_EFER.NXE clear: bit 63 is reserved rather than XD (1 = clear)", 0, {0, 1}}};
  f.codec = [](const FormatConfig& c) -> std::unique_ptr<RadixCodec> { return std::make_unique<Format>(config(c, false)); };
  f.decoder = [](const FormatConfig& c) -> std::unique_ptr<RadixCodec> { return std::make_unique<Format>(config(c, true)); };
  f.mmu = [](unsigned cpus, const FormatConfig& c) -> std::unique_ptr<vmref::impl::Mmu> {
    return std::make_unique<Mmu>(cpus, c.mutant);
  };
  f.reference = [](vmref::impl::Mmu& m) -> std::unique_ptr<vmref::impl::ReferenceTlb> {
    return std::make_unique<ReferenceTlb>(static_cast<Mmu&>(m));
  };
  // CR3: bits 51:12 hold the root; the low bits (PCID, PWT/PCD) and bit 63 are not address.
  f.root_address = [](std::uint64_t cr3, const FormatConfig& c) {
    return cr3 & 0x000ffffffffff000ull & ((1ull << c.get("maxphyaddr", 52)) - 1);
  };
  f.leaf_flags = leaf_flags;
  f.listings = {{"qemu-tlb", per_leaf_listing(qemu_tlb_line)}};
  add_format(std::move(f));
  for (const MutantInfo* m : {&kInvlpgIgnoresPcid, &kCr3DropsGlobals, &kInvpcid2KeepsGlobals, &kInvpcid0KeepsWalks, &kXdWrongBit})
    add_mutant(*m);
}

}  // namespace vmref::impl::x86_64
