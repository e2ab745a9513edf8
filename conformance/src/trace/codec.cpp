#include "vmref/trace/codec.hpp"

#include <algorithm>
#include <string_view>

#include "vmref/trace/error.hpp"
#include "expect_shape.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::trace {

using nlohmann::json;

Header header_from_json(const json& j, const std::string& file, std::uint64_t line) {
  Fields f(j, file, line);
  Header h;
  if (!f.has("vmref_trace")) f.fail("vmref_trace", "missing: the first line must be the trace header");
  h.version = static_cast<int>(f.small("vmref_trace", 1000));
  if (h.version != kFormatVersion) f.fail("vmref_trace", "unsupported format version " + std::to_string(h.version));
  h.profile = f.str("profile");
  h.arch = f.str_or("arch", "abstract");
  h.page_size = f.u64_or("page_size", 4096);
  if (h.page_size < 4096 || (h.page_size & (h.page_size - 1))) f.fail("page_size", "must be a power of two >= 4096");
  if (h.page_size > kMaxPageSize) f.fail("page_size", "must be at most 1 GiB");
  h.cpus = static_cast<unsigned>(f.has("cpus") ? f.small("cpus", kMaxCpus) : 1);
  if (h.cpus == 0) f.fail("cpus", "must be at least 1");
  h.phys_mem = f.u64_or("phys_mem", 1ull << 30);
  if (h.phys_mem < h.page_size) f.fail("phys_mem", "smaller than one page");
  if (h.phys_mem / h.page_size > kMaxFrames)
    f.fail("phys_mem", "more than 2^32 - 1 page frames (" + std::to_string(h.phys_mem / h.page_size) + ")");
  try {
    vocab::resolve_profile(h.profile);
  } catch (const std::invalid_argument& e) {
    f.fail("profile", e.what());
  }
  if (f.has("provenance")) {
    const json& p = f.raw("provenance");
    if (!p.is_object()) f.fail("provenance", "expected an object");
    if (p.contains("expected")) check_declared_shape(p["expected"], f);
    if (p.contains("replay")) check_replay_shape(p["replay"], f);
    h.provenance = p;
  }
  f.done();
  return h;
}

nlohmann::ordered_json header_to_json(const Header& h) {
  std::string profile = h.profile.empty() ? vocab::resolve_profile("").name : h.profile;
  return nlohmann::ordered_json{{"vmref_trace", h.version}, {"profile", profile}, {"arch", h.arch},
                                {"page_size", hex(h.page_size)}, {"cpus", h.cpus}, {"phys_mem", hex(h.phys_mem)},
                                {"provenance", h.provenance}};
}

vocab::Event event_from_json(const json& j, const std::string& file, std::uint64_t line) {
  Fields f(j, file, line);
  vocab::Event e;
  e.line = line;
  std::string name = f.str("op");
  e.op = vocab::find_op(name);
  if (!e.op) f.fail("op", "unknown operation \"" + name + "\"");
  e.op->decode(f, e);
  e.cont = f.flag("cont");
  if (f.has("expect")) {
    check_expect_shape(f.raw("expect"), f);
    e.expect = f.raw("expect");
  }
  f.done();
  return e;
}

nlohmann::ordered_json event_to_json(const vocab::Event& e) {
  nlohmann::ordered_json j{{"op", e.op->name}};
  e.op->encode(e, j);
  if (e.cont) j["cont"] = true;
  if (!e.expect.is_null()) j["expect"] = nlohmann::ordered_json(e.expect);
  return j;
}

}  // namespace vmref::trace
