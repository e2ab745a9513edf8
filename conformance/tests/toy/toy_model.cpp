// The toy kernel's model layer (toy.md): per address space, the live allocations as a
// multimap (the broken variant may hand out one start twice), first fit by a walk over
// them, and INV-TOY-1.
#include <map>

#include "toy_events.hpp"
#include "vmref/model/invariants.hpp"
#include "vmref/model/layer.hpp"
#include "vmref/model/registry.hpp"

namespace vmref::toy {

using model::Outcome;
using vocab::Err;
using vocab::Event;

class ToyModel : public model::KernelLayer {
 public:
  ToyModel(model::Core& core, const ToyParams& p) : KernelLayer(core), p_(p) {}

  /// toy.md §1: lowest gap of the window that holds `len` bytes.
  Outcome alloc(const Event& e) {
    const auto& a = e.get<AllocArgs>();
    space_of(a.as);
    Outcome o;
    if (a.len == 0 || a.len % page_size_ || a.len / page_size_ > kMaxPages) return {Err::einval};
    auto& live = live_[a.as];
    Va start = kWindowStart;
    if (p_.respect_live)
      for (const auto& [s, len] : live) {
        if (start + a.len <= s) break;
        start = std::max(start, s + len);
      }
    if (start + a.len > kWindowEnd) return {Err::enomem};
    live.emplace(start, a.len);
    o.ret = start;
    return o;
  }

  /// toy.md §1: the allocation starting at `addr` goes.
  Outcome free(const Event& e) {
    const auto& a = e.get<FreeArgs>();
    space_of(a.as);
    auto& live = live_[a.as];
    auto it = live.find(a.addr);
    if (it == live.end()) return {Err::einval};
    live.erase(it);
    return {};
  }

  void before_destroy(Asid as) override { live_.erase(as); }
  const std::map<Asid, std::multimap<Va, std::uint64_t>>& live() const { return live_; }

 private:
  ToyParams p_;
  std::map<Asid, std::multimap<Va, std::uint64_t>> live_;  ///< as -> start -> bytes
};

namespace {
/// INV-TOY-1 (toy.md §2): inside the window, pairwise disjoint (sorted: neighbours suffice).
void check_toy_1(const model::CheckScope& sc, std::vector<model::Violation>& out) {
  for (const auto& [as, live] : sc.m.layer<ToyModel>()->live()) {
    Va prev_end = kWindowStart;
    for (const auto& [start, len] : live) {
      std::string what = "as " + std::to_string(as) + ": [" + trace::hex(start) + ", " + trace::hex(start + len) + ")";
      if (start < kWindowStart || start + len > kWindowEnd)
        out.push_back({"INV-TOY-1", what + " lies outside the toy window"});
      else if (start < prev_end)
        out.push_back({"INV-TOY-1", what + " overlaps the allocation below it"});
      prev_end = std::max(prev_end, start + len);
    }
  }
}
}  // namespace

void register_model() {
  model::add_model_kernel({kKernel, nullptr,
                           [](model::Core& c, const vocab::KernelParams* p) -> std::unique_ptr<model::KernelLayer> {
                             return std::make_unique<ToyModel>(c, static_cast<const ToyParams&>(*p));
                           },
                           {{&ops::alloc, &model::call<ToyModel, &ToyModel::alloc>},
                            {&ops::free, &model::call<ToyModel, &ToyModel::free>}}});
  model::add_invariant({"INV-TOY-1", "live toy allocations lie inside the window and are pairwise disjoint",
                        "conformance/tests/toy/toy.md §2", kKernel, check_toy_1});
}

}  // namespace vmref::toy
