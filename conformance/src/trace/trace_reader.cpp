#include "vmref/trace/trace_reader.hpp"

#include "vmref/trace/error.hpp"

namespace vmref::trace {

TraceReader::TraceReader(const std::string& path) : in_(path) { read_header(); }

TraceReader::TraceReader(std::FILE* f, const std::string& name) : in_(f, name) { read_header(); }

void TraceReader::read_header() {
  bool got;
  while ((got = in_.next(text_)) && text_.empty()) {}
  if (!got) throw TraceError(in_.path(), in_.line() + 1, "", "empty trace: no header line");
  header_ = decoder_.header(text_, in_.path(), in_.line());
}

bool TraceReader::next(vocab::Event& e) {
  while (in_.next(text_))
    if (!text_.empty()) {
      e = decoder_.event(text_, in_.path(), in_.line());
      return true;
    }
  return false;
}

}  // namespace vmref::trace
