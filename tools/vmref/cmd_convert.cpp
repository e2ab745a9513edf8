// vmref convert IN OUT : validate a trace and rewrite it canonically, as plain JSON
// Lines or zstd-compressed (OUT ending in .zst), in either direction.
#include <iostream>

#include "commands.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/line_io.hpp"

namespace vmref::cli {

namespace {
nlohmann::json parse(const std::string& text, const std::string& file, std::uint64_t line) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw trace::TraceError(file, line, "", std::string("invalid JSON: ") + e.what());
  }
}
}  // namespace

Runner add_convert(CLI::App& app) {
  auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  auto* c = app.add_subcommand("convert", "Convert a trace between JSON Lines and zstd-compressed JSON Lines (.zst), validating every line");
  c->add_option("input", *in, "Trace to read (.jsonl or .zst, detected by content)")->required()->check(CLI::ExistingFile);
  c->add_option("output", *out, "Trace to write; compressed when the name ends in .zst")->required();
  return [in, out] {
    try {
      trace::LineReader r(*in);
      trace::LineWriter w(*out, trace::wants_zstd(*out));
      std::string text;
      std::uint64_t line = 0, events = 0;
      bool header = true;
      while (r.next(text)) {
        ++line;
        if (text.empty()) continue;
        auto j = parse(text, *in, line);
        if (header) {
          w.write(trace::header_to_json(trace::header_from_json(j, *in, line)).dump());
          header = false;
        } else {
          w.write(trace::event_to_json(trace::event_from_json(j, *in, line)).dump());
          ++events;
        }
      }
      if (header) throw trace::TraceError(*in, 0, "", "empty trace: no header line");
      w.close();
      std::cout << *in << " -> " << *out << ": " << events << " events\n";
      return kExitClean;
    } catch (const trace::TraceError& e) {
      std::cerr << "vmref convert: " << e.what() << "\n";
      return kExitBadInput;
    }
  };
}

}  // namespace vmref::cli
