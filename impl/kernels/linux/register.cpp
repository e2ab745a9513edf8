// The linux implementation's rows: its layer, its operations, its mutants.
#include "linux_vmm.hpp"
#include "vmref/impl/registry.hpp"

namespace vmref::linux_mm {

using namespace vmref::impl;

const MutantInfo kNoInvlpgAfterUnmap{"no-invlpg-after-unmap", kKernel, "munmap clears PTEs but invalidates no TLB entry",
                                     kKernel};
const MutantInfo kCowKeepsOldCount{"cow-keeps-old-count", kKernel, "a COW copy forgets to drop the old frame's reference",
                                   kKernel};
const MutantInfo kMergeIgnoresProt{"merge-ignores-prot", kKernel, "adjacent VMAs merge even when their rights differ",
                                   kKernel};
const MutantInfo kHintIgnored{"hint-ignored", kKernel, "mmap without MAP_FIXED ignores a free hint address", kKernel};
const MutantInfo kFlushOwnPcidOnly{"flush-own-pcid-only", kKernel,
                                   "munmap invalidates the mm's pages under its own PCID only, not the PCIDs it ran under",
                                   kKernel};

const MutantInfo kSplitSkipsFlush{"split-skips-flush", kKernel,
                                  "a huge-leaf split writes the base PTEs without invalidating the 2 MiB entry",
                                  "linux:thp"};
const MutantInfo kSplitLosesFolioRefs{"split-loses-folio-refs", kKernel,
                                      "a huge-leaf split gives its 511 new base PTEs no folio reference", "linux:thp"};

void register_impl() {
  add_impl_kernel({kKernel,
                   [](VmmCore& c, const vocab::KernelParams* p) -> std::unique_ptr<KernelLayer> {
                     return std::make_unique<LinuxVmm>(c, static_cast<const LinuxParams&>(*p));
                   },
                   {{&ops::mmap, &call<LinuxVmm, &LinuxVmm::mmap>},
                    {&ops::munmap, &call<LinuxVmm, &LinuxVmm::munmap>},
                    {&ops::mprotect, &call<LinuxVmm, &LinuxVmm::mprotect>},
                    {&ops::brk, &call<LinuxVmm, &LinuxVmm::brk>},
                    {&ops::fork, &call<LinuxVmm, &LinuxVmm::fork>},
                    {&ops::exec_reset, &call<LinuxVmm, &LinuxVmm::exec_reset>},
                    {&vocab::ops::access, &call<LinuxVmm, &LinuxVmm::access>},
                    {&ops::pin, &call<LinuxVmm, &LinuxVmm::pin>},
                    {&ops::unpin, &call<LinuxVmm, &LinuxVmm::unpin>}}});
  for (const MutantInfo* m : {&kNoInvlpgAfterUnmap, &kCowKeepsOldCount, &kMergeIgnoresProt, &kHintIgnored, &kFlushOwnPcidOnly,
                              &kSplitSkipsFlush, &kSplitLosesFolioRefs})
    add_mutant(*m);
}

}  // namespace vmref::linux_mm
