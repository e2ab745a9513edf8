// Random but well-formed event streams for the `linux` profile: property tests,
// synthetic benchmark traces (`vmref gen`), and later differential fuzzing.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "vmref/model/event.hpp"
#include "vmref/trace/codec.hpp"

namespace vmref::conformance {

struct RandomTraceParams {
  unsigned cpus = 2;
  unsigned max_spaces = 4;            ///< fork stops at this many live address spaces
  std::uint64_t window_pages = 256;   ///< operations target [kWindow, kWindow + pages)
  std::uint64_t max_map_pages = 16;
  bool mechanism_events = false;      ///< never set for the linux-profile generator
  /// Some mappings carry the `global` flag and some flushes `with_global`, so global
  /// TLB entries are exercised (differential fuzzing of the implementations).
  bool global_maps = false;
};

/// Generates events that are always applicable (no ModelError): address spaces are
/// created before use, CPUs switch before they access, pins are released by handle.
/// Deterministic for a given seed.
class RandomTrace {
 public:
  static constexpr model::Va kWindow = 0x10000000;
  RandomTrace(std::uint64_t seed, RandomTraceParams p = {});
  trace::Header header() const;
  /// The next event; the first ones create address space 1 and put CPUs on it.
  model::Event next();
  /// Tells the generator how `e` ended, so it never unpins a pin that failed.
  void feedback(const model::Event& e, const model::Outcome& o);

 private:
  std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  model::Va window_va() { return kWindow + pick(p_.window_pages) * 4096; }
  model::Event mmap();
  model::Event range_op(model::Op op);
  model::Event access();
  model::Event fork_or_exit();
  model::Event flush();
  model::Event pin_or_unpin();

  std::mt19937_64 rng_;
  RandomTraceParams p_;
  std::vector<model::Asid> spaces_;
  std::vector<model::Asid> cpu_as_;
  std::vector<std::string> pins_;
  std::vector<std::pair<model::Asid, model::Event>> outside_;  ///< hint maps placed outside the window
  model::Asid next_as_ = 1;
  std::uint64_t next_pin_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace vmref::conformance
