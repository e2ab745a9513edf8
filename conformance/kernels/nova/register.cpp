// The nova kernel's row in the conformance registry: its generator and its differential
// checker (spec/differential.md §4.3).
#include <memory>

#include "nova_generator.hpp"
#include "vmref/conformance/registry.hpp"

namespace vmref::nova {

std::unique_ptr<conformance::KernelChecker> make_checker(conformance::CheckerContext& ctx);

namespace {
/// map_pages of `per_call` pages, `calls` times at consecutive VAs (allocated anywhere),
/// then unmap_pages of each: GPU map and unmap cost per page (`vmref bench`).
conformance::PageBench page_bench(const vocab::Profile&, std::uint64_t per_call, std::uint64_t calls) {
  conformance::PageBench b;
  b.pages_per_call = per_call;
  vocab::AsCreateArgs c;
  c.as = 1;
  b.setup.push_back(vocab::make_event(vocab::ops::as_create, c));
  NewArgs n;
  n.as = 1;
  b.setup.push_back(vocab::make_event(ops::nova_new, n));
  for (std::uint64_t k = 0; k < calls; ++k) {
    MapArgs m;
    m.as = 1;
    m.pages = per_call;
    m.handle = "b" + std::to_string(k);
    m.pfn = 0x100000 + k * per_call;  // caller's VRAM frames, beside the table pages (N-C7)
    b.map.push_back(vocab::make_event(ops::map, m));
    UnmapArgs u;
    u.as = 1;
    u.handle = m.handle;
    b.unmap.push_back(vocab::make_event(ops::unmap, u));
  }
  return b;
}
}  // namespace

void register_conformance() {
  conformance::add_conformance_kernel(
      {kKernel,
       [](conformance::Random rng, const vocab::Profile& resolved, unsigned) -> std::unique_ptr<conformance::Generator> {
         return std::make_unique<NovaGenerator>(std::move(rng), resolved.params<NovaParams>(kKernel)->mmu);
       },
       make_checker, true, page_bench});
}

}  // namespace vmref::nova
