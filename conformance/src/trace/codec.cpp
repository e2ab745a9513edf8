#include "vmref/trace/codec.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include "vmref/trace/error.hpp"
#include "vmref/trace/fields.hpp"
#include "vmref/trace/json_text.hpp"
#include "expect_shape.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::trace {

using nlohmann::json;
using simdjson::dom::element;

namespace {

Header header_from(Fields& f) {
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
  if (f.has("params")) h.params = f.raw("params");
  if (f.has("provenance")) {
    json p = f.raw("provenance");
    if (!p.is_object()) f.fail("provenance", "expected an object");
    if (p.contains("expected")) check_declared_shape(p["expected"], f);
    if (p.contains("replay")) check_replay_shape(p["replay"], f);
    h.provenance = std::move(p);
  }
  f.done();
  // Last, so that a trace declaring its own bad parameters (provenance.expected) is read.
  try {
    if (!h.params.is_object()) f.fail("params", "expected an object");
    profile_of(h, f.file_name(), f.line());  // throws naming params.<name>
  } catch (const TraceError& e) {
    throw HeaderError(e, std::move(h));
  }
  return h;
}

/// vocab::find_op with a small direct-mapped cache in front of the registry's hash map:
/// a trace has a handful of distinct operations, and hashing each line's name shows.
const vocab::OpInfo* lookup_op(std::string_view name) {
  thread_local const vocab::OpInfo* cache[64] = {};
  if (name.empty()) return vocab::find_op(name);
  const vocab::OpInfo*& slot = cache[(name.size() * 31 + static_cast<unsigned char>(name[0]) * 7 +
                                      static_cast<unsigned char>(name.back())) % 64];
  if (slot && name == slot->name) return slot;
  const vocab::OpInfo* op = vocab::find_op(name);
  if (op) slot = op;
  return op;
}

vocab::Event event_from(Fields& f) {
  vocab::Event e;
  e.line = f.line();
  const std::string_view name = f.str_view("op");
  e.op = lookup_op(name);
  if (!e.op) f.fail("op", "unknown operation \"" + std::string(name) + "\"");
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

LineDecoder::LineDecoder() : parser_(std::make_unique<simdjson::dom::parser>()) {
  // The depth limit of parse_json: deeper lines are refused by simdjson and then named by
  // parse_json ("JSON nested deeper than ..."), before anything recurses into them.
  if (parser_->allocate(simdjson::dom::MINIMAL_DOCUMENT_CAPACITY, kMaxJsonDepth) != simdjson::SUCCESS)
    throw std::bad_alloc();
}

LineDecoder::~LineDecoder() = default;
LineDecoder::LineDecoder(LineDecoder&&) noexcept = default;
LineDecoder& LineDecoder::operator=(LineDecoder&&) noexcept = default;

template <class Decode>
auto LineDecoder::decode(const char* text, std::size_t size, bool padded, const std::string& file, std::uint64_t line,
                         Decode&& decode) {
  element root;
  if (parser_->parse(text, size, !padded).get(root) == simdjson::SUCCESS) {
    if (root.is_object()) {
      Fields f(root, file, line);
      if (!f.repeats_key()) return decode(f);
    } else if (!repeats_key(root)) {
      Fields f(root, file, line);  // throws: not an object
    }
  }
  // Cold: parse_json throws the error it always threw, or accepts what simdjson does not.
  reencoded_ = parse_json(std::string_view(text, size), file, line).dump();
  auto err = parser_->parse(reencoded_).get(root);
  if (err != simdjson::SUCCESS) throw TraceError(file, line, "", std::string("invalid JSON: ") + simdjson::error_message(err));
  Fields f(root, file, line);
  return decode(f);
}

Header LineDecoder::header(std::string_view text, const std::string& file, std::uint64_t line) {
  return decode(text.data(), text.size(), false, file, line, header_from);
}

vocab::Event LineDecoder::event(std::string_view text, const std::string& file, std::uint64_t line) {
  return decode(text.data(), text.size(), false, file, line, event_from);
}

vocab::Event LineDecoder::event(std::string& text, const std::string& file, std::uint64_t line) {
  if (text.capacity() - text.size() < simdjson::SIMDJSON_PADDING) text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  return decode(text.data(), text.size(), true, file, line, event_from);
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
  nlohmann::ordered_json j{{"vmref_trace", h.version}, {"profile", profile}, {"arch", h.arch},
                           {"page_size", hex(h.page_size)}, {"cpus", h.cpus}, {"phys_mem", hex(h.phys_mem)}};
  if (h.params.is_object() && !h.params.empty()) j["params"] = nlohmann::ordered_json(h.params);
  j["provenance"] = h.provenance;
  return j;
}

vocab::Profile profile_of(const Header& h, const std::string& file, std::uint64_t line) {
  vocab::ParamContext ctx{file, line, h.page_size, h.phys_mem / h.page_size};
  return vocab::with_params(vocab::resolve_profile(h.profile), h.params, ctx);
}

nlohmann::ordered_json event_to_json(const vocab::Event& e) {
  nlohmann::ordered_json j{{"op", e.op->name}};
  e.op->encode(e, j);
  if (e.cont) j["cont"] = true;
  if (!e.expect.is_null()) j["expect"] = nlohmann::ordered_json(e.expect);
  return j;
}

}  // namespace vmref::trace
