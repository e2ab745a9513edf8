// vmref convert IN OUT : validate a trace and rewrite it canonically, as plain JSON
// Lines or zstd-compressed (OUT ending in .zst), in either direction.
#include <cstring>
#include <iostream>

#include "commands.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/trace_reader.hpp"

namespace vmref::cli {

Runner add_convert(CLI::App& app) {
  auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  auto* c = app.add_subcommand("convert", "Convert a trace between JSON Lines and zstd-compressed JSON Lines (.zst), validating every line");
  c->add_option("input", *in, "Trace to read (.jsonl or .zst, detected by content)")->required()->check(CLI::ExistingFile);
  c->add_option("output", *out, "Trace to write; compressed when the name ends in .zst")
      ->required()
      ->check([](const std::string& name) -> std::string {
        // Only zstd is written: another compressor's suffix would name plain JSON wrongly.
        for (const char* ext : {".gz", ".bz2", ".xz", ".lz4", ".lzma", ".zip", ".Z"})
          if (name.size() > std::strlen(ext) && name.ends_with(ext))
            return std::string("writes JSON Lines or zstd (.zst), not ") + ext;
        return "";
      });
  return [in, out] {
    try {
      trace::refuse_same_file(*out, {*in});
      trace::TraceReader r(*in);
      trace::LineWriter w(*out, trace::wants_zstd(*out));
      w.write(trace::header_to_json(r.header()).dump());
      std::uint64_t events = 0;
      vocab::Event e;
      for (; r.next(e); ++events) w.write(trace::event_to_json(e).dump());
      w.close();  // only now does OUT appear: a failed convert leaves nothing behind
      std::cout << *in << " -> " << *out << ": " << events << " events\n";
      return kExitClean;
    } catch (const std::runtime_error& e) {  // TraceError, OutputError
      std::cerr << "vmref convert: " << e.what() << "\n";
      return kExitBadInput;
    }
  };
}

}  // namespace vmref::cli
