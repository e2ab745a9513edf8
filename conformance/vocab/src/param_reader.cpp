#include "vmref/vocab/param_reader.hpp"

#include "vmref/trace/error.hpp"
#include "vmref/trace/fields.hpp"

namespace vmref::vocab {

ParamReader::ParamReader(const nlohmann::json& values, const ParamContext& ctx, const std::vector<ParamSpec>& settable,
                         const std::string& kernel)
    : values_(values), ctx_(ctx) {
  if (!values.is_object()) throw trace::TraceError(ctx.file, ctx.line, "params", "expected an object");
  for (auto it = values.begin(); it != values.end(); ++it) {
    bool known = false;
    std::string names;
    for (const ParamSpec& s : settable) {
      known = known || s.name == it.key();
      names += (names.empty() ? "" : ", ") + s.name;
    }
    if (!known)
      fail(it.key(), "unknown parameter of " + kernel + (names.empty() ? " (it has none settable)" : "; settable: " + names));
  }
}

void ParamReader::fail(const std::string& name, const std::string& msg) const {
  throw trace::TraceError(ctx_.file, ctx_.line, "params." + name, msg);
}

std::uint64_t ParamReader::u64(const std::string& name, std::uint64_t current, std::uint64_t lo,
                               std::uint64_t hi) const {
  if (!has(name)) return current;
  std::uint64_t v = trace::parse_u64(values_.at(name), ctx_.file, ctx_.line, "params." + name);
  if (v < lo || v > hi) fail(name, "out of range: " + trace::hex(v) + " is not in [" + trace::hex(lo) + ", " + trace::hex(hi) + "]");
  return v;
}

bool ParamReader::flag(const std::string& name, bool current) const {
  if (!has(name)) return current;
  const nlohmann::json& v = values_.at(name);
  if (!v.is_boolean()) fail(name, "expected true or false");
  return v.get<bool>();
}

}  // namespace vmref::vocab
