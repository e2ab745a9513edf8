#include "recorder.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "linux_events.hpp"
#include "linux_maps.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/trace/line_io.hpp"

namespace vmref::record {

namespace {

using trace::hex;
using vocab::Asid;
using vocab::Va;
using vocab::Event;
using vocab::make_event;
using oracle::errno_name;
namespace ops = linux_mm::ops;

vocab::Prot prot_of(unsigned long p) { return {(p & 1) != 0, (p & 2) != 0, (p & 4) != 0}; }

/// MADV_* number -> the model's advice (Linux include/uapi/asm-generic/mman-common.h).
std::optional<linux_mm::Advice> advice_of(unsigned long a) {
  using linux_mm::Advice;
  switch (a) {
    case 0: return Advice::normal;
    case 1: return Advice::random;
    case 2: return Advice::sequential;
    case 3: return Advice::willneed;
    case 4: return Advice::dontneed;
    case 8: return Advice::free;
    case 10: return Advice::dontfork;
    case 11: return Advice::dofork;
    case 14: return Advice::hugepage;
    case 15: return Advice::nohugepage;
    case 16: return Advice::dontdump;
    case 17: return Advice::dodump;
    case 18: return Advice::wipeonfork;
    case 19: return Advice::keeponfork;
  }
  return std::nullopt;
}

/// smaps VmFlags mnemonic -> vseg flag (Linux fs/proc/task_mmu.c show_smap_vma_flags).
std::optional<vocab::VmFlag> vm_flag_of(const std::string& m) {
  using vocab::VmFlag;
  static const std::map<std::string, VmFlag> k{
      {"lo", VmFlag::locked},    {"gd", VmFlag::growsdown}, {"ac", VmFlag::account},   {"nr", VmFlag::noreserve},
      {"dc", VmFlag::dontcopy},  {"wf", VmFlag::wipeonfork}, {"sr", VmFlag::seq_read}, {"rr", VmFlag::rand_read},
      {"dd", VmFlag::dontdump},  {"hg", VmFlag::hugepage},  {"nh", VmFlag::nohugepage}, {"mg", VmFlag::mergeable}};
  auto it = k.find(m);
  return it == k.end() ? std::nullopt : std::optional(it->second);
}

/// Identity and access mode of fd in the tracee, read before the syscall runs.
std::optional<vocab::FileRef> file_of(int pid, long fd) {
  std::string base = "/proc/" + std::to_string(pid);
  std::string link = base + "/fd/" + std::to_string(fd);
  struct stat st{};
  if (stat(link.c_str(), &st) != 0) return std::nullopt;
  char path[4096] = {};
  ssize_t n = readlink(link.c_str(), path, sizeof path - 1);
  std::ifstream info(base + "/fdinfo/" + std::to_string(fd));
  std::string key, val;
  unsigned flags = 0;
  while (info >> key >> val)
    if (key == "flags:") flags = static_cast<unsigned>(std::stoul(val, nullptr, 8));
  char dev[16];
  std::snprintf(dev, sizeof dev, "%02x:%02x", major(st.st_dev), minor(st.st_dev));
  int acc = static_cast<int>(flags & O_ACCMODE);
  return vocab::FileRef{std::string(dev) + ":" + std::to_string(st.st_ino),
                        n > 0 ? std::string(path, static_cast<std::size_t>(n)) : "",
                        acc == O_WRONLY || acc == O_RDWR};
}

std::uint64_t start_brk(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');  // comm may hold spaces; fields restart after ')'
  if (close == std::string::npos) throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/stat");
  std::istringstream in(s.substr(close + 2));
  std::string tok;
  for (int field = 3; in >> tok; ++field)
    if (field == 47) return std::stoull(tok);  // proc(5): (47) start_brk
  throw std::runtime_error("cannot read start_brk from /proc/PID/stat");
}

/// Syscalls that change an address space or the set of address spaces: they run one at
/// a time so that every snapshot matches the events before it.
bool serialized(long nr) {
  switch (nr) {
    case SYS_mmap: case SYS_munmap: case SYS_mprotect: case SYS_pkey_mprotect: case SYS_mremap:
    case SYS_brk: case SYS_madvise: case SYS_mlock: case SYS_mlock2: case SYS_munlock:
    case SYS_mlockall: case SYS_munlockall: case SYS_shmat: case SYS_shmdt: case SYS_remap_file_pages:
    case SYS_clone: case SYS_clone3: case SYS_fork: case SYS_vfork: case SYS_execve: case SYS_execveat:
      return true;
  }
  return false;
}

struct Task {
  Asid as = 0;
  bool own_process = true;  ///< not a thread: shares an address space only until exec (vfork)
  long nr = -1;
  unsigned long args[6] = {};
  std::optional<vocab::FileRef> file;
};

struct Space {
  int tasks = 0;
  pid_t reader = 0;          ///< a live task whose /proc files show this address space
  std::uint64_t stack_start = 0;
};

class Session {
 public:
  explicit Session(const RecordOptions& o) : opt_(o), w_(o.out, trace::wants_zstd(o.out)) {}

