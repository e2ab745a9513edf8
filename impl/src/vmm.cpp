// The composed implementation of a profile: the core's layer, then each kernel's, and
// the dispatch of every event to the layer that executes its operation.
#include <stdexcept>

#include "vmref/impl/engine_mutants.hpp"
#include "vmref/impl/registry.hpp"

namespace vmref::impl {

namespace {
/// The core's own operations as a layer, so that they dispatch like a kernel's.
class CoreOps : public KernelLayer {
 public:
  using KernelLayer::KernelLayer;
  Outcome as_create(const Event& e) { return core_.as_create(e); }
  Outcome as_destroy(const Event& e) { return core_.as_destroy(e); }
  Outcome switch_as(const Event& e) { return core_.switch_as(e); }
  Outcome tlb_flush(const Event& e) { return core_.tlb_flush(e); }
  Outcome observe(const Event&) { return {}; }
};

std::vector<std::unique_ptr<ImplKernelInfo>>& rows() {
  static std::vector<std::unique_ptr<ImplKernelInfo>> k;
  return k;
}

const ImplKernelInfo& info_of(const std::string& kernel) {
  const ImplKernelInfo* k = find_impl_kernel(kernel);
  if (!k) throw std::invalid_argument("kernel '" + kernel + "' has no optimized implementation");
  return *k;
}
}  // namespace

void add_impl_kernel(ImplKernelInfo k) {
  if (find_impl_kernel(k.kernel)) throw std::logic_error("implementation of '" + k.kernel + "' registered twice");
  rows().push_back(std::make_unique<ImplKernelInfo>(std::move(k)));
}

const ImplKernelInfo* find_impl_kernel(std::string_view kernel) {
  for (const auto& k : rows())
    if (k->kernel == kernel) return k.get();
  return nullptr;
}

void register_core_impl() {
  namespace ops = vocab::ops;
  add_impl_kernel({"core",
                   [](VmmCore& c, const vocab::KernelParams*) -> std::unique_ptr<KernelLayer> {
                     return std::make_unique<CoreOps>(c);
                   },
                   {{&ops::as_create, &call<CoreOps, &CoreOps::as_create>},
                    {&ops::as_destroy, &call<CoreOps, &CoreOps::as_destroy>},
                    {&ops::switch_as, &call<CoreOps, &CoreOps::switch_as>},
                    {&ops::tlb_flush, &call<CoreOps, &CoreOps::tlb_flush>},
                    {&ops::observe, &call<CoreOps, &CoreOps::observe>}}});
  register_engine_mutants();
}

Vmm::Vmm(const vocab::Profile& profile, const VmmConfig& cfg)
    : core_(std::make_unique<VmmCore>(cfg.frames, *cfg.codec, *cfg.mmu, cfg.mutant)) {
  std::vector<std::pair<const ImplKernelInfo*, const vocab::KernelParams*>> infos{{&info_of("core"), nullptr}};
  for (const vocab::Layer& l : profile.layers) infos.push_back({&info_of(l.kernel->name), l.params.get()});
  routes_.resize(vocab::all_ops().size());
  for (auto [info, params] : infos) {
    layers_.push_back(info->make(*core_, params));
    core_->layers.push_back(layers_.back().get());
    for (auto [op, fn] : info->handlers) routes_[op->id] = {layers_.back().get(), fn};
  }
}

Vmm::~Vmm() {
  core_->layers.clear();  // layers go first; the core's tables after them
  layers_.clear();
}

std::vector<MemoryImage> Vmm::images() const {
  std::vector<MemoryImage> out(1);
  out[0].name = "phys";
  out[0].mem = &core_->memory();
  for (Asid as : core_->spaces()) out[0].roots.emplace_back("as " + std::to_string(as), core_->space(as)->table.root());
  for (const auto& l : layers_) l->images(out);
  return out;
}

Outcome Vmm::apply(const Event& e) {
  const Route& r = routes_.at(e.op->id);
  if (!r.fn)
    throw Unsupported("op", std::string("operation '") + e.op->name +
                                "' is not implemented by the optimized implementation (spec/differential.md §4)");
  return r.fn(*r.layer, e);
}

}  // namespace vmref::impl
