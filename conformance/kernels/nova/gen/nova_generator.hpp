// Random but well-formed nova call sequences (spec/kernels/nova.md) for fuzz campaigns
// (`vmref fuzz --layer model --profile nova[:VARIANT]`): prepares anywhere or at ranges
// straddling table boundaries, several pending at once, executes in any order with
// right or wrong PFN counts, maps, unmaps, accesses, injected failures at every
// allocation and execute/unmap step, and drops (after which a fresh VMM is made).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nova_events.hpp"
#include "vmref/conformance/draw.hpp"
#include "vmref/conformance/registry.hpp"

namespace vmref::nova {

class NovaGenerator : public conformance::Generator {
 public:
  NovaGenerator(conformance::Random rng, unsigned mmu);
  vocab::Event next() override;
  /// A successful prepare leaves a handle to execute, a successful map or execute one to
  /// unmap; a failed unmap under a variant that keeps the range leaves it mapped.
  void feedback(const vocab::Event& e, const vocab::Outcome& o) override;

 private:
  std::uint64_t pick(std::uint64_t n) { return conformance::draw(rng_, n); }
  std::uint64_t pages();
  /// A page count and a VA start (bytes) near a table boundary of some level.
  std::pair<std::uint64_t, vocab::Va> boundary_range();
  PrepareFail prepare_fail();
  StepFail step_fail(bool pde);
  void start_vmm();
  conformance::Random rng_;
  unsigned mmu_;
  std::vector<vocab::Event> setup_;
  struct Live {
    std::string handle;
    std::uint64_t pages;
    vocab::Va va;
  };
  std::vector<Live> prepared_, mapped_;
  /// Ranges of this VMM unmapped (their table paths stay installed) and ranges whose
  /// unmap failed (the TLB may still hold them): the last few of each.
  std::vector<Live> freed_, failed_;
  Live executing_;  ///< the prepared mapping the last execute named
  Live unmapping_;  ///< the mapped range the last unmap named
  /// Keeps the last 16 ranges of `list`.
  static void remember(std::vector<Live>& list, const Live& l);
  std::uint64_t next_handle_ = 0;
  Asid as_ = 1;
};

}  // namespace vmref::nova
