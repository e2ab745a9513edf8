// A tree of real Linux processes that execute memory operations on command, inside a
// reserved virtual-address window (the live side of `vmref oracle linux`).
#pragma once

#include <cstdint>
#include <sys/types.h>
#include <vector>

namespace vmref::oracle {

/// One command to a worker; fields by op (all addresses inside the window).
struct Command {
  enum Op : std::uint32_t { mmap, munmap, mprotect, mremap, madvise, touch, fork, exit, mlock };
  Op op = touch;
  std::uint32_t pad = 0;
  /// syscall arguments; touch: va, kind (0 read, 1 write, 2 exec); fork: child slot;
  /// mlock: addr, len, 1 to lock or 0 to unlock
  std::uint64_t a[6] = {};
};

/// A worker's answer: syscall return or -errno, or for touch the signal that stopped it.
struct Reply {
  std::int64_t ret = 0;
  std::int32_t signo = 0;   ///< touch: 0, SIGSEGV or SIGBUS
  std::int32_t code = 0;    ///< touch: si_code (SEGV_MAPERR 1, SEGV_ACCERR 2)
  std::int32_t child = 0;   ///< fork: the child's PID
  std::int32_t pad = 0;
};

/// Up to `slots` worker processes. Slot 0 is started by start(); a worker's fork puts
/// its child in the given free slot. Workers disable THP (PR_SET_THP_DISABLE) so pages
/// stay 4 KiB, and write 0xC3 (x86 RET) when touching for write, so an exec touch of a
/// written page returns at once.
class WorkerPool {
 public:
  WorkerPool(unsigned slots, std::vector<int> file_fds);
  ~WorkerPool();  ///< kills every live worker
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void start();
  /// Sends `c` to `slot` and waits for the reply. For exit, also waits until the
  /// process is gone (its address space torn down). Throws std::runtime_error if the
  /// worker died.
  Reply call(unsigned slot, const Command& c);
  pid_t pid(unsigned slot) const { return pids_[slot]; }
  bool alive(unsigned slot) const { return pids_[slot] != 0; }
  unsigned slots() const { return static_cast<unsigned>(pids_.size()); }

 private:
  std::vector<pid_t> pids_;
  std::vector<int> pidfds_;  ///< exit notification per slot
  std::vector<int> cmd_r_, cmd_w_, rep_r_, rep_w_;
  std::vector<int> files_;
};

}  // namespace vmref::oracle