  RecordStats run() {
    root_ = fork();
    if (root_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (root_ == 0) child();
    int status;
    waitpid(root_, &status, 0);  // the child's SIGSTOP
    ptrace(PTRACE_SETOPTIONS, root_, 0,
           PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK |
               PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE);
    tasks_[root_] = Task{};
    ptrace(PTRACE_SYSCALL, root_, 0, 0);
    loop();
    // The child reports why execvp failed; without the program's own execve there is
    // nothing to record, and no trace is written.
    if (!header_done_)
      throw std::runtime_error("cannot execute '" + opt_.argv.front() + "': it exited with status " +
                               std::to_string(stats_.exit_status) + " before its execve succeeded");
    w_.close();
    return stats_;
  }

 private:
  [[noreturn]] void child() {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    std::vector<char*> av;
    for (const auto& a : opt_.argv) av.push_back(const_cast<char*>(a.c_str()));
    av.push_back(nullptr);
    execvp(av[0], av.data());
    std::fprintf(stderr, "vmref record: cannot execute %s: %s\n", av[0], std::strerror(errno));
    _exit(127);
  }

  // ---- trace output ----
  void emit(const Event& e) {
    w_.write(trace::event_to_json(e).dump());
    ++stats_.events;
  }
  /// An event of an operation whose arguments name only the address space.
  static Event in_space(const vocab::OpInfo& op, Asid as) {
    vocab::SpaceArgs a;
    a.as = as;
    return make_event(op, a);
  }

  void header() {
    struct utsname u{};
    uname(&u);
    trace::Header h;
    h.profile = linux_mm::kKernel;
    h.arch = u.machine;  // the host's architecture
    h.cpus = 1;
    h.phys_mem = static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) * 4096;
    h.provenance = {{"source", "vmref record (ptrace, /proc/PID/maps and smaps)"},
                    {"kernel", std::string(u.release)},
                    {"command", opt_.argv},
                    {"scope", "every process and thread of the program; syscall-level events; VMA snapshot after each"},
                    {"expected", {{"verdict", "clean"}}}};
    w_.write(trace::header_to_json(h).dump());
  }

  /// After execve: the address space the kernel built, as vseg_insert events.
  void image_state(Asid as, bool fresh) {
    if (!header_done_) {
      header();
      header_done_ = true;
    }
    Va brk = start_brk(spaces_[as].reader);
    if (fresh) {
      vocab::AsCreateArgs c;
      c.as = as;
      c.brk = brk;
      emit(make_event(vocab::ops::as_create, c));
    } else {
      linux_mm::ExecArgs c;
      c.as = as;
      c.brk = brk;
      emit(make_event(ops::exec_reset, c));
    }
    spaces_[as].stack_start = 0;
    for (const auto& v : oracle::read_smaps(spaces_[as].reader)) {
      vocab::VsegInsertArgs e;
      e.as = as;
      e.start = v.start;
      e.end = v.end;
      e.prot = *vocab::Prot::parse(v.perms.substr(0, 3));
      bool special = v.path == "[vdso]" || v.path == "[vvar]" || v.path == "[vvar_vclock]";
      e.kind = special ? vocab::Kind::special : v.is_file() ? vocab::Kind::file
               : v.path == "[stack]" ? vocab::Kind::stack : vocab::Kind::anon;
      e.shared = v.perms[3] == 's';
      if (v.is_file()) {
        e.file = vocab::FileRef{v.file_id(), v.path, false};
        e.offset = v.offset;
      }
      if (!v.path.empty() && v.path[0] == '[' && v.path != "[heap]") e.name = v.path;
      for (const auto& m : v.vm_flags)
        if (auto f = vm_flag_of(m)) e.flags.set(*f);
      // Anonymous pages prove an owner; none leaves it unknown for private vsegs.
      if (v.anonymous_kb > 0) e.anon_vma = true;
      else if (e.shared) e.anon_vma = false;
      emit(make_event(vocab::ops::vseg_insert, e));
    }
    dirty_.insert(as);
  }

