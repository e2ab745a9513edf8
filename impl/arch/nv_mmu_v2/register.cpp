// The NVIDIA VER2 format's rows: the codec and the architectural decoder (PD3..PD0 and
// the dual PDE, the GPU generation), the PDB-tagged GPU TLB and its Mmu, the reference
// TLB, the PDB as the root register, and the format's mutants.
#include "vmref/impl/format.hpp"
#include "vmref/impl/gmmu_reference_tlb.hpp"
#include "vmref/impl/gmmu_tlb.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "vmref/vocab/registry.hpp"
#include "nv_mmu_v2_arith.hpp"
#include "nv_mmu_v2_format.hpp"
#include "nv_mmu_v2_mutants.hpp"
#include "nv_mmu_v2_walk.hpp"

namespace vmref::impl::nv_mmu_v2 {

const MutantInfo kSmallHalfShift8{"nv2-small-half-shift-8", "nv_mmu_v2",
                                  "the dual PDE's small-page-table address written with the big half's shift (8, not 12)", ""};
const MutantInfo kPdeValidBit{"nv2-pde-valid-bit", "nv_mmu_v2",
                              "PDEs written with bit 0 set, as if a PDE were present by a VALID bit (bit 0 is IS_PTE)", ""};
const MutantInfo kReadOnlyIgnored{"nv2-read-only-ignored", "nv_mmu_v2", "PTEs never get READ_ONLY: read-only pages writable", ""};
const MutantInfo kAckNoneComplete{"nv2-ack-none-complete", "nv_mmu_v2",
                                  "invalidates issued with ACK NONE_REQUIRED and their entries counted as gone", ""};
MutantInfo kTargetedKeeps2M{"nv2-targeted-keeps-2m", "nv_mmu_v2",
                            "a targeted (VADDR, SIZE) invalidate drops 4 KiB and 64 KiB entries only, keeping a 2 MiB one", ""};
const MutantInfo kPdePteAperture{"nv2-pde-pte-aperture", "nv_mmu_v2",
                                 "PDEs written with the PTE aperture encoding (VIDEO_MEMORY = 0, which a PDE reads as INVALID)",
                                 ""};
MutantInfo k2MLeafIgnored{"nv2-2m-leaf-ignored", "nv_mmu_v2",
                          "a PD0 slot read as a dual PDE even when IS_PTE says it holds a 2 MiB PTE", ""};
MutantInfo kSparseAsUnmapped{"nv2-sparse-as-unmapped", "nv_mmu_v2",
                              "the big PTE state S (sparse) written as U, as if sparse were unmapped: the small PTEs "
                              "beneath are read again",
                              ""};
MutantInfo kBigHalfShift12{"nv2-big-half-shift-12", "nv_mmu_v2",
                            "the dual PDE's big-page-table address written with the small half's shift (12, not 8)", ""};
MutantInfo kTargetedIgnoresSize{"nv2-targeted-ignores-size", "nv_mmu_v2",
                                 "a targeted (VADDR, SIZE) invalidate ignores SIZE and drops the 4 KiB at VADDR only", ""};

namespace {
Config config(const FormatConfig& c, bool architectural) { return Config{c.get("gpu", kTuring), architectural ? nullptr : c.mutant}; }

/// Aperture, then r/w/x as the PTE grants them, privilege and the harness bits (`vmref walk`).
std::string leaf_flags(const Leaf& l) {
  static const char* const kAperture[] = {"vid", "peer", "sys-coh", "sys-noncoh"};
  std::string f = kAperture[aperture(l.raw)];
  f += ' ';
  f += {'r', l.rights.w ? 'w' : '-', l.rights.x ? 'x' : '-'};
  f += l.rights.u ? " user" : " privileged";
  if (l.raw & kVol) f += " volatile";
  if (l.raw & kAtomicDisable) f += " no-atomic";
  if (std::uint64_t kind = l.raw >> kKindShift) f += " kind=" + std::to_string(kind);
  bool vid = aperture(l.raw) <= kPtePeer;
  if (vid && (l.raw & kHarnessG)) f += " global";
  if (vid && (l.raw & kHarnessA)) f += " accessed";
  if (vid && (l.raw & kHarnessD)) f += " dirty";
  return f;
}
}  // namespace

/// This format's GPU TLB (vmref/impl/gmmu_tlb.hpp): the leaf sizes a walk can fill
/// (4 KiB, 64 KiB big pages, 2 MiB at PD0, 512 MiB at PD1 (Ampere on)) and what the TLB mutants change.
gmmu::TlbConfig tlb_config(Mutant m) {
  gmmu::TlbConfig c{{1ull << 12, 1ull << 16, 1ull << 21, 1ull << 29}};
  c.ack_none_complete = m == &kAckNoneComplete;
  c.targeted_small_only = m == &kTargetedKeeps2M;
  c.targeted_one_page = m == &kTargetedIgnoresSize;
  return c;
}

/// What a GPU kernel writes besides the codec's entries (gmmu_words.hpp): the big half
/// with aperture VIDEO and shift 8, and the big PTE states U (0), I (PRIVILEGE), S (VOL).
std::shared_ptr<const gmmu::Words> words() {
  auto w = std::make_shared<gmmu::Words>();
  w->version = 2;
  w->big_in_use_marker = kViewBigInUse;
  w->big_half = [](std::uint64_t pa, Mutant m) {
    if (m == &kBigHalfShift12) pa >>= 4;  // the field holds PA >> 12 where the GMMU reads PA >> 8
    return arith::make_big<std::uint64_t>(pa, std::uint64_t{kPdeVid} << 1);
  };
  w->big_pt = [](std::uint64_t low) { return aperture(low) != kPdeInvalid ? arith::big_address<std::uint64_t>(low) : 0; };
  w->chunk_word = [](gmmu::Chunk state, Mutant m) -> std::uint64_t {
    if (state == gmmu::Chunk::I) return kPrivilege;
    return state == gmmu::Chunk::S && m != &kSparseAsUnmapped ? kVol : 0;
  };
  w->hides = [](std::uint64_t b) { return !arith::big_unmapped<std::uint64_t>(b); };
  w->big_state = big_state;
  w->tlb = tlb_config;
  w->owns = [](const RadixCodec& c) { return dynamic_cast<const Format*>(&c) != nullptr; };
  return w;
}

void register_format() {
  FormatInfo f;
  f.name = "nv_mmu_v2";
  f.title = "NVIDIA GMMU VER2 (Pascal..Ada): PD3..PD0, dual PDE, 49-bit GPU VA, PDB-tagged TLB ([NV-MMU2])";
  f.spec = "spec/formats/nv_mmu_v2.md";
  f.root_name = "PDB";
  f.params = {{"gpu", "NVIDIA GPU generation as compute capability x10: 60 Pascal, 70 Volta, 75 Turing, 86 Ampere, 89 Ada",
               kTuring, {kPascal, kVolta, kTuring, kAmpere, kAda}}};
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
  f.implied_params = {{"mmu", 2}};  // a GPU kernel's MMU version
  add_format(std::move(f));
  // Looked up so this folder names no kernel: a profile whose events put 2 MiB pages in
  // the TLB (a correct variant "thp"), and a GPU kernel's corrected variant (with `mmu`).
  kTargetedKeeps2M.profile = k2MLeafIgnored.profile = vocab::profile_with_variant("thp");
  kSparseAsUnmapped.profile = kTargetedIgnoresSize.profile = kBigHalfShift12.profile =
      vocab::profile_with_variant("fixed", "mmu");
  for (Mutant m : std::initializer_list<Mutant>{&kSmallHalfShift8, &kPdeValidBit, &kReadOnlyIgnored, &kAckNoneComplete,
                                               &kTargetedKeeps2M, &kPdePteAperture, &k2MLeafIgnored,
                                               &kSparseAsUnmapped, &kTargetedIgnoresSize, &kBigHalfShift12})
    add_mutant(*m);
}

}  // namespace vmref::impl::nv_mmu_v2
