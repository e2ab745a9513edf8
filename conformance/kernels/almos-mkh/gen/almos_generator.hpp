// Random but well-formed ALMOS-MKH call sequences (spec/kernels/almos-mkh.md) for fuzz
// campaigns: processes, vsegs of every type, munmap cases (a)-(d), accesses from every
// cluster (false and true faults, COW), fork, exec and exit.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "vmref/conformance/draw.hpp"
#include "almos_events.hpp"
#include "vmref/conformance/registry.hpp"
#include "vmref/trace/codec.hpp"

namespace vmref::almos {

class AlmosGenerator : public conformance::Generator {
 public:
  AlmosGenerator(conformance::Random rng, std::string profile, unsigned clusters);
  trace::Header header() const;
  vocab::Event next() override;
  /// Tells the generator how `e` ended (a vseg's base, a process that now exists).
  void feedback(const vocab::Event& e, const vocab::Outcome& o) override;

 private:
  std::uint64_t pick(std::uint64_t n) { return conformance::draw(rng_, n); }
  struct Range { Va start; std::uint64_t pages; };
  std::uint64_t any_pid() {
    auto it = procs_.begin();
    std::advance(it, static_cast<long>(pick(procs_.size())));
    return it->first;
  }
  conformance::Random rng_;
  std::string profile_;
  unsigned clusters_;
  std::map<std::uint64_t, std::vector<Range>> procs_;  ///< pid -> vsegs it was given
  std::uint64_t next_pid_ = 1;
};

}  // namespace vmref::almos
