// vmref schema : the JSON Schema of one trace line (spec/trace.schema.json), written from
// the operation registry: each operation's row carries the schema of its fields.
// tools/gen_schema.py writes it into spec/; ctest checks the committed file is current.
#include <iostream>

#include "commands.hpp"
#include "vmref/vocab/core_ops.hpp"
#include "vmref/vocab/registry.hpp"

namespace vmref::cli {

namespace {
using nlohmann::ordered_json;

ordered_json defs() {
  ordered_json hex{{"type", "string"}, {"pattern", "^0[xX][0-9a-fA-F]{1,16}$"}};
  ordered_json d;
  d["hex64"] = hex;
  d["u64"] = {{"oneOf", {{{"$ref", "#/$defs/hex64"}}, {{"type", "integer"}, {"minimum", 0}}}}};
  d["small"] = {{"type", "integer"}, {"minimum", 0}};
  d["tlb_tag"] = {{"type", "integer"}, {"minimum", 0}, {"maximum", vocab::kMaxTlbTag}};
  d["bool"] = {{"type", "boolean"}};
  d["str"] = {{"type", "string"}};
  d["prot"] = {{"type", "string"}, {"pattern", "^[r-][w-][x-]$"}};
  d["access_kind"] = {{"enum", {"read", "write", "exec"}}};
  d["vseg_kind"] = {{"enum", {"anon", "file", "stack", "heap", "code", "data", "kernel", "special"}}};
  ordered_json flags = ordered_json::array();
  for (unsigned b = 0; b < static_cast<unsigned>(vocab::VmFlag::count); ++b) flags.push_back(to_string(static_cast<vocab::VmFlag>(b)));
  d["vm_flags"] = {{"type", "array"}, {"items", {{"enum", flags}}}};
  d["file"] = {{"type", "object"},
               {"required", {"id"}},
               {"additionalProperties", false},
               {"properties",
                {{"id", {{"$ref", "#/$defs/str"}}},
                 {"path", {{"$ref", "#/$defs/str"}}},
                 {"writable", {{"$ref", "#/$defs/bool"}}},
                 {"size", {{"$ref", "#/$defs/u64"}}}}}};
  ordered_json errnos = ordered_json::array();
  for (unsigned e = 0; e <= static_cast<unsigned>(vocab::Err::ebadf); ++e) errnos.push_back(to_string(static_cast<vocab::Err>(e)));
  ordered_json vseg{{"type", "object"},
                    {"required", {"start", "end"}},
                    {"additionalProperties", false},
                    {"properties",
                     {{"start", {{"$ref", "#/$defs/u64"}}},
                      {"end", {{"$ref", "#/$defs/u64"}}},
                      {"offset", {{"$ref", "#/$defs/u64"}}},
                      {"prot", {{"$ref", "#/$defs/prot"}}},
                      {"shared", {{"$ref", "#/$defs/bool"}}},
                      {"kind", {{"$ref", "#/$defs/vseg_kind"}}},
                      {"file", {{"$ref", "#/$defs/str"}}},
                      {"name", {{"$ref", "#/$defs/str"}}},
                      {"anon_pages", {{"$ref", "#/$defs/bool"}}}}}};
  ordered_json page{{"type", "object"}, {"required", {"va"}}, {"additionalProperties", false}, {"properties", {}}};
  page["properties"]["va"] = {{"$ref", "#/$defs/u64"}};
  for (const char* b : {"present", "zero", "cow"}) page["properties"][b] = {{"$ref", "#/$defs/bool"}};
  page["properties"]["prot"] = {{"$ref", "#/$defs/prot"}};
  for (const char* n : {"refcount", "mapcount", "size"}) page["properties"][n] = {{"$ref", "#/$defs/u64"}};
  for (const char* b : {"exclusive", "kept"}) page["properties"][b] = {{"$ref", "#/$defs/bool"}};
  page["properties"]["frame"] = {{"$ref", "#/$defs/str"}};
  d["expect"] = {{"type", "object"},
                 {"additionalProperties", false},
                 {"properties",
                  {{"errno", {{"enum", errnos}}},
                   {"ret", {{"$ref", "#/$defs/u64"}}},
                   {"result", {{"enum", {"ok", "segv_maperr", "segv_accerr", "sigbus"}}}},
                   {"zero_page", {{"$ref", "#/$defs/bool"}}},
                   {"vsl", {{"type", "array"}, {"items", vseg}}},
                   {"pages", {{"type", "array"}, {"items", page}}}}}};
  ordered_json profiles = ordered_json::array();
  for (const std::string& p : profile_choices()) profiles.push_back(p);
  ordered_json settable = ordered_json::object();  // every kernel's settable parameters (KernelInfo::settable)
  for (const vocab::KernelInfo* k : vocab::kernels())
    for (const vocab::ParamSpec& ps : k->settable) settable[ps.name] = {{"$ref", "#/$defs/u64"}};
  d["header"] = {
      {"type", "object"},
      {"required", {"vmref_trace", "profile"}},
      {"additionalProperties", false},
      {"properties",
       {{"vmref_trace", {{"const", 1}}},
        {"profile", {{"enum", profiles}}},
        {"arch", {{"$ref", "#/$defs/str"}}},
        {"page_size", {{"$ref", "#/$defs/u64"}}},
        {"cpus", {{"type", "integer"}, {"minimum", 1}}},
        {"phys_mem", {{"$ref", "#/$defs/u64"}}},
        {"params", {{"type", "object"}, {"additionalProperties", false}, {"properties", settable}}},
        {"provenance",
         {{"type", "object"},
          {"properties",
           {{"expected",
             {{"type", "object"},
              {"properties",
               {{"verdict", {{"enum", {"clean", "findings"}}}},
                {"ids", {{"type", "array"}, {"items", {{"$ref", "#/$defs/str"}}}}},
                {"undetermined", {{"$ref", "#/$defs/small"}}}}}}}}}}}}}};
  return d;
}

/// One operation's line: its row's schema plus op, cont and expect.
ordered_json event_schema(const vocab::OpInfo& op) {
  ordered_json s = ordered_json::parse(op.schema);
  ordered_json props{{"op", {{"const", op.name}}}, {"expect", {{"$ref", "#/$defs/expect"}}}, {"cont", {{"$ref", "#/$defs/bool"}}}};
  for (auto& [k, v] : s["properties"].items()) props[k] = v;
  ordered_json required = ordered_json::array({"op"});
  for (auto& r : s["required"]) required.push_back(r);
  return {{"type", "object"}, {"required", required}, {"additionalProperties", false}, {"properties", props}};
}
}  // namespace

Runner add_schema(CLI::App& app) {
  auto out = std::make_shared<std::string>();
  auto ops = std::make_shared<bool>(false);
  auto* c = app.add_subcommand("schema", "Print the JSON Schema of a trace line (spec/trace.schema.json) from the operation registry");
  c->add_option("-o,--out", *out, "Write it to this file instead of standard output");
  c->add_flag("--ops", *ops,
              "Print the operation registry instead: {\"defs\": {...}, \"ops\": [{\"name\", \"kernel\", \"section\", "
              "\"schema\"}]} (tools/gen_emit.py writes the C emitter's headers from it)");
  return [out, ops] {
    if (*ops) {
      ordered_json rows = ordered_json::array();
      for (const vocab::OpInfo* op : vocab::all_ops())
        rows.push_back({{"name", op->name}, {"kernel", op->kernel}, {"section", op->section}, {"schema", ordered_json::parse(op->schema)}});
      std::string text = ordered_json{{"defs", defs()}, {"ops", rows}}.dump(1) + "\n";
      if (out->empty()) std::cout << text;
      else write_text(*out, text);
      return kExitClean;
    }
    ordered_json events = ordered_json::array();
    for (const vocab::OpInfo* op : vocab::all_ops()) events.push_back(event_schema(*op));
    ordered_json d = defs();
    d["event"] = {{"oneOf", events}};
    ordered_json schema{{"$schema", "https://json-schema.org/draft/2020-12/schema"},
                        {"$id", "https://vmref.invalid/spec/trace.schema.json"},
                        {"title", "vmref trace line (format 1)"},
                        {"description", "Each line of a vmref trace is the header (first line) or one event. Generated by "
                                        "`vmref schema` from the operation registry; see spec/trace-format.md."},
                        {"oneOf", {{{"$ref", "#/$defs/header"}}, {{"$ref", "#/$defs/event"}}}},
                        {"$defs", d}};
    std::string text = schema.dump(1) + "\n";
    if (out->empty()) std::cout << text;
    else write_text(*out, text);
    return kExitClean;
  };
}

}  // namespace vmref::cli
