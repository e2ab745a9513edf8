#include "vmref/trace/codec.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include "vmref/trace/error.hpp"
#include "vmref/trace/json_text.hpp"
#include "expect_shape.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::trace {

using nlohmann::json;
using simdjson::dom::element;

namespace {

/// Whether any object in `v` repeats a key (simdjson keeps both; parse_json refuses it).
bool has_duplicate_key(element v) {
  if (v.is_array()) {
    simdjson::dom::array a = v.get_array().value_unsafe();  // a copy: the result is a temporary
    for (element x : a)
      if (has_duplicate_key(x)) return true;
    return false;
  }
  if (!v.is_object()) return false;
  simdjson::dom::object o = v.get_object().value_unsafe();
  if (o.size() <= 32) {  // trace lines: a dozen keys, compared pairwise
    std::string_view keys[32];
    std::size_t n = 0;
    for (simdjson::dom::key_value_pair kv : o) {
      if (std::find(keys, keys + n, kv.key) != keys + n) return true;
      keys[n++] = kv.key;
    }
  } else {
    std::vector<std::string_view> keys;
    for (simdjson::dom::key_value_pair kv : o) keys.push_back(kv.key);
    std::sort(keys.begin(), keys.end());
    if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) return true;
  }
  for (simdjson::dom::key_value_pair kv : o)
    if ((kv.value.is_object() || kv.value.is_array()) && has_duplicate_key(kv.value)) return true;
  return false;
}

Header header_from(element j, const std::string& file, std::uint64_t line) {
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
    json p = f.raw("provenance");
    if (!p.is_object()) f.fail("provenance", "expected an object");
    if (p.contains("expected")) check_declared_shape(p["expected"], f);
    if (p.contains("replay")) check_replay_shape(p["replay"], f);
    h.provenance = std::move(p);
  }
  f.done();
  return h;
}

vocab::Event event_from(element j, const std::string& file, std::uint64_t line) {
  Fields f(j, file, line);
  vocab::Event e;
  e.line = line;
  std::string name = f.str("op");
  e.op = vocab::find_op(name);
  if (!e.op) f.fail("op", "unknown operation \"" + name + "\"");
  e.op->decode(f, e);
  e.cont = f.flag("cont");
  if (f.has("expect")) {  // rare in large traces: kept as nlohmann::json
    json x = f.raw("expect");
    check_expect_shape(x, f);
    e.expect = std::move(x);
  }
  f.done();
  return e;
}

}  // namespace

LineDecoder::LineDecoder() {
  // The depth limit of parse_json: deeper lines are refused by simdjson and then named by
  // parse_json ("JSON nested deeper than ..."), before anything recurses into them.
  if (parser_.allocate(simdjson::dom::MINIMAL_DOCUMENT_CAPACITY, kMaxJsonDepth) != simdjson::SUCCESS)
    throw std::bad_alloc();
}

element LineDecoder::parse(std::string_view text, const std::string& file, std::uint64_t line) {
  element root;
  if (parser_.parse(text.data(), text.size()).get(root) == simdjson::SUCCESS && !has_duplicate_key(root)) return root;
  // Cold: parse_json throws the error it always threw, or accepts what simdjson does not.
  reencoded_ = parse_json(text, file, line).dump();
  auto err = parser_.parse(reencoded_).get(root);
  if (err != simdjson::SUCCESS) throw TraceError(file, line, "", std::string("invalid JSON: ") + simdjson::error_message(err));
  return root;
}

Header LineDecoder::header(std::string_view text, const std::string& file, std::uint64_t line) {
  return header_from(parse(text, file, line), file, line);
}

vocab::Event LineDecoder::event(std::string_view text, const std::string& file, std::uint64_t line) {
  return event_from(parse(text, file, line), file, line);
}

Header header_from_json(const json& j, const std::string& file, std::uint64_t line) {
  thread_local LineDecoder d;
  return d.header(j.dump(), file, line);
}

vocab::Event event_from_json(const json& j, const std::string& file, std::uint64_t line) {
  thread_local LineDecoder d;
  return d.event(j.dump(), file, line);
}

nlohmann::ordered_json header_to_json(const Header& h) {
  std::string profile = h.profile.empty() ? vocab::resolve_profile("").name : h.profile;
  return nlohmann::ordered_json{{"vmref_trace", h.version}, {"profile", profile}, {"arch", h.arch},
                                {"page_size", hex(h.page_size)}, {"cpus", h.cpus}, {"phys_mem", hex(h.phys_mem)},
                                {"provenance", h.provenance}};
}

nlohmann::ordered_json event_to_json(const vocab::Event& e) {
  nlohmann::ordered_json j{{"op", e.op->name}};
  e.op->encode(e, j);
  if (e.cont) j["cont"] = true;
  if (!e.expect.is_null()) j["expect"] = nlohmann::ordered_json(e.expect);
  return j;
}

}  // namespace vmref::trace
