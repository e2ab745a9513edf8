// Records a real Linux process's memory-management system calls under ptrace,
// with a /proc/PID/maps snapshot at every such stop, as a `linux`-profile trace.
#pragma once

#include <string>
#include <vector>

namespace vmref::record {

struct RecordOptions {
  std::vector<std::string> argv;  ///< program and arguments (PATH is searched)
  std::string out;                ///< trace file (.jsonl or .zst)
};

struct RecordStats {
  std::uint64_t events = 0, syscalls = 0, snapshots = 0;
  int exit_status = 0;            ///< the program's exit status (128+signal if killed)
  std::vector<std::string> unsupported;  ///< syscalls seen that this recorder cannot express
};

/// Runs the program to completion. This first recorder follows one process only:
/// fork/clone children run untraced (their own address spaces are not recorded), and
/// a thread sharing the address space, or a syscall outside mmap/munmap/mprotect/brk
/// that changes the VMAs (mremap, madvise, shmat...), makes it fail with
/// std::runtime_error naming the syscall, rather than write a trace that cannot replay.
RecordStats record(const RecordOptions& opt);

}  // namespace vmref::record
