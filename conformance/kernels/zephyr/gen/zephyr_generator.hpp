// Random but well-formed Zephyr call sequences (spec/kernels/zephyr.md) for fuzz
// campaigns: k_mem_map of every shape (on-demand, UNINIT, LOCK, and refused arguments),
// accesses that fault pages in and force NRU evictions, page out / page in / pin / unpin
// over parts of live regions, the NRU timer, and k_mem_unmap.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "vmref/conformance/draw.hpp"
#include "vmref/conformance/registry.hpp"
#include "vmref/trace/codec.hpp"
#include "zephyr_events.hpp"

namespace vmref::zephyr {

class ZephyrGenerator : public conformance::Generator {
 public:
  ZephyrGenerator(conformance::Random rng, std::string profile);
  /// The header of a campaign trace: kCampaignFrames page frames, so eviction is frequent.
  trace::Header header() const;
  vocab::Event next() override;
  /// Tells the generator how `e` ended (a successful map gives a region to use).
  void feedback(const vocab::Event& e, const vocab::Outcome& o) override;

 private:
  std::uint64_t pick(std::uint64_t n) { return conformance::draw(rng_, n); }
  struct Region { Va start; std::uint64_t pages; };
  /// A sub-range [addr, addr + len) of a live region, in whole pages.
  RangeArgs sub_range();
  conformance::Random rng_;
  std::string profile_;
  std::vector<Region> live_;
};

}  // namespace vmref::zephyr
