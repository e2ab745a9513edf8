// The executable abstract model (spec/vmm.md): the shared core plus one layer per kernel
// of the profile, each operation dispatched to the layer that defines it. Readable
// first, fast enough second.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vmref/model/core.hpp"
#include "vmref/model/layer.hpp"
#include "vmref/model/registry.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::model {

class Model {
 public:
  /// `cpus` >= 1; `frame_capacity` frames of `page_size` bytes (a power of two >= 4096)
  /// besides the zero page. Throws std::invalid_argument on bad parameters.
  Model(const vocab::Profile& profile, unsigned cpus, std::uint64_t frame_capacity, std::uint64_t page_size);
  /// The same for a profile name ("linux", "zephyr:eager"); throws std::invalid_argument
  /// for an unknown one.
  Model(const std::string& profile, unsigned cpus, std::uint64_t frame_capacity, std::uint64_t page_size);
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  /// Applies one event. Errors the operation defines are returned in the Outcome; an
  /// event that cannot apply at all (or whose op the profile lacks) throws ModelError.
  Outcome apply(const Event& e);
  /// Everything the last `apply` changed in the shared state (for incremental invariant
  /// checks); spans a whole group of events chained with Event::cont.
  const Delta& delta() const { return core_->delta; }

  const vocab::Profile& profile() const { return profile_; }
  /// The invariants that judge this profile: the core's and its kernels', in registry
  /// order (computed once; the registry is complete before any model runs).
  const std::vector<const InvariantInfo*>& invariants() const;
  const Core& core() const { return *core_; }
  std::uint64_t page_size() const { return core_->page_size; }
  unsigned page_shift() const { return core_->page_shift; }
  const std::map<Asid, AddressSpace>& spaces() const { return core_->spaces; }
  const AddressSpace* space(Asid as) const { return core_->space(as); }
  const FrameTable& frames() const { return core_->frames; }
  const std::vector<CpuTlb>& cpus() const { return core_->cpus; }
  /// Number of may-hold entries (all CPUs) per frame.
  const std::vector<std::uint64_t>& held_index() const { return core_->held_index; }
  const std::vector<Object>& objects() const { return core_->objects; }
  /// Frames released by deferred-flush operations but still held (spec/vmm.md §3.3).
  const std::vector<FrameId>& pending() const { return core_->pending; }

  /// The layer of type L, or nullptr when the profile has none. Invariant checkers ask on
  /// every event, so the answer is remembered per type (a static tag's address is the key).
  template <class L> const L* layer() const {
    static const char tag = 0;
    for (const auto& [key, found] : layer_cache_)
      if (key == &tag) return static_cast<const L*>(found);
    const L* found = nullptr;
    for (const auto& l : layers_)
      if ((found = dynamic_cast<const L*>(l.get()))) break;
    layer_cache_.emplace_back(&tag, found);
    return found;
  }

  // Hidden kernel state settled by expectations (layer.hpp); every layer is asked.
  std::vector<Resolution> resolve_undetermined(Asid as, const std::function<bool(Va)>& kernel_split_at);
  bool learn_anon_pages(Asid as, Va va);
  std::optional<Settled> settle_present(Asid as, Va va, bool kernel_present);
  std::optional<Settled> settle_kept(Asid as, Va va, bool kernel_kept);

  /// How often each counted rule of the profile's kernels ran since construction, the
  /// layers' tables one after the other (rule_coverage.hpp); empty if none counts.
  std::vector<RuleCount> rule_coverage() const;

 private:
  struct Route { KernelLayer* layer = nullptr; Outcome (*fn)(KernelLayer&, const Event&) = nullptr; };
  vocab::Profile profile_;
  std::unique_ptr<Core> core_;
  std::vector<std::unique_ptr<KernelLayer>> layers_;  ///< bottom-up, core's first
  std::vector<Route> routes_;                          ///< by OpInfo::id
  bool continuing_ = false;  ///< the previous event had `cont`: keep accumulating the delta
  mutable std::vector<std::pair<const void*, const KernelLayer*>> layer_cache_;  ///< layer<L>() answers
  mutable std::vector<const InvariantInfo*> invariants_;
  mutable std::size_t invariants_seen_ = 0;  ///< registry size when invariants_ was built
};

}  // namespace vmref::model
