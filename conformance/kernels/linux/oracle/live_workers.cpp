#include "live_workers.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csetjmp>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>

namespace vmref::oracle {

namespace {

sigjmp_buf g_jump;
volatile sig_atomic_t g_signo = 0, g_code = 0;

void on_fault(int signo, siginfo_t* si, void*) {
  g_signo = signo;
  g_code = si->si_code;
  siglongjmp(g_jump, 1);
}

bool read_all(int fd, void* buf, std::size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool write_all(int fd, const void* buf, std::size_t n) {
  auto* p = static_cast<const char*>(buf);
  while (n) {
    ssize_t r = write(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

std::int64_t sys_result(long r) { return r == -1 ? -errno : r; }

/// A pidfd becomes readable once the process has exited (its mm already torn down),
/// whoever reaps it (pidfd_open(2), Linux >= 5.3).
int open_pidfd(pid_t p) { return static_cast<int>(syscall(SYS_pidfd_open, p, 0)); }

/// Touches `va`; returns the signal that interrupted it (0 if none).
void touch(std::uint64_t va, std::uint64_t kind, Reply& out) {
  g_signo = 0;
  g_code = 0;
  if (sigsetjmp(g_jump, 1) == 0) {
    if (kind == 0) {
      volatile char x = *reinterpret_cast<volatile char*>(va);
      (void)x;
    } else if (kind == 1) {
      *reinterpret_cast<volatile unsigned char*>(va) = 0xC3;  // RET, for later exec touches
    } else {
      reinterpret_cast<void (*)()>(va)();
    }
  }
  out.signo = g_signo;
  out.code = g_code;
}

}  // namespace

WorkerPool::WorkerPool(unsigned slots, std::vector<int> file_fds)
    : pids_(slots, 0), pidfds_(slots, -1), cmd_r_(slots), cmd_w_(slots), rep_r_(slots), rep_w_(slots), files_(std::move(file_fds)) {
  for (unsigned i = 0; i < slots; ++i) {
    int c[2], r[2];
    if (pipe(c) || pipe(r)) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    cmd_r_[i] = c[0];
    cmd_w_[i] = c[1];
    rep_r_[i] = r[0];
    rep_w_[i] = r[1];
  }
}

WorkerPool::~WorkerPool() {
  for (pid_t p : pids_)
    if (p) kill(p, SIGKILL);
  if (pids_.size() && pids_[0]) waitpid(pids_[0], nullptr, 0);
  for (int fd : pidfds_)
    if (fd >= 0) close(fd);
  for (auto* v : {&cmd_r_, &cmd_w_, &rep_r_, &rep_w_})
    for (int fd : *v) close(fd);
}

void WorkerPool::start() {
  pid_t p = ::fork();
  if (p < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (p > 0) {
    pids_[0] = p;
    pidfds_[0] = open_pidfd(p);
    return;
  }
  // ---- worker process ----
  prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGCHLD, SIG_IGN);  // children are reaped by the kernel: exit leaves no zombie
  struct sigaction sa{};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);
  unsigned slot = 0;
  for (;;) {
    Command c;
    if (!read_all(cmd_r_[slot], &c, sizeof c)) _exit(0);
    Reply out;
    const std::uint64_t* a = c.a;
    switch (c.op) {
      case Command::mmap: {
        int fd = a[4] == UINT64_MAX ? -1 : files_[a[4]];
        void* r = ::mmap(reinterpret_cast<void*>(a[0]), a[1], static_cast<int>(a[2]), static_cast<int>(a[3]), fd,
                         static_cast<off_t>(a[5]));
        out.ret = r == MAP_FAILED ? -errno : static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(r));
        break;
      }
      case Command::munmap: out.ret = sys_result(::munmap(reinterpret_cast<void*>(a[0]), a[1])); break;
      case Command::mprotect:
        out.ret = sys_result(::mprotect(reinterpret_cast<void*>(a[0]), a[1], static_cast<int>(a[2])));
        break;
      case Command::mremap: {
        void* r = ::mremap(reinterpret_cast<void*>(a[0]), a[1], a[2], static_cast<int>(a[3]), reinterpret_cast<void*>(a[4]));
        out.ret = r == MAP_FAILED ? -errno : static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(r));
        break;
      }
      case Command::madvise:
        out.ret = sys_result(::madvise(reinterpret_cast<void*>(a[0]), a[1], static_cast<int>(a[2])));
        break;
      case Command::mlock: {
        void* p = reinterpret_cast<void*>(a[0]);
        // The raw system call: sanitizer runtimes intercept mlock/munlock and skip them.
        out.ret = sys_result(a[2] ? syscall(SYS_mlock, p, a[1]) : syscall(SYS_munlock, p, a[1]));
        break;
      }
      case Command::touch: touch(a[0], a[1], out); break;
      case Command::fork: {
        pid_t kid = ::fork();
        if (kid == 0) {
          slot = static_cast<unsigned>(a[0]);  // the child serves its own slot from now on
          continue;
        }
        out.child = kid;
        out.ret = kid < 0 ? -errno : 0;
        break;
      }
      case Command::exit: _exit(0);
    }
    if (!write_all(rep_w_[slot], &out, sizeof out)) _exit(1);
  }
}

Reply WorkerPool::call(unsigned slot, const Command& c) {
  if (!alive(slot)) throw std::runtime_error("worker slot " + std::to_string(slot) + " is not running");
  if (!write_all(cmd_w_[slot], &c, sizeof c)) throw std::runtime_error("worker " + std::to_string(pids_[slot]) + " is gone");
  if (c.op == Command::exit) {
    pid_t p = pids_[slot];
    pids_[slot] = 0;
    if (slot == 0) {
      waitpid(p, nullptr, 0);
    } else if (pidfds_[slot] >= 0) {
      pollfd pfd{pidfds_[slot], POLLIN, 0};
      if (poll(&pfd, 1, 10000) != 1) throw std::runtime_error("worker " + std::to_string(p) + " did not exit");
    }
    if (pidfds_[slot] >= 0) close(pidfds_[slot]);
    pidfds_[slot] = -1;
    return {};
  }
  Reply r;
  if (!read_all(rep_r_[slot], &r, sizeof r)) throw std::runtime_error("worker " + std::to_string(pids_[slot]) + " died");
  if (c.op == Command::fork && r.child > 0) {
    pids_[c.a[0]] = r.child;
    pidfds_[c.a[0]] = open_pidfd(r.child);
  }
  return r;
}

}  // namespace vmref::oracle
