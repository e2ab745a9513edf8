// Reading a trace file (spec/trace-format.md): the header on the first non-empty line,
// then one event per non-empty line, each parsed strictly. Memory is constant in the
// trace length (LineReader) and every error names file, line and field.
#pragma once

#include <cstdint>
#include <string>

#include "vmref/trace/codec.hpp"
#include "vmref/trace/line_io.hpp"

namespace vmref::trace {

class TraceReader {
 public:
  /// Opens `path` and reads its header; throws TraceError (an empty file names line 1).
  explicit TraceReader(const std::string& path);
  /// Reads from `f` (taken over and closed), named `name` in errors: for in-memory input.
  TraceReader(std::FILE* f, const std::string& name);
  const Header& header() const { return header_; }
  Header& header() { return header_; }
  /// The next event, its `line` set; false at the end. Throws TraceError.
  bool next(vocab::Event& e);
  /// Line number of the header or of the event returned last.
  std::uint64_t line() const { return in_.line(); }
  const std::string& path() const { return in_.path(); }

 private:
  void read_header();
  LineReader in_;
  LineDecoder decoder_;
  Header header_;
  std::string text_;
};

}  // namespace vmref::trace
