// Records a real Linux program's memory-management system calls under ptrace, following
// every process and thread it creates, with a /proc/PID/maps snapshot of the address
// space after each one, as a `linux`-profile trace (spec/trace-format.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vmref::record {

struct RecordOptions {
  std::vector<std::string> argv;  ///< program and arguments (PATH is searched)
  std::string out;                ///< trace file (.jsonl, or .zst to compress)
};

struct RecordStats {
  std::uint64_t events = 0, syscalls = 0, snapshots = 0, processes = 0, threads = 0;
  int exit_status = 0;            ///< the program's exit status (128+signal if killed)
};

/// Runs the program to completion and writes the trace.
///
/// Recorded: mmap, munmap, mprotect, pkey_mprotect, mremap, brk, madvise (advice the
/// model knows), mlock, mlock2, munlock, fork/vfork/clone (new address space, or a task
/// sharing one), execve, and the end of each address space. Address spaces are named by
/// the PID that created them. Memory syscalls are serialized: while one runs, or while
/// its snapshot is not yet taken, every other task that enters one waits, so each
/// snapshot shows exactly the events before it.
///
/// Throws std::runtime_error naming the syscall when the program uses one the model
/// cannot express (mlockall, SysV shm, remap_file_pages, other madvise advice...), and
/// "cannot execute 'PROG'" when the program never reached its execve; the partial trace
/// is removed.
RecordStats record(const RecordOptions& opt);

}  // namespace vmref::record
