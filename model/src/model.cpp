// The model: the core plus the profile's kernel layers, and the dispatch of each event
// to the layer that executes its operation.
#include "vmref/model/model.hpp"

#include "vmref/model/registry.hpp"

namespace vmref::model {

namespace {
const ModelKernelInfo& layer_info(const std::string& kernel) {
  const ModelKernelInfo* k = find_model_kernel(kernel);
  if (!k) throw std::invalid_argument("kernel '" + kernel + "' has no model layer");
  return *k;
}
}  // namespace

Model::Model(const vocab::Profile& profile, unsigned cpus, std::uint64_t frame_capacity, std::uint64_t page_size)
    : profile_(profile) {
  CoreConfig cfg;
  cfg.cpus = cpus;
  cfg.frames = frame_capacity;
  cfg.page_size = page_size;
  for (const vocab::Layer& l : profile_.layers)
    if (auto configure = layer_info(l.kernel->name).configure) configure(l.params.get(), cfg);
  core_ = std::make_unique<Core>(cfg);
  // The core's layer first, then each kernel bottom-up: a higher layer's handler for an
  // operation replaces a lower one's (zephyr's access replaces none: linux is not below it).
  std::vector<std::pair<const ModelKernelInfo*, const vocab::KernelParams*>> infos{{&layer_info("core"), nullptr}};
  for (const vocab::Layer& l : profile_.layers) infos.push_back({&layer_info(l.kernel->name), l.params.get()});
  routes_.resize(vocab::all_ops().size());
  for (auto [info, params] : infos) {
    layers_.push_back(info->make(*core_, params));
    core_->layers.push_back(layers_.back().get());
    for (auto [op, fn] : info->handlers) routes_[op->id] = {layers_.back().get(), fn};
  }
}

Model::Model(const std::string& profile, unsigned cpus, std::uint64_t frame_capacity, std::uint64_t page_size)
    : Model(vocab::resolve_profile(profile), cpus, frame_capacity, page_size) {}

Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Outcome Model::apply(const Event& e) {
  if (!continuing_) {
    core_->delta.clear();
    for (auto& l : layers_) l->begin_group();
  }
  continuing_ = e.cont;
  core_->acting_cpu = e.cpu;
  const Route& r = routes_.at(e.op->id);
  if (!r.fn)
    throw ModelError("op", std::string("operation '") + e.op->name + "' belongs to kernel " + e.op->kernel +
                               ", which profile " + profile_.name + " does not include");
  return r.fn(*r.layer, e);
}

std::vector<Resolution> Model::resolve_undetermined(Asid as, const std::function<bool(Va)>& kernel_split_at) {
  std::vector<Resolution> out;
  for (auto& l : layers_) {
    auto r = l->resolve_undetermined(as, kernel_split_at);
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

bool Model::learn_anon_pages(Asid as, Va va) {
  bool changed = false;
  for (auto& l : layers_) changed = l->learn_anon_pages(as, va) || changed;
  return changed;
}

std::optional<Settled> Model::settle_present(Asid as, Va va, bool kernel_present) {
  for (auto& l : layers_)
    if (auto s = l->settle_present(as, va, kernel_present)) return s;
  return std::nullopt;
}

std::optional<Settled> Model::settle_kept(Asid as, Va va, bool kernel_kept) {
  for (auto& l : layers_)
    if (auto s = l->settle_kept(as, va, kernel_kept)) return s;
  return std::nullopt;
}

std::vector<RuleCount> Model::rule_coverage() const {
  std::vector<RuleCount> out;
  for (const auto& l : layers_)
    if (const RuleCoverage* c = l->rule_coverage()) {
      auto counts = c->counts();
      out.insert(out.end(), counts.begin(), counts.end());
    }
  return out;
}

KernelLayer::KernelLayer(Core& c)
    : core_(c), frames_(c.frames), cpus_(c.cpus), held_index_(c.held_index), spaces_(c.spaces),
      objects_(c.objects), delta_(c.delta), page_size_(c.page_size), page_shift_(c.page_shift) {}

const std::vector<const InvariantInfo*>& Model::invariants() const {
  const auto& all = model::invariants();
  if (invariants_seen_ != all.size()) {  // once, unless a part registered more since
    invariants_.clear();
    for (const InvariantInfo& inv : all)
      if (std::string_view(inv.kernel) == "core" || profile_.has(inv.kernel)) invariants_.push_back(&inv);
    invariants_seen_ = all.size();
  }
  return invariants_;
}

}  // namespace vmref::model
