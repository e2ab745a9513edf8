// The RISC-V format's rows: the codec and the architectural decoder (Sv39/48/57, the A/D
// policy), the ASID-aware Mmu, the reference TLB transcribing SFENCE.VMA, satp as the
// root register, and the format's mutants.
#include "vmref/impl/format.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "vmref/vocab/registry.hpp"
#include "riscv_format.hpp"
#include "riscv_listing.hpp"
#include "riscv_mutants.hpp"
#include "riscv_reference_tlb.hpp"
#include "riscv_tlb.hpp"

namespace vmref::impl::riscv {

MutantInfo kFenceVaKeepsSuperpages{"sfence-va-keeps-superpages", "riscv",
                                   "SFENCE.VMA rs1=va drops 4 KiB entries only, keeping a superpage that covers va", ""};
const MutantInfo kAsidFenceDropsGlobals{"asid-fence-drops-globals", "riscv",
                                        "SFENCE.VMA x0, asid also drops global entries", ""};
const MutantInfo kWriteWithoutRead{"w-without-r", "riscv",
                                   "writable leaves written R=0 W=1 (a reserved encoding) and walked as valid", ""};
const MutantInfo kUserAlwaysSet{"u-always-set", "riscv", "every leaf written with U=1, supervisor pages included", ""};
const MutantInfo kDirtyNotSet{"d-not-set", "riscv", "the hardware walk sets A but never D on a store", ""};
const MutantInfo kSinvalWithoutInvalIr{
    "sinval-without-inval-ir", "riscv",
    "Svinval: SINVAL.VMA with no SFENCE.INVAL.IR after it, and the TLB counts the invalidation as complete", ""};
const MutantInfo kSinvalBeforeWInval{
    "sinval-before-w-inval", "riscv",
    "Svinval: SINVAL.VMA issued before SFENCE.W.INVAL (not ordered after the PTE stores), and the TLB counts it", ""};
const MutantInfo kMisalignedSuperpage{"misaligned-superpage", "riscv",
                                      "a superpage's PPN written in units of its size (misaligned) and decoded instead of faulting",
                                      ""};

namespace {
/// A profile whose events put superpages in the TLB: the first correct kernel variant named
/// "thp" (transparent huge pages); "" when no kernel has one. Looked up in the kernel
/// registry (filled before the formats) so this folder names no kernel.
const char* superpage_profile() {
  static std::string profile;
  for (const vocab::KernelInfo* k : vocab::kernels())
    for (const vocab::VariantInfo& v : k->variants)
      if (profile.empty() && v.name == "thp" && !v.broken) profile = k->name + ":" + v.name;
  return profile.c_str();
}

Config config(const FormatConfig& c, bool architectural) {
  return Config{c.get("sv", 48), c.get("ad-fault", 0) != 0, architectural ? nullptr : c.mutant};
}

/// The leaf's own R, effective W/X/U, then G/A/D, as one comparable string (`vmref walk`).
std::string leaf_flags(const Leaf& l) {
  std::string f{(l.raw & kR) ? 'r' : '-', l.rights.w ? 'w' : '-', l.rights.x ? 'x' : '-'};
  f += l.rights.u ? " user" : " supervisor";
  if (l.raw & kG) f += " global";
  if (l.raw & kA) f += " accessed";
  if (l.raw & kD) f += " dirty";
  return f;
}
}  // namespace

void register_format() {
  FormatInfo f;
  f.name = "riscv";
  f.title = "RISC-V Sv39/Sv48/Sv57 paging with ASIDs and SFENCE.VMA (Privileged ISA 20211203 ch. 4)";
  f.spec = "spec/formats/riscv.md";
  f.root_name = "satp";
  f.params = {{"sv", "RISC-V paging mode: Sv39, Sv48 or Sv57 (satp.MODE 8, 9, 10)", 48, {39, 48, 57}},
              {"ad-fault", "RISC-V Svade: a leaf with A=0, or D=0 on a store, faults (1) instead of hardware A/D updates",
               0, {0, 1}},
              {"svinval", "RISC-V Svinval: fence with SFENCE.W.INVAL; SINVAL.VMA; SFENCE.INVAL.IR (1) instead of SFENCE.VMA",
               0, {0, 1}}};
  f.codec = [](const FormatConfig& c) -> std::unique_ptr<RadixCodec> { return std::make_unique<Format>(config(c, false)); };
  f.decoder = [](const FormatConfig& c) -> std::unique_ptr<RadixCodec> { return std::make_unique<Format>(config(c, true)); };
  f.mmu = [](unsigned cpus, const FormatConfig& c) -> std::unique_ptr<vmref::impl::Mmu> {
    return std::make_unique<Mmu>(cpus, c.get("sv", 48), c.mutant, c.get("svinval", 0) != 0);
  };
  f.reference = [](vmref::impl::Mmu& m) -> std::unique_ptr<vmref::impl::ReferenceTlb> {
    auto& mmu = static_cast<Mmu&>(m);
    return std::make_unique<ReferenceTlb>(mmu, mmu.sv());
  };
  f.root_address = [](std::uint64_t satp, const FormatConfig& c) { return root_from_satp(satp, c.get("sv", 48)); };
  f.leaf_flags = leaf_flags;
  f.listings = {{"qemu-mem", qemu_info_mem}};
  add_format(std::move(f));
  kFenceVaKeepsSuperpages.profile = superpage_profile();
  for (Mutant m : std::initializer_list<Mutant>{&kFenceVaKeepsSuperpages, &kAsidFenceDropsGlobals, &kWriteWithoutRead,
                                               &kUserAlwaysSet, &kDirtyNotSet, &kMisalignedSuperpage, &kSinvalWithoutInvalIr,
                                               &kSinvalBeforeWInval})
    add_mutant(*m);
}

}  // namespace vmref::impl::riscv