  void snapshot(Asid as) {
    Space& sp = spaces_[as];
    auto vmas = oracle::read_smaps(sp.reader);
    // A live address space always maps its program. No VMA at all means another thread
    // called exit_group and exit_mmap is tearing the space down: that is no snapshot of
    // the state the syscalls left (as_destroy follows).
    if (vmas.empty()) return;
    for (const auto& v : vmas)  // a stack that grew on a fault between two snapshots
      if (v.path == "[stack]") {
        if (sp.stack_start && v.start < sp.stack_start) {
          linux_mm::StackExpandArgs g;
          g.as = as;
          g.va = v.start;
          emit(make_event(ops::stack_expand, g));
        }
        sp.stack_start = v.start;
      }
    Event o = in_space(vocab::ops::observe, as);
    o.expect = {{"vsl", oracle::vsl_expectation(vmas, true)}};
    emit(o);
    ++stats_.snapshots;
  }

  void flush_snapshots() {
    for (Asid as : dirty_)
      if (spaces_.count(as)) snapshot(as);
    dirty_.clear();
  }

  // ---- address spaces and tasks ----
  void new_space(Asid as, pid_t reader) {
    spaces_[as] = Space{1, reader, 0};
    ++stats_.processes;
  }

  void task_gone(pid_t tid) {
    auto it = tasks_.find(tid);
    if (it == tasks_.end()) return;
    Asid as = it->second.as;
    tasks_.erase(it);
    if (in_flight_ == tid) in_flight_ = 0;
    std::erase(held_, tid);
    auto sp = spaces_.find(as);
    if (sp == spaces_.end()) return;
    if (--sp->second.tasks > 0) {
      if (sp->second.reader == tid)
        for (auto& [t, task] : tasks_)
          if (task.as == as) sp->second.reader = t;
      return;
    }
    emit(in_space(vocab::ops::as_destroy, as));
    dirty_.erase(as);
    spaces_.erase(sp);
  }

  /// fork/vfork/clone event stop in `parent`: `kid` is the new task.
  void on_new_task(pid_t parent, pid_t kid, int ev) {
    Task& p = tasks_[parent];
    unsigned long flags = 0;
    if (ev == PTRACE_EVENT_VFORK) flags = CLONE_VM | CLONE_VFORK;
    else if (ev == PTRACE_EVENT_CLONE) flags = p.nr == SYS_clone3 ? clone3_flags(parent, p.args[0]) : p.args[0];
    Task t;
    if (flags & CLONE_VM) {  // shares the parent's address space: a thread, or vfork
      t.as = p.as;
      t.own_process = !(flags & CLONE_THREAD);
      ++spaces_[p.as].tasks;
      ++stats_.threads;
    } else {
      t.as = static_cast<Asid>(kid);
      linux_mm::ForkArgs f;
      f.as = p.as;
      f.child = t.as;
      emit(make_event(ops::fork, f));
      new_space(t.as, kid);
      dirty_.insert(t.as);
    }
    tasks_[kid] = t;
    in_flight_ = 0;  // the syscall's effect is recorded; its exit stop may come much later (vfork)
    if (early_.erase(kid)) ptrace(PTRACE_SYSCALL, kid, 0, 0);
  }

  unsigned long clone3_flags(pid_t tid, unsigned long args_ptr) {
    errno = 0;
    long word = ptrace(PTRACE_PEEKDATA, tid, args_ptr, 0);  // struct clone_args starts with flags
    return errno ? 0 : static_cast<unsigned long>(word);
  }

  void on_exec(pid_t tid) {
    unsigned long former = 0;
    ptrace(PTRACE_GETEVENTMSG, tid, 0, &former);
    Task t = tasks_.count(static_cast<pid_t>(former)) ? tasks_[static_cast<pid_t>(former)] : tasks_[tid];
    tasks_.erase(static_cast<pid_t>(former));
    in_flight_ = 0;
    bool first = !header_done_;
    if (first) {  // the program itself: its first image
      t.as = static_cast<Asid>(tid);
      new_space(t.as, tid);
      tasks_[tid] = t;
      image_state(t.as, true);
      return;
    }
    Space& old = spaces_[t.as];
    if (t.own_process && old.tasks > 1) {  // a vfork child leaves the shared address space
      --old.tasks;
      if (old.reader == tid)
        for (auto& [x, task] : tasks_)
          if (task.as == t.as && x != tid) old.reader = x;
      t.as = static_cast<Asid>(tid);
      t.own_process = true;
      new_space(t.as, tid);
      tasks_[tid] = t;
      image_state(t.as, true);
      return;
    }
    // execve in a process: the address space is rebuilt; other threads are gone.
    for (auto it = tasks_.begin(); it != tasks_.end();)
      it = (it->second.as == t.as && it->first != tid) ? tasks_.erase(it) : std::next(it);
    old.tasks = 1;
    old.reader = tid;
    tasks_[tid] = t;
    image_state(t.as, false);
  }

