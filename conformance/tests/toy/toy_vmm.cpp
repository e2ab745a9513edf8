// The toy kernel's implementation (toy.md), written apart from the model: a bitmap of
// the window's pages with a first-fit scan for a free run, and a table of allocation
// sizes by first page. Includes no model header (the layout check enforces it).
#include <bitset>
#include <map>

#include "toy_events.hpp"
#include "vmref/impl/mutant.hpp"
#include "vmref/impl/registry.hpp"

namespace vmref::toy {

using impl::Outcome;
using vocab::Err;
using vocab::Event;

const impl::MutantInfo kSkipsFirstPage{"toy-skips-first-page", kKernel,
                                       "the first-fit scan never considers the window's first page", kKernel};

class ToyVmm : public impl::KernelLayer {
 public:
  static constexpr std::size_t kPages = (kWindowEnd - kWindowStart) >> 12;

  ToyVmm(impl::VmmCore& core, impl::Mutant m) : KernelLayer(core), mutant_(m) {}

  Outcome alloc(const Event& e) {
    const auto& a = e.get<AllocArgs>();
    Window& w = window(a.as);
    if (a.len == 0 || (a.len & 0xfff) || (a.len >> 12) > kMaxPages) return {Err::einval};
    std::size_t want = a.len >> 12, run = 0;
    for (std::size_t p = mutant_ == &kSkipsFirstPage ? 1 : 0; p < kPages; ++p) {
      run = w.used[p] ? 0 : run + 1;
      if (run < want) continue;
      std::size_t first = p + 1 - want;
      for (std::size_t q = first; q <= p; ++q) w.used.set(q);
      w.sizes[first] = want;
      Outcome o;
      o.ret = kWindowStart + (first << 12);
      return o;
    }
    return {Err::enomem};
  }

  Outcome free(const Event& e) {
    const auto& a = e.get<FreeArgs>();
    Window& w = window(a.as);
    if (a.addr < kWindowStart || a.addr >= kWindowEnd || (a.addr & 0xfff)) return {Err::einval};
    auto it = w.sizes.find((a.addr - kWindowStart) >> 12);
    if (it == w.sizes.end()) return {Err::einval};
    for (std::size_t q = it->first; q < it->first + it->second; ++q) w.used.reset(q);
    w.sizes.erase(it);
    return {};
  }

  void before_destroy(Asid as) override { windows_.erase(as); }

 private:
  struct Window {
    std::bitset<kPages> used;
    std::map<std::size_t, std::size_t> sizes;  ///< first page -> pages
  };
  Window& window(Asid as) {
    core_.space_of(as);  // refuses an address space that does not exist
    return windows_[as];
  }
  impl::Mutant mutant_;
  std::map<Asid, Window> windows_;
};

void register_impl() {
  impl::add_mutant(kSkipsFirstPage);
  impl::add_impl_kernel({kKernel,
                         [](impl::VmmCore& c, const vocab::KernelParams*) -> std::unique_ptr<impl::KernelLayer> {
                           return std::make_unique<ToyVmm>(c, c.mutant());
                         },
                         {{&ops::alloc, &impl::call<ToyVmm, &ToyVmm::alloc>},
                          {&ops::free, &impl::call<ToyVmm, &ToyVmm::free>}}});
}

}  // namespace vmref::toy
