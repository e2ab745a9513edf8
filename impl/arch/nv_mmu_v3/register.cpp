// The NVIDIA VER3 format's rows: the codec and the architectural decoder (PD4..PD0 and
// the dual PDE, PCF, the GPU generation), the PDB-tagged GPU TLB and its Mmu, the reference
// TLB, the PDB as the root register, and the format's mutants.
#include "vmref/impl/format.hpp"
#include "vmref/impl/gmmu_reference_tlb.hpp"
#include "vmref/impl/gmmu_tlb.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "vmref/vocab/registry.hpp"
#include "nv_mmu_v3_arith.hpp"
#include "nv_mmu_v3_format.hpp"
#include "nv_mmu_v3_mutants.hpp"
#include "nv_mmu_v3_walk.hpp"

namespace vmref::impl::nv_mmu_v3 {

const MutantInfo kSmallHalfShift8{"nv3-small-half-shift-8", "nv_mmu_v3",
                                  "the dual PDE's small-page-table address written with the big half's shift (8, not 12)", ""};
const MutantInfo kPdeValidBit{"nv3-pde-valid-bit", "nv_mmu_v3",
                              "PDEs written with bit 0 set, as if a PDE were present by a VALID bit (bit 0 is IS_PTE)", ""};
const MutantInfo kPcfSwapped{"nv3-pcf-priv-ro-swapped", "nv_mmu_v3",
                             "PTE PCF PRIVILEGE (bit 1) and RO (bit 2) written swapped, as the Rust GPU driver's ver3.rs swaps bits 1 and 4", ""};
const MutantInfo kAckNoneComplete{"nv3-ack-none-complete", "nv_mmu_v3",
                                  "invalidates issued with ACK NONE_REQUIRED and their entries counted as gone", ""};
MutantInfo kTargetedKeeps2M{"nv3-targeted-keeps-2m", "nv_mmu_v3",
                            "a targeted (VADDR, SIZE) invalidate drops 4 KiB and 64 KiB entries only, keeping a 2 MiB one", ""};
const MutantInfo kPdePteAperture{"nv3-pde-pte-aperture", "nv_mmu_v3",
                                 "PDEs written with the PTE aperture encoding (VIDEO_MEMORY = 0, which a PDE reads as INVALID)",
                                 ""};
MutantInfo k2MLeafIgnored{"nv3-2m-leaf-ignored", "nv_mmu_v3",
                          "a PD0 slot read as a dual PDE even when IS_PTE says it holds a 2 MiB PTE", ""};
MutantInfo kSparseAsUnmapped{"nv3-sparse-as-unmapped", "nv_mmu_v3",
                              "the big PTE state S (sparse) written as U, as if sparse were unmapped: the small PTEs "
                              "beneath are read again",
                              ""};
MutantInfo kBigHalfShift12{"nv3-big-half-shift-12", "nv_mmu_v3",
                            "the dual PDE's big-page-table address written with the small half's shift (12, not 8)", ""};
MutantInfo kTargetedIgnoresSize{"nv3-targeted-ignores-size", "nv_mmu_v3",
                                 "a targeted (VADDR, SIZE) invalidate ignores SIZE and drops the 4 KiB at VADDR only", ""};

namespace {
Config config(const FormatConfig& c, bool architectural) { return Config{c.get("gpu", kHopper), architectural ? nullptr : c.mutant}; }

/// Aperture, then r/w/x as the PTE grants them, privilege and the harness bits (`vmref walk`).
std::string leaf_flags(const Leaf& l) {
  static const char* const kAperture[] = {"vid", "peer", "sys-coh", "sys-noncoh"};
  std::string f = kAperture[aperture(l.raw)];
  f += ' ';
  f += {'r', l.rights.w ? 'w' : '-', l.rights.x ? 'x' : '-'};
  f += l.rights.u ? " user" : " privileged";
  if (l.raw & kUncached) f += " uncached";
  if (l.raw & kNoAtomic) f += " no-atomic";
  if (std::uint64_t kind = (l.raw >> kKindShift) & 0xf) f += " kind=" + std::to_string(kind);
  if (l.raw & kHarnessG) f += " global";
  if (l.raw & kHarnessA) f += " accessed";
  if (l.raw & kHarnessD) f += " dirty";
  return f;
}
}  // namespace

/// This format's GPU TLB (vmref/impl/gmmu_tlb.hpp): the leaf sizes a walk can fill
/// (4 KiB, 64 KiB, 2 MiB, 512 MiB, 256 GiB (Blackwell)) and what the TLB mutants change.
gmmu::TlbConfig tlb_config(Mutant m) {
  gmmu::TlbConfig c{{1ull << 12, 1ull << 16, 1ull << 21, 1ull << 29, 1ull << 38}};
  c.ack_none_complete = m == &kAckNoneComplete;
  c.targeted_small_only = m == &kTargetedKeeps2M;
  c.targeted_one_page = m == &kTargetedIgnoresSize;
  return c;
}

/// What a GPU kernel writes besides the codec's entries (gmmu_words.hpp): the big half
/// with aperture VIDEO (ADDRESS_BIG, shift 8), and the big PTE states U (PCF 0), I (PCF 3,
/// NO_VALID_4KB_PAGE), S (PCF 1, SPARSE).
std::shared_ptr<const gmmu::Words> words() {
  auto w = std::make_shared<gmmu::Words>();
  w->version = 3;
  w->big_in_use_marker = kViewBigInUse;
  w->big_half = [](std::uint64_t pa, Mutant m) {
    if (m == &kBigHalfShift12) pa >>= 4;  // the field holds PA >> 12 where the GMMU reads PA >> 8
    return arith::make_big<std::uint64_t>(pa, std::uint64_t{kPdeVid} << 1);
  };
  w->big_pt = [](std::uint64_t low) { return aperture(low) != kPdeInvalid ? arith::big_address<std::uint64_t>(low) : 0; };
  w->chunk_word = [](gmmu::Chunk state, Mutant m) -> std::uint64_t {
    if (state == gmmu::Chunk::I) return std::uint64_t{kPcfNoValid4K} << kPcfShift;
    return std::uint64_t{state == gmmu::Chunk::S && m != &kSparseAsUnmapped ? kPcfSparse : kPcfInvalid} << kPcfShift;
  };
  w->hides = [](std::uint64_t b) { return (b & kValid) || pcf(b) != kPcfInvalid; };
  w->big_state = big_state;
  w->tlb = tlb_config;
  w->owns = [](const RadixCodec& c) { return dynamic_cast<const Format*>(&c) != nullptr; };
  return w;
}

void register_format() {
  FormatInfo f;
  f.name = "nv_mmu_v3";
  f.title = "NVIDIA GMMU VER3 (Hopper, Blackwell): PD4..PD0, dual PDE, PCF, 57-bit GPU VA, PDB-tagged TLB ([NV-MMU3])";
  f.spec = "spec/formats/nv_mmu_v3.md";
  f.root_name = "PDB";
  f.params = {{"gpu", "NVIDIA GPU generation as compute capability x10: 90 Hopper, 100 Blackwell (256 GiB pages at PD2)",
               kHopper, {kHopper, kBlackwell}}};
  f.codec = [](const FormatConfig& c) -> std::unique_ptr<RadixCodec> { return std::make_unique<Format>(config(c, false)); };
  f.decoder = [](const FormatConfig& c) -> std::unique_ptr<RadixCodec> { return std::make_unique<Format>(config(c, true)); };
  f.mmu = [](unsigned cpus, const FormatConfig& c) -> std::unique_ptr<vmref::impl::Mmu> {
    return std::make_unique<gmmu::Mmu>(cpus, tlb_config(c.mutant));
  };
  f.reference = [](vmref::impl::Mmu& m) -> std::unique_ptr<vmref::impl::ReferenceTlb> {
    return std::make_unique<gmmu::ReferenceTlb>(static_cast<gmmu::Mmu&>(m));
  };
  f.root_address = [](std::uint64_t pdb, const FormatConfig&) { return pdb_address(pdb); };
  f.leaf_flags = leaf_flags;
  f.walk = [](const PhysReader& mem, std::uint64_t root, const FormatConfig& c, const std::function<void(const Leaf&)>& leaf,
              const std::function<void(const WalkIssue&)>& issue) { walk(mem, Format(config(c, true)), root, leaf, issue); };
  f.gmmu = words();
  f.implied_params = {{"mmu", 3}};  // a GPU kernel's MMU version
  add_format(std::move(f));
  // Looked up so this folder names no kernel: a profile whose events put 2 MiB pages in
  // the TLB (a correct variant "thp"), and a GPU kernel's corrected variant (with `mmu`).
  kTargetedKeeps2M.profile = k2MLeafIgnored.profile = vocab::profile_with_variant("thp");
  kSparseAsUnmapped.profile = kTargetedIgnoresSize.profile = kBigHalfShift12.profile =
      vocab::profile_with_variant("fixed", "mmu");
  for (Mutant m : std::initializer_list<Mutant>{&kSmallHalfShift8, &kPdeValidBit, &kPcfSwapped, &kAckNoneComplete,
                                               &kTargetedKeeps2M, &kPdePteAperture, &k2MLeafIgnored,
                                               &kSparseAsUnmapped, &kTargetedIgnoresSize, &kBigHalfShift12})
    add_mutant(*m);
}

}  // namespace vmref::impl::nv_mmu_v3