  // ---- syscalls ----
  void on_entry(pid_t tid, const __ptrace_syscall_info& si) {
    Task& t = tasks_[tid];
    t.nr = static_cast<long>(si.entry.nr);
    for (int i = 0; i < 6; ++i) t.args[i] = si.entry.args[i];
    t.file.reset();
    if (t.nr == SYS_mmap && !(t.args[3] & 0x20)) t.file = file_of(tid, static_cast<long>(t.args[4]));
  }

  /// Returns true when the event changed the task's address space.
  bool on_exit(pid_t tid, const __ptrace_syscall_info& si) {
    Task& t = tasks_[tid];
    long rv = static_cast<long>(si.exit.rval);
    bool err = si.exit.is_error;
    Event e;
    const unsigned long* a = t.args;
    auto range = [&](auto args) {  // the syscall's (addr, len) in its address space
      args.as = t.as;
      args.addr = a[0];
      args.len = a[1];
      return args;
    };
    switch (t.nr) {
      case SYS_mmap: e = mmap_event(t); break;
      case SYS_munmap: e = make_event(ops::munmap, range(linux_mm::MunmapArgs{})); break;
      case SYS_mprotect:
      case SYS_pkey_mprotect: {
        auto m = range(linux_mm::MprotectArgs{});
        m.prot = prot_of(a[2]);
        e = make_event(ops::mprotect, m);
        break;
      }
      case SYS_brk: {
        linux_mm::BrkArgs b;
        b.as = t.as;
        b.addr = a[0];
        e = make_event(ops::brk, b);
        break;
      }
      case SYS_mremap: {
        auto m = range(linux_mm::MremapArgs{});
        m.new_len = a[2];
        m.maymove = a[3] & 1;                           // MREMAP_MAYMOVE
        if (a[3] & 2) m.fixed = true, m.new_addr = a[4];  // MREMAP_FIXED
        m.dontunmap = a[3] & 4;                         // MREMAP_DONTUNMAP
        e = make_event(ops::mremap, m);
        break;
      }
      case SYS_madvise: {
        auto adv = advice_of(a[2]);
        if (!adv) {
          if (!err) unsupported("madvise advice " + std::to_string(a[2]));
          return false;
        }
        auto m = range(linux_mm::MadviseArgs{});
        m.advice = *adv;
        e = make_event(ops::madvise, m);
        break;
      }
      case SYS_mlock:
      case SYS_mlock2:
        if (t.nr == SYS_mlock2 && a[2] != 0 && !err) unsupported("mlock2 with MLOCK_ONFAULT");
        e = make_event(ops::mlock, range(linux_mm::RangeArgs{}));
        break;
      case SYS_munlock: e = make_event(ops::munlock, range(linux_mm::RangeArgs{})); break;
      case SYS_mlockall: case SYS_munlockall: case SYS_shmat: case SYS_shmdt: case SYS_remap_file_pages:
        if (!err) unsupported("syscall " + std::to_string(t.nr) + " (mlockall/munlockall/SysV shm/remap_file_pages)");
        return false;
      default: return false;
    }
    ++stats_.syscalls;
    if (t.nr == SYS_brk) e.expect = {{"ret", hex(static_cast<std::uint64_t>(rv))}};
    else if (err) e.expect = {{"errno", errno_name(-rv)}};
    else if (t.nr == SYS_mmap || t.nr == SYS_mremap) e.expect = {{"ret", hex(static_cast<std::uint64_t>(rv))}};
    else e.expect = {{"errno", "ok"}};
    emit(e);
    return true;
  }

