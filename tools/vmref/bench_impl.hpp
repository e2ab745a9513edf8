// `vmref bench --impl FORMAT`: per-page costs of the page-table engine in that format and
// the throughput of differential fuzzing (model alone, implementation alone, both).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace vmref::cli {

struct ImplBenchArgs {
  std::string format, profile;
  std::map<std::string, unsigned> params;  ///< the format's parameters
  std::uint64_t pages = 16384;    ///< 4 KiB pages per map/protect/unmap run (64 MiB)
  std::uint64_t batch = 64;       ///< pages per timed sample
  std::uint64_t events = 200000;  ///< events for the fuzz-throughput runs
  unsigned runs = 5;              ///< repetitions pooled into the percentiles
  unsigned cpus = 2;
  std::uint64_t seed = 1;
};

/// Prints the figures; returns a CLI exit code.
int bench_impl(const ImplBenchArgs& a);

}  // namespace vmref::cli
