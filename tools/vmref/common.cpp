#include <fstream>

#include "commands.hpp"

namespace vmref::cli {

int exit_code(conformance::Verdict v) {
  switch (v) {
    case conformance::Verdict::clean: return kExitClean;
    case conformance::Verdict::findings: return kExitFindings;
    case conformance::Verdict::bad_input: return kExitBadInput;
  }
  return kExitBadInput;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream o(path);
  o << text;
  if (!o) throw std::runtime_error(path + ": cannot write");
}

}  // namespace vmref::cli