  Event mmap_event(const Task& t) {
    linux_mm::MmapArgs e;
    e.as = t.as;
    unsigned long fl = t.args[3];
    e.addr = t.args[0];
    e.len = t.args[1];
    e.prot = prot_of(t.args[2]);
    e.shared = (fl & 3) != 2;  // MAP_SHARED or MAP_SHARED_VALIDATE
    e.anonymous = fl & 0x20;
    e.placement = (fl & 0x100000) ? linux_mm::Placement::fixed_noreplace
                  : (fl & 0x10) ? linux_mm::Placement::fixed : linux_mm::Placement::hint;
    e.populate = fl & 0x8000;
    e.map_stack = fl & 0x20000;
    e.flags.set(vocab::VmFlag::locked, fl & 0x2000);
    e.flags.set(vocab::VmFlag::growsdown, fl & 0x100);
    e.flags.set(vocab::VmFlag::noreserve, fl & 0x4000);
    if (!e.anonymous) {
      e.file = t.file.value_or(vocab::FileRef{"badfd", "", false});  // EBADF: the kernel fails it
      e.offset = t.args[5];
    }
    return make_event(ops::mmap, e);
  }

  [[noreturn]] void unsupported(const std::string& what) {
    throw std::runtime_error("the traced program used " + what +
                             ", which the model cannot express yet; no trace was kept");
  }

  // ---- the ptrace loop ----
  void resume(pid_t tid, int sig = 0) { ptrace(PTRACE_SYSCALL, tid, 0, sig); }

  /// Lets the next held memory syscall run, once the previous one's snapshot is taken.
  void release_one() {
    if (in_flight_ || held_.empty()) return;
    flush_snapshots();
    while (!held_.empty() && !in_flight_) {
      pid_t next = held_.front();
      held_.pop_front();
      if (ptrace(PTRACE_SYSCALL, next, 0, 0) == 0) in_flight_ = next;  // else it died meanwhile
    }
  }

  void handle(pid_t tid, int status) {
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (tid == root_) stats_.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      task_gone(tid);
      return;
    }
    if (!WIFSTOPPED(status)) return;
    if (!tasks_.count(tid)) {  // a new task reported before its parent's event: wait for it
      early_.insert(tid);
      fresh_stop_.insert(tid);
      return;
    }
    int ev = status >> 16;
    if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK || ev == PTRACE_EVENT_CLONE) {
      unsigned long kid = 0;
      ptrace(PTRACE_GETEVENTMSG, tid, 0, &kid);
      on_new_task(tid, static_cast<pid_t>(kid), ev);
      return resume(tid);
    }
    if (ev == PTRACE_EVENT_EXEC) {
      on_exec(tid);
      return resume(tid);
    }
    if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
      __ptrace_syscall_info si{};
      ptrace(static_cast<__ptrace_request>(PTRACE_GET_SYSCALL_INFO), tid, sizeof si, &si);
      if (!header_done_) return resume(tid);  // before the program's own execve
      if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
        on_entry(tid, si);
        if (serialized(tasks_[tid].nr)) {
          held_.push_back(tid);  // runs when no other memory syscall is in flight
          return release_one();
        }
        return resume(tid);
      }
      if (si.op == PTRACE_SYSCALL_INFO_EXIT) {
        if (on_exit(tid, si)) dirty_.insert(tasks_[tid].as);
        if (in_flight_ == tid) in_flight_ = 0;
      }
      return resume(tid);
    }
    int sig = WSTOPSIG(status);
    if (sig == SIGSTOP && ev == 0 && fresh_stop_.insert(tid).second) sig = 0;  // a new task's first stop
    resume(tid, sig == SIGTRAP ? 0 : sig);
  }

  void loop() {
    for (;;) {
      int status;
      pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
      if (tid == 0) {  // nothing pending: take due snapshots, let the next syscall run
        if (!in_flight_) flush_snapshots();
        release_one();
        tid = waitpid(-1, &status, __WALL);
      }
      if (tid < 0) {
        if (errno == ECHILD) break;
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
      }
      handle(tid, status);
    }
    flush_snapshots();
  }

  const RecordOptions& opt_;
  trace::LineWriter w_;
  RecordStats stats_;
  pid_t root_ = 0;
  bool header_done_ = false;
  std::map<pid_t, Task> tasks_;
  std::map<Asid, Space> spaces_;
  std::set<Asid> dirty_;          ///< address spaces changed since their last snapshot
  std::deque<pid_t> held_;        ///< tasks stopped at the entry of a memory syscall
  pid_t in_flight_ = 0;           ///< the memory syscall allowed to run, 0 if none
  std::set<pid_t> early_, fresh_stop_;
};

}  // namespace

RecordStats record(const RecordOptions& opt) {
  if (opt.argv.empty()) throw std::runtime_error("no program given");
  try {
    Session s(opt);
    return s.run();
  } catch (...) {
    std::remove(opt.out.c_str());
    throw;
  }
}

}  // namespace vmref::record
