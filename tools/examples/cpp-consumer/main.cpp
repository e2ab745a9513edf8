// Replays a trace with the installed vmref C++ library (find_package(vmref)), and writes
// one line through the C emitter from C++ to show the header is usable there too.
// Usage: vmref-consumer TRACE   prints "VERDICT: N events, M findings"; exit 0 clean,
// 1 findings, 2 bad input (as `vmref replay`).
#include <cstdio>
#include <iostream>
#include <string>

#include "vmref/conformance/replay.hpp"
#include "vmref/emit.h"
#include "vmref/registered.hpp"

static int to_string_out(void* ctx, const char* bytes, std::size_t len) {
  static_cast<std::string*>(ctx)->append(bytes, len);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: vmref-consumer TRACE\n";
    return 2;
  }
  std::string line;
  vmref_emitter e;
  vmref_emit_init(&e, to_string_out, &line);
  vmref_as_destroy d{};
  d.as = 1;
  if (vmref_emit_as_destroy(&e, &d) != VMREF_EMIT_OK || line != "{\"op\":\"as_destroy\",\"as\":1}\n") {
    std::cerr << "vmref-consumer: the C emitter wrote " << line;
    return 2;
  }
  vmref::register_all();
  vmref::conformance::ReplayResult r = vmref::conformance::replay_file(argv[1], {});
  std::cout << vmref::conformance::to_string(r.verdict()) << ": " << r.events << " events, " << r.findings_total
            << " findings" << (r.error.empty() ? "" : ", " + r.error) << "\n";
  switch (r.verdict()) {
    case vmref::conformance::Verdict::clean: return 0;
    case vmref::conformance::Verdict::findings: return 1;
    default: return 2;
  }
}
