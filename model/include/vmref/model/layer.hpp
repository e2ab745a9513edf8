// One kernel's part of the model (model/kernels/<k>/): its own state, its operations,
// and the hooks the core and the expectation checks call. A layer sees the shared core
// under the names the core uses, so a kernel's operations read like the core's.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vmref/model/core.hpp"
#include "vmref/model/rule_coverage.hpp"

namespace vmref::model {

/// A vseg boundary whose merge the model could not decide (spec/vmm.md §5): `at` and
/// whether the recording kernel had merged across it.
struct Resolution {
  Va at;
  bool merged;
};

/// A case the model could not decide from the trace and settled from what the kernel
/// showed (spec/trace-format.md §5): reported as undetermined, never as a finding.
struct Settled {
  std::string id;       ///< "UNDETERMINED-..."
  std::string message;
};

class KernelLayer {
 public:
  explicit KernelLayer(Core& c);
  virtual ~KernelLayer() = default;
  KernelLayer(const KernelLayer&) = delete;
  KernelLayer& operator=(const KernelLayer&) = delete;

  /// A new event group starts: forget the notes kept for the previous group's checks.
  virtual void begin_group() {}
  /// as_destroy of `as` is about to run; throw ModelError to refuse it, or drop the
  /// layer's own state of `as`.
  virtual void before_destroy(Asid) {}
  /// A mechanism `pte_set` wrote the entry at vpn of `as` (spec/vmm.md §2.6): a kernel
  /// whose non-present entries hold data of their own (Zephyr's location tokens) drops it.
  virtual void pte_installed(Asid, Vpn) {}

  // Hidden kernel state settled by expectations (spec/trace-format.md §3.5, §5). Each
  // returns what it settled; the defaults settle nothing.
  /// Settles undetermined vseg boundaries of `as`; `kernel_split_at(va)` is true when a
  /// kernel VMA starts at va.
  virtual std::vector<Resolution> resolve_undetermined(Asid, const std::function<bool(Va)>&) { return {}; }
  /// The kernel reports anonymous pages in the vseg containing `va`.
  virtual bool learn_anon_pages(Asid, Va) { return false; }
  /// The kernel shows whether the page at `va` is present.
  virtual std::optional<Settled> settle_present(Asid, Va, bool) { return std::nullopt; }
  /// The kernel shows whether the page at `va` kept its frame through its last COW fault.
  virtual std::optional<Settled> settle_kept(Asid, Va, bool) { return std::nullopt; }

  /// The layer's rule counters (rule_coverage.hpp), or nullptr when it counts none.
  virtual const RuleCoverage* rule_coverage() const { return nullptr; }

 protected:
  // The shared core (core.hpp) under its own names.
  Core& core_;
  FrameTable& frames_;
  std::vector<CpuTlb>& cpus_;
  std::vector<std::uint64_t>& held_index_;
  std::map<Asid, AddressSpace>& spaces_;
  std::vector<Object>& objects_;
  Delta& delta_;
  const std::uint64_t page_size_;
  const unsigned page_shift_;

  AddressSpace& space_of(Asid as, const char* field = "as") { return core_.space_of(as, field); }
  void install_pte(AddressSpace& s, Vpn vpn, const Pte& p) { core_.install_pte(s, vpn, p); }
  void note_superseded(Asid as, Vpn vpn, const Pte& old) { core_.note_superseded(as, vpn, old); }
  FrameId remove_pte(AddressSpace& s, Vpn vpn) { return core_.remove_pte(s, vpn); }
  void put_frame(FrameId f) { core_.put_frame(f); }
  void get_frame(FrameId f) { core_.get_frame(f); }
  void shootdown(Asid as, Vpn first, std::uint64_t count) { core_.shootdown(as, first, count); }
  void release_pending() { core_.release_pending(); }
  void unmap_ptes(AddressSpace& s, Va start, Va end, TlbMode m) { core_.unmap_ptes(s, start, end, m); }
  void unmap_range(AddressSpace& s, Va start, Va end, TlbMode m) { core_.unmap_range(s, start, end, m); }
  std::uint64_t page_round(std::uint64_t len) const { return core_.page_round(len); }
  /// A mechanism event that names its CPU must name one that exists (spec/trace-format.md §3.6).
  void check_step_cpu(const Event& e) const {
    if (e.cpu >= 0) core_.need_cpu(e.cpu);
  }
};

}  // namespace vmref::model
