// The toy kernel's generator (fuzz, gen): one address space, allocations of 1 to 64
// pages (now and then an invalid length), frees of live ones (now and then of an
// address never handed out), and the space's destruction and re-creation.
#include <random>
#include <vector>

#include "vmref/conformance/draw.hpp"
#include "toy_events.hpp"
#include "vmref/conformance/registry.hpp"

namespace vmref::toy {

using vocab::Event;

class ToyGenerator : public conformance::Generator {
 public:
  explicit ToyGenerator(conformance::Random rng) : rng_(std::move(rng)) {}

  Event next() override {
    if (!created_) {
      created_ = true;
      vocab::AsCreateArgs c;
      c.as = as_;
      return vocab::make_event(vocab::ops::as_create, c);
    }
    std::uint64_t r = pick(100);
    if (r < 1) {  // the space goes with everything in it
      vocab::SpaceArgs s;
      s.as = as_++;
      created_ = false;
      live_.clear();
      return vocab::make_event(vocab::ops::as_destroy, s);
    }
    if (r < 40 && !live_.empty()) {
      FreeArgs f;
      f.as = as_;
      f.addr = live_[pick(live_.size())];
      return vocab::make_event(ops::free, f);
    }
    if (r < 43) {
      FreeArgs f;
      f.as = as_;
      f.addr = kWindowStart + pick(4096) * 4096;  // rarely a live one: EINVAL expected
      return vocab::make_event(ops::free, f);
    }
    AllocArgs a;
    a.as = as_;
    a.len = r < 46 ? pick(2 * kMaxPages * 4096) : (1 + pick(64)) * 4096;
    return vocab::make_event(ops::alloc, a);
  }

  void feedback(const Event& e, const vocab::Outcome& o) override {
    if (o.err != vocab::Err::ok) return;
    if (e.op == &ops::alloc) live_.push_back(o.ret);
    if (e.op == &ops::free) std::erase(live_, e.get<FreeArgs>().addr);
  }

 private:
  std::uint64_t pick(std::uint64_t n) { return conformance::draw(rng_, n); }
  conformance::Random rng_;
  Asid as_ = 1;
  bool created_ = false;
  std::vector<Va> live_;
};

void register_conformance() {
  conformance::add_conformance_kernel(
      {kKernel,
       [](conformance::Random rng, const vocab::Profile&, unsigned) -> std::unique_ptr<conformance::Generator> {
         return std::make_unique<ToyGenerator>(std::move(rng));
       },
       nullptr});
}

}  // namespace vmref::toy
