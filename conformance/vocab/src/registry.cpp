#include "vmref/vocab/registry.hpp"
#include "vmref/trace/error.hpp"

#include <algorithm>
#include <memory>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace vmref::vocab {

namespace {
struct Tables {
  std::vector<std::unique_ptr<KernelInfo>> kernel_rows;
  std::vector<const KernelInfo*> kernels;
  std::vector<const OpInfo*> ops;
  /// By name, for the codec's lookup on every event (names are static strings).
  std::unordered_map<std::string_view, const OpInfo*> op_by_name;
};
Tables& tables() {
  static Tables t;
  return t;
}

std::string joined(const std::vector<std::string>& names) {
  std::string all;
  for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
  return all;
}
}  // namespace

void add_kernel(KernelInfo k) {
  if (find_kernel(k.name)) throw std::logic_error("kernel '" + k.name + "' registered twice");
  if (k.variants.empty()) throw std::logic_error("kernel '" + k.name + "' has no variant");
  tables().kernel_rows.push_back(std::make_unique<KernelInfo>(std::move(k)));
  tables().kernels.push_back(tables().kernel_rows.back().get());
}

void add_op(OpInfo& op) {
  if (find_op(op.name)) throw std::logic_error(std::string("operation '") + op.name + "' registered twice");
  op.id = static_cast<std::uint16_t>(tables().ops.size());
  tables().ops.push_back(&op);
  tables().op_by_name.emplace(op.name, &op);
}

const std::vector<const KernelInfo*>& kernels() { return tables().kernels; }
const std::vector<const OpInfo*>& all_ops() { return tables().ops; }

const char* profile_with_variant(std::string_view variant, std::string_view param) {
  static std::set<std::string> interned;  // nodes never move: their c_str() stays valid
  for (const KernelInfo* k : kernels()) {
    bool has_param = param.empty() ||
                     std::any_of(k->settable.begin(), k->settable.end(), [&](const ParamSpec& p) { return p.name == param; });
    for (const VariantInfo& v : k->variants)
      if (has_param && v.name == variant && !v.broken) return interned.insert(k->name + ":" + v.name).first->c_str();
  }
  return "";
}

const KernelInfo* find_kernel(std::string_view name) {
  for (const KernelInfo* k : tables().kernels)
    if (k->name == name) return k;
  return nullptr;
}

const OpInfo* find_op(std::string_view name) {
  auto it = tables().op_by_name.find(name);
  return it == tables().op_by_name.end() ? nullptr : it->second;
}

std::vector<std::string> kernel_names() {
  std::vector<std::string> out;
  for (const KernelInfo* k : tables().kernels) out.push_back(k->name);
  return out;
}

bool Profile::has(std::string_view kernel) const {
  for (const Layer& l : layers)
    if (l.kernel->name == kernel) return true;
  return false;
}

Profile resolve_profile(const std::string& full) {
  if (full.empty()) {  // the default profile: the first kernel registered
    if (kernels().empty()) throw std::logic_error("no kernel is registered (call vmref::register_all() first)");
    return resolve_profile(kernels().front()->name);
  }
  std::size_t colon = full.find(':');
  std::string name = full.substr(0, colon);
  std::string variant = colon == std::string::npos ? "" : full.substr(colon + 1);
  const KernelInfo* k = find_kernel(name);
  if (!k) throw std::invalid_argument("unknown profile '" + full + "'; available: " + joined(kernel_names()));
  Profile p;
  p.name = full;
  p.variant = variant.empty() ? k->variants.front().name : variant;
  bool known = false;
  std::vector<std::string> names;
  for (const VariantInfo& v : k->variants) {
    known = known || v.name == p.variant;
    names.push_back(v.name);
  }
  if (!known)
    throw std::invalid_argument("unknown variant '" + variant + "' of profile " + name + "; variants: " + joined(names));
  // The kernels it builds on come first, each in its default variant.
  std::vector<const KernelInfo*> chain{k};
  while (!chain.back()->base.empty()) {
    const KernelInfo* b = find_kernel(chain.back()->base);
    if (!b) throw std::logic_error("kernel '" + chain.back()->name + "' builds on unknown kernel '" + chain.back()->base + "'");
    chain.push_back(b);
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const KernelInfo* layer = *it;
    p.layers.push_back({layer, layer->params(layer == k ? p.variant : layer->variants.front().name)});
  }
  return p;
}

Profile with_params(Profile p, const nlohmann::json& values, const ParamContext& ctx) {
  if (values.is_object() && values.empty()) return p;
  Layer& top = p.layers.back();
  if (!top.kernel->with_params) {
    if (!values.is_object()) throw trace::TraceError(ctx.file, ctx.line, "params", "expected an object");
    throw trace::TraceError(ctx.file, ctx.line, "params." + values.begin().key(),
                            "profile " + p.full_name() + " has no parameters a trace may set");
  }
  top.params = top.kernel->with_params(*top.params, values, ctx);
  return p;
}

}  // namespace vmref::vocab
