// vmref record [--out FILE] -- PROGRAM ARGS... : record a real process's mm syscalls
// and VMA snapshots as a linux-profile trace.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "recorder.hpp"
#include "commands.hpp"

namespace vmref::cli {

namespace {
/// Whether execvp would find `prog`: a path naming an executable file, or a name an
/// executable file in one of PATH's directories has.
bool runnable(const std::string& prog) {
  auto exe = [](const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (prog.find('/') != std::string::npos) return exe(prog);
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (std::size_t at = 0; at <= dirs.size();) {
    std::size_t end = std::min(dirs.find(':', at), dirs.size());
    std::string dir = dirs.substr(at, end - at);
    if (exe(std::filesystem::path(dir.empty() ? "." : dir) / prog)) return true;
    at = end + 1;
  }
  return false;
}
}  // namespace

Runner add_record(CLI::App& app) {
  auto o = std::make_shared<record::RecordOptions>();
  o->out = "trace.jsonl";
  auto* c = app.add_subcommand("record", "Run a program under ptrace and record its memory-management syscalls with /proc/PID/maps snapshots");
  c->add_option("-o,--out", o->out, "Trace file (.jsonl, or .zst to compress)")->capture_default_str();
  c->add_option("program", o->argv, "Program and arguments (after --)")->required();
  return [o] {
    if (!runnable(o->argv.front())) {
      std::cerr << "vmref record: cannot execute '" << o->argv.front() << "': no such executable (or not in PATH)\n";
      return kExitBadInput;  // and no trace file is written
    }
    record::RecordStats s = record::record(*o);
    std::cout << o->out << ": " << s.events << " events (" << s.syscalls << " mm syscalls, " << s.snapshots
              << " maps snapshots); program exited with status " << s.exit_status << "\n";
    return kExitClean;
  };
}

}  // namespace vmref::cli
