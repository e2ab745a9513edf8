// Random but well-formed ALMOS-MKH call sequences (profiles.md §2) for fuzz campaigns:
// processes whose reference cluster varies, vsegs of every type (STACK by LTID, MMAP
// types of every order, CODE/DATA at elf-zone addresses that may conflict), munmap of
// whole vsegs, ends and middles (and bad ranges), accesses from every cluster, fork,
// exec and exit.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "vmref/model/event.hpp"
#include "vmref/trace/codec.hpp"

namespace vmref::conformance {

class AlmosTrace {
 public:
  AlmosTrace(std::uint64_t seed, std::string profile, unsigned clusters);
  trace::Header header() const;
  model::Event next();
  /// Tells the generator how `e` ended (a vseg's base, a process that now exists).
  void feedback(const model::Event& e, const model::Outcome& o);

 private:
  std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  struct Range { model::Va start; std::uint64_t pages; };
  std::uint64_t any_pid() {
    auto it = procs_.begin();
    std::advance(it, static_cast<long>(pick(procs_.size())));
    return it->first;
  }
  std::mt19937_64 rng_;
  std::string profile_;
  unsigned clusters_;
  std::map<std::uint64_t, std::vector<Range>> procs_;  ///< pid -> vsegs it was given
  std::uint64_t next_pid_ = 1;
};

}  // namespace vmref::conformance
