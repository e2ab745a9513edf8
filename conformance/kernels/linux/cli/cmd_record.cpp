// vmref record [--out FILE] -- PROGRAM ARGS... : record a real process's mm syscalls
// and VMA snapshots as a linux-profile trace.
#include <iostream>

#include "recorder.hpp"
#include "commands.hpp"

namespace vmref::cli {

Runner add_record(CLI::App& app) {
  auto o = std::make_shared<record::RecordOptions>();
  o->out = "trace.jsonl";
  auto* c = app.add_subcommand("record", "Run a program under ptrace and record its memory-management syscalls with /proc/PID/maps snapshots");
  c->add_option("-o,--out", o->out, "Trace file (.jsonl, or .zst to compress)")->capture_default_str();
  c->add_option("program", o->argv, "Program and arguments (after --)")->required();
  return [o] {
    record::RecordStats s = record::record(*o);
    std::cout << o->out << ": " << s.events << " events (" << s.syscalls << " mm syscalls, " << s.snapshots
              << " maps snapshots); program exited with status " << s.exit_status << "\n";
    return kExitClean;
  };
}

}  // namespace vmref::cli
