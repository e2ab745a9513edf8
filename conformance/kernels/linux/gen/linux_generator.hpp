// Random but well-formed event streams for the linux kernel (spec/kernels/linux.md):
// differential fuzzing, property tests and synthetic benchmark traces (`vmref gen`).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "vmref/conformance/draw.hpp"
#include "linux_events.hpp"
#include "vmref/conformance/registry.hpp"
#include "vmref/trace/codec.hpp"

namespace vmref::linux_mm {

struct GeneratorParams {
  unsigned cpus = 2;
  unsigned max_spaces = 4;            ///< fork stops at this many live address spaces
  std::uint64_t window_pages = 256;   ///< operations target [kWindow, kWindow + pages)
  std::uint64_t max_map_pages = 16;
  /// Some mappings carry the `global` flag and some flushes `with_global`, so global
  /// TLB entries are exercised (differential fuzzing of the implementations).
  bool global_maps = false;
  /// Some switches name a PCID-like tag out of kTags, loaded with a flush whenever the
  /// CPU last used it for another address space (as Linux's per-CPU ASIDs are), and some
  /// flushes name one, so tagged TLBs are exercised (spec/vmm.md §2.3).
  bool tagged_switches = false;
  static constexpr std::uint32_t kTags = 4;
  /// For huge leaves (spec/kernels/linux.md §1.13): a window of 8 MiB, mappings and range
  /// operations up to 4 MiB, and half the addresses aligned to 2 MiB, so that faults find
  /// whole aligned ranges and partial changes cut huge leaves.
  bool huge = false;
  static constexpr std::uint64_t kHugePages = 512;
};

/// Generates events that are always applicable (no ModelError): address spaces are
/// created before use, CPUs switch before they access, pins are released by handle.
/// Deterministic for a given seed.
class LinuxGenerator : public conformance::Generator {
 public:
  static constexpr Va kWindow = 0x10000000;
  explicit LinuxGenerator(conformance::Random rng, GeneratorParams p = {});
  trace::Header header() const;
  /// The next event; the first ones create address space 1 and put CPUs on it.
  vocab::Event next() override;
  /// Tells the generator how `e` ended, so it never unpins a pin that failed.
  void feedback(const vocab::Event& e, const vocab::Outcome& o) override;

 private:
  std::uint64_t pick(std::uint64_t n) { return conformance::draw(rng_, n); }
  Va window_va() {
    std::uint64_t page = pick(p_.window_pages);
    if (p_.huge && pick(2) == 0) page &= ~(GeneratorParams::kHugePages - 1);
    return kWindow + page * 4096;
  }
  /// A mapping or range length in bytes: up to max_map_pages; whole huge pages at times.
  std::uint64_t range_len() {
    if (p_.huge && pick(4) == 0) return (1 + pick(2)) * GeneratorParams::kHugePages * 4096;
    return (1 + pick(p_.max_map_pages)) * 4096;
  }
  Asid any_space() { return spaces_[pick(spaces_.size())]; }
  vocab::Event mmap();
  vocab::Event range_op(const vocab::OpInfo& op);
  vocab::Event access();
  vocab::Event fork_or_exit();
  vocab::Event flush();
  vocab::Event pin_or_unpin();

  conformance::Random rng_;
  GeneratorParams p_;
  std::vector<Asid> spaces_;
  std::vector<Asid> cpu_as_;
  std::vector<std::map<std::uint32_t, Asid>> cpu_tags_;  ///< per CPU: tag -> space it last loaded
  std::vector<std::string> pins_;
  std::vector<vocab::Event> outside_;  ///< munmaps of hint maps placed outside the window
  Asid next_as_ = 1;
  std::uint64_t next_pin_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace vmref::linux_mm
