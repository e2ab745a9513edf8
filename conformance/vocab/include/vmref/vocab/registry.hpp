// The vocabulary's registries: kernels (with their variants and parameters) and the
// operations they define (name, spec section, decoder, encoder, schema). The trace
// codec, the schema generator, replay, fuzz, the reports and the CLI read these tables;
// a kernel adds its rows from its own folder (CONTRIBUTING.md "Adding a kernel").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <nlohmann/json.hpp>

namespace vmref::trace {
class Fields;
}

namespace vmref::vocab {

struct Event;

/// Flags of an operation row.
enum OpFlag : unsigned {
  /// It may change any part of the state (a context switch, a flush, fork, exec,
  /// destroy): the differential compares the whole state after it.
  kWholeState = 1u << 0,
  /// Its Outcome::ret is part of the result (an address, a statistic): compared.
  kReturnsValue = 1u << 1,
  /// Its Outcome::frame names the frame it used (an access, a pin): compared up to renaming.
  kReturnsFrame = 1u << 2,
};

/// One operation (spec/trace-format.md §3.1). Rows are static objects owned by the
/// kernel that defines them; add_op() numbers them.
struct OpInfo {
  const char* name;                 ///< as traces write it: "mmap"
  const char* kernel;               ///< the defining kernel, "core" for shared ones
  const char* section;              ///< the spec section: "spec/kernels/linux.md §2.4"
  const std::type_info* args_type;  ///< the argument struct (Event::get checks it)
  /// Reads the op's fields into `e` (args, and cpu where the op has one); `e.expect`
  /// and `e.cont` are already set. Throws trace::TraceError naming the field.
  void (*decode)(trace::Fields& f, Event& e);
  /// Writes the op's fields (not "op", "cont" or "expect") in canonical form.
  void (*encode)(const Event& e, nlohmann::ordered_json& j);
  /// JSON Schema of the op's fields: {"required": [...], "properties": {...}}, with
  /// "$ref": "#/$defs/NAME" for the shared definitions of tools/gen_schema.py.
  const char* schema;
  unsigned flags = 0;
  std::uint16_t id = 0;             ///< dense number assigned by add_op (dispatch tables)
};

/// Parameters of one kernel, as plain data: the model and the implementation each read
/// them, neither owns them. Each kernel derives its own struct.
struct KernelParams {
  virtual ~KernelParams() = default;
};

/// A named configuration of a kernel (spec/kernels/<k>.md "Variants").
struct VariantInfo {
  std::string name;
  std::string summary;   ///< what it changes, one line
  bool broken = false;   ///< deliberately broken: campaigns on it are expected to find
};

/// One parameter a trace header may set (`"params"`, spec/trace-format.md §2): listed by
/// the kernel's row, tabled in spec/kernels/<k>.md "Parameters".
struct ParamSpec {
  std::string name;   ///< as the header writes it: "stack_base"
  std::string unit;   ///< "bytes", "pages", "slots"...
  std::string range;  ///< the valid values, one line
  std::string doc;    ///< what it sets, one line
};

/// What a kernel's parameter hook may check a value against: where the header is (for
/// errors) and the machine it describes.
struct ParamContext {
  std::string file;
  std::uint64_t line = 1;
  std::uint64_t page_size = 4096;  ///< bytes
  std::uint64_t frames = 0;        ///< phys_mem / page_size
};

struct KernelInfo {
  std::string name;                   ///< "zephyr"; profiles are "name" or "name:variant"
  std::string base;                   ///< kernel whose operations it builds on, "" for core only
  std::string title;                  ///< one line for --list-profiles
  std::string spec;                   ///< "spec/kernels/zephyr.md"
  std::vector<VariantInfo> variants;  ///< the first is the default
  /// Parameters of `variant` (a name from `variants`).
  std::function<std::shared_ptr<const KernelParams>(const std::string& variant)> params;
  /// Frames a fuzz campaign gives this kernel's model and implementation (0: default).
  std::uint64_t campaign_frames = 0;
  /// The parameters a trace header may set (empty: none).
  std::vector<ParamSpec> settable;
  /// `defaults` (the variant's parameters) with the members of `values` (a JSON object,
  /// the header's "params") applied. Throws trace::TraceError naming ctx.file, ctx.line
  /// and the field "params.<name>" for an unknown name, a wrong type, a value out of
  /// range or one inconsistent with the others. Unset: the kernel has none settable.
  std::function<std::shared_ptr<const KernelParams>(const KernelParams& defaults, const nlohmann::json& values,
                                                    const ParamContext& ctx)>
      with_params;
};

/// Registers a kernel; throws std::logic_error for a duplicate name.
void add_kernel(KernelInfo k);
/// Registers an operation row and assigns its id; throws for a duplicate name.
void add_op(OpInfo& op);

const std::vector<const KernelInfo*>& kernels();
const std::vector<const OpInfo*>& all_ops();
const KernelInfo* find_kernel(std::string_view name);
const OpInfo* find_op(std::string_view name);
/// "kernel:variant" for the first kernel with a correct (not broken) variant named
/// `variant` and, when `param` is not empty, a settable parameter of that name; "" when
/// none has. Lets a format's mutant name the profile that reaches it without naming a
/// kernel (MutantInfo::profile): the string lives as long as the program.
const char* profile_with_variant(std::string_view variant, std::string_view param = "");
/// Kernel names in registration order (the first is the default profile).
std::vector<std::string> kernel_names();

/// One kernel of a profile with the parameters its variant gives.
struct Layer {
  const KernelInfo* kernel = nullptr;
  std::shared_ptr<const KernelParams> params;
};

/// A resolved profile: "mermap:rfc" is the mermap kernel in variant rfc, layered on the
/// kernels it builds on (linux, in its default variant), all above the shared core.
struct Profile {
  std::string name;            ///< as given, e.g. "zephyr:eager"
  std::string variant;         ///< the variant in effect (the default when none was given)
  std::vector<Layer> layers;   ///< bottom-up; back() is the named kernel
  const KernelInfo& kernel() const { return *layers.back().kernel; }
  /// "kernel:variant" with the variant in effect spelled out ("mermap" -> "mermap:fixed").
  std::string full_name() const { return name.find(':') == std::string::npos ? name + ":" + variant : name; }
  /// Whether `kernel` is one of the profile's layers.
  bool has(std::string_view kernel) const;
  /// Parameters of the layer of `kernel`, cast to P; nullptr when it is not a layer.
  template <class P> const P* params(std::string_view kernel) const {
    for (const Layer& l : layers)
      if (l.kernel->name == kernel) return static_cast<const P*>(l.params.get());
    return nullptr;
  }
};

/// Resolves "name" or "name:variant"; "" is the default profile (the first kernel
/// registered, in its default variant). Throws std::invalid_argument naming the known
/// profiles or the kernel's variants.
Profile resolve_profile(const std::string& full);

/// `p` with `values` (a trace header's "params" object) applied to its named kernel's
/// parameters through KernelInfo::with_params; an empty object leaves `p` as it is.
/// Throws trace::TraceError naming ctx.file, ctx.line and "params.<name>".
Profile with_params(Profile p, const nlohmann::json& values, const ParamContext& ctx);

}  // namespace vmref::vocab
