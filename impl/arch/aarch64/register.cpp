// The AArch64 format's rows: the codec and the architectural decoder (VMSAv8-64 stage 1,
// the granule and the VA width), the ASID-aware Mmu issuing TLBI and DSB, the reference
// TLB transcribing their rules, TTBR0_EL1 as the root register, and the format's mutants.
#include "vmref/impl/format.hpp"
#include "vmref/impl/radix_walk.hpp"
#include "vmref/vocab/registry.hpp"
#include "aarch64_bbm.hpp"
#include "aarch64_format.hpp"
#include "aarch64_mutants.hpp"
#include "aarch64_reference_tlb.hpp"
#include "aarch64_tlb.hpp"

namespace vmref::impl::aarch64 {

const MutantInfo kTlbiWithoutDsb{"tlbi-without-dsb", "aarch64",
                                 "a TLBI is taken as complete without the DSB that must follow it", ""};
MutantInfo kTlbiVaKeepsBlocks{"tlbi-va-keeps-blocks", "aarch64",
                              "TLBI VAE1 drops page entries only, keeping a block entry that covers the VA", ""};
const MutantInfo kAsidTlbiDropsGlobals{"asid-tlbi-drops-globals", "aarch64", "TLBI ASIDE1 also drops global (nG=0) entries",
                                       ""};
const MutantInfo kEl0AlwaysSet{"el0-always-set", "aarch64", "every leaf written with AP[1]=1 (EL0 access), kernel pages included",
                               ""};
const MutantInfo kUxnPxnSwapped{"uxn-pxn-swapped", "aarch64", "leaves written with UXN and PXN exchanged", ""};
const MutantInfo kVale1ForTables{"vale1-for-tables", "aarch64",
                                 "page shootdowns use TLBI VALE1 (leaves only), so a freed table's entry is rewritten unclean", ""};
const MutantInfo kAfNotSet{"af-not-set", "aarch64", "the hardware walk never sets AF (and takes no access-flag fault)", ""};

namespace {
/// A profile whose events put blocks in the TLB: the first correct kernel variant named
/// "thp" (transparent huge pages); "" when no kernel has one. Looked up in the kernel
/// registry (filled before the formats) so this folder names no kernel.
const char* block_profile() {
  static std::string profile;
  for (const vocab::KernelInfo* k : vocab::kernels())
    for (const vocab::VariantInfo& v : k->variants)
      if (profile.empty() && v.name == "thp" && !v.broken) profile = k->name + ":" + v.name;
  return profile.c_str();
}

Config config(const FormatConfig& c, bool engine) {
  return Config{c.get("granule", 4), c.get("va-bits", 48), engine, engine ? c.mutant : nullptr};
}

unsigned page_shift(const FormatConfig& c) { return Format(config(c, false)).page_shift(); }

/// Effective W/X and EL0 access, then global, accessed, dirty and the memory attribute
/// index, as one comparable string (`vmref walk`).
std::string leaf_flags(const Leaf& l) {
  std::string f{'r', l.rights.w ? 'w' : '-', l.rights.x ? 'x' : '-'};
  f += l.rights.u ? " el0" : " el1";
  if (!(l.raw & kNg)) f += " global";
  if (l.raw & kAf) f += " accessed";
  if ((l.raw & arith::kDbm) ? !(l.raw & arith::kApRdonly) : (l.raw & kSwDirty) != 0) f += " dirty";
  if (l.raw & kContiguous) f += " contiguous";
  f += " attr" + std::to_string((l.raw >> kAttrIndxShift) & 7);
  return f;
}
}  // namespace

void register_format() {
  FormatInfo f;
  f.name = "aarch64";
  f.title = "AArch64 VMSAv8-64 stage 1, 4K/16K/64K granules, ASIDs, TLBI + DSB (Arm ARM DDI 0487 D8)";
  f.spec = "spec/formats/aarch64.md";
  f.root_name = "TTBR0_EL1";
  f.params = {{"granule", "AArch64 translation granule in KiB (TCR_EL1.TG0); the engine builds 4 KiB only", 4, {4, 16, 64}},
              {"va-bits", "AArch64 tree width: TTBR0 and TTBR1 regions of va-bits-1 bits each (T0SZ=T1SZ=65-va-bits)", 48,
               {}, 25, 49},
              {"asid-bits", "AArch64 ASID size (TCR_EL1.AS: 8 or 16 bits)", 16, {8, 16}},
              {"bbm", "AArch64 changes allowed without break-before-make: 0 the architecture's, 1 the pgattr_change_is_safe allow-list, 2 BBML2",
               0, {0, 1, 2}}};
  f.codec = [](const FormatConfig& c) -> std::unique_ptr<RadixCodec> { return std::make_unique<Format>(config(c, true)); };
  f.decoder = [](const FormatConfig& c) -> std::unique_ptr<RadixCodec> { return std::make_unique<Format>(config(c, false)); };
  f.mmu = [](unsigned cpus, const FormatConfig& c) -> std::unique_ptr<vmref::impl::Mmu> {
    auto m = std::make_unique<Mmu>(cpus, c.get("asid-bits", 16), page_shift(c), c.mutant);
    m->check_bbm(std::make_unique<BreakBeforeMake>(Format(config(c, false)), static_cast<BbmRule>(c.get("bbm", 0))));
    return m;
  };
  f.reference = [](vmref::impl::Mmu& m) -> std::unique_ptr<vmref::impl::ReferenceTlb> {
    return std::make_unique<ReferenceTlb>(static_cast<Mmu&>(m));
  };
  f.root_address = [](std::uint64_t ttbr0, const FormatConfig& c) {
    Format d(config(c, false));
    return root_from_ttbr0(ttbr0, std::uint64_t{8} << d.index_bits(0));
  };
  f.leaf_flags = leaf_flags;
  add_format(std::move(f));
  kTlbiVaKeepsBlocks.profile = block_profile();
  for (Mutant m : std::initializer_list<Mutant>{&kTlbiWithoutDsb, &kTlbiVaKeepsBlocks, &kAsidTlbiDropsGlobals, &kEl0AlwaysSet,
                                               &kUxnPxnSwapped, &kAfNotSet, &kVale1ForTables})
    add_mutant(*m);
}

}  // namespace vmref::impl::aarch64
