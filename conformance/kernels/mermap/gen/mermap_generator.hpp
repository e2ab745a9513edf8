// Random but well-formed mermap call sequences (spec/kernels/mermap.md) for fuzz
// campaigns: gets of every size class (zero, one page, up to a whole region and beyond),
// reserved gets, injected PTE-write failures, puts on the owning CPU, and teardowns
// (after which the mm goes away and the next calls run in a new one, as at exit).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "vmref/conformance/draw.hpp"
#include "mermap_events.hpp"
#include "vmref/conformance/registry.hpp"
#include "vmref/trace/codec.hpp"

namespace vmref::mermap {

class MermapGenerator : public conformance::Generator {
 public:
  MermapGenerator(conformance::Random rng, std::string profile, unsigned cpus, std::uint64_t region_pages);
  trace::Header header() const;
  vocab::Event next() override;
  /// Tells the generator how `e` ended (a failed get leaves no handle to put).
  void feedback(const vocab::Event& e, const vocab::Outcome& o) override;

 private:
  std::uint64_t pick(std::uint64_t n) { return conformance::draw(rng_, n); }
  void start_mm();
  conformance::Random rng_;
  std::string profile_;
  unsigned cpus_;
  std::uint64_t region_pages_;
  std::vector<vocab::Event> setup_;
  struct Live { std::string handle; int cpu; };
  std::vector<Live> live_;
  std::uint64_t next_handle_ = 0;
  bool prepared_ = false;
  Asid as_ = 1;  ///< teardown ends an mm: the next calls run in a fresh one
};

}  // namespace vmref::mermap
