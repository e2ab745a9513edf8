// Random but well-formed Zephyr call sequences (profiles.md §3) for fuzz campaigns:
// k_mem_map of every shape (on-demand, UNINIT, LOCK, and refused arguments), accesses
// that fault pages in and force NRU evictions, page out / page in / pin / unpin over
// parts of live regions, the NRU timer, and k_mem_unmap.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "vmref/model/event.hpp"
#include "vmref/trace/codec.hpp"

namespace vmref::conformance {

class ZephyrTrace {
 public:
  /// `frames` page frames in the header: small, so that eviction is frequent.
  static constexpr std::uint64_t kFrames = 24;
  ZephyrTrace(std::uint64_t seed, std::string profile);
  trace::Header header() const;
  model::Event next();
  /// Tells the generator how `e` ended (a successful map gives a region to use).
  void feedback(const model::Event& e, const model::Outcome& o);

 private:
  std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  struct Region { model::Va start; std::uint64_t pages; };
  /// A sub-range [addr, addr + len) of a live region, in whole pages.
  void sub_range(model::Event& e);
  std::mt19937_64 rng_;
  std::string profile_;
  std::vector<Region> live_;
};

}  // namespace vmref::conformance
