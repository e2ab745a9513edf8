#include "recorder.hpp"

#include <fcntl.h>
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
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "vmref/oracle/linux_maps.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/trace/line_io.hpp"

namespace vmref::record {

namespace {

using trace::hex;

std::string errno_name(long e) {
  switch (e) {
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case EFAULT: return "EFAULT";
  }
  return "E" + std::to_string(e);  // not representable: replay reports it as bad input
}

model::Prot prot_of(unsigned long p) { return {(p & 1) != 0, (p & 2) != 0, (p & 4) != 0}; }

/// Identity and access mode of fd in the tracee, read before the syscall runs.
std::optional<model::FileRef> file_of(int pid, long fd) {
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
  return model::FileRef{std::string(dev) + ":" + std::to_string(st.st_ino),
                        n > 0 ? std::string(path, static_cast<std::size_t>(n)) : "",
                        acc == O_WRONLY || acc == O_RDWR};
}

std::uint64_t start_brk(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');  // comm may hold spaces; fields restart after ')'
  std::istringstream in(s.substr(close + 2));
  std::string tok;
  for (int field = 3; in >> tok; ++field)
    if (field == 47) return std::stoull(tok);  // proc(5): (47) start_brk
  throw std::runtime_error("cannot read start_brk from /proc/PID/stat");
}

class Session {
 public:
  Session(const RecordOptions& o) : opt_(o), w_(o.out, trace::wants_zstd(o.out)) {}

  RecordStats run() {
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) child();
    int status;
    waitpid(pid_, &status, 0);  // the child's SIGSTOP
    ptrace(PTRACE_SETOPTIONS, pid_, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC);
    ptrace(PTRACE_SYSCALL, pid_, 0, 0);
    loop();
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

  void emit(const model::Event& e) {
    w_.write(trace::event_to_json(e).dump());
    ++stats_.events;
  }

  model::Event event(model::Op op) const {
    model::Event e;
    e.op = op;
    e.as = static_cast<model::Asid>(pid_);
    return e;
  }

  void header() {
    struct utsname u{};
    uname(&u);
    trace::Header h;
    h.profile = "linux";
    h.arch = "x86_64";
    h.cpus = 1;
    h.phys_mem = static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) * 4096;
    h.provenance = {{"source", "vmref record (ptrace, /proc/PID/maps)"},
                    {"kernel", std::string(u.release)},
                    {"command", opt_.argv},
                    {"scope", "one process; syscall-level events; maps snapshot after each"},
                    {"expected", {{"verdict", "clean"}}}};
    w_.write(trace::header_to_json(h).dump());
  }

  /// After execve: the address space the kernel built, as vseg_insert events. A later
  /// execve of the same process is an exec_reset followed by the new image.
  void image_state(bool first) {
    if (first) header();
    model::Event c = event(first ? model::Op::as_create : model::Op::exec_reset);
    c.addr = start_brk(pid_);
    emit(c);
    stack_start_ = 0;
    for (const auto& v : oracle::read_smaps(pid_)) {
      model::Event e = event(model::Op::vseg_insert);
      e.addr = v.start;
      e.len = v.end - v.start;
      e.prot = *model::Prot::parse(v.perms.substr(0, 3));
      bool special = v.path == "[vdso]" || v.path == "[vvar]" || v.path == "[vvar_vclock]";
      e.vkind = special ? model::Kind::special : v.is_file() ? model::Kind::file
                : v.path == "[stack]" ? model::Kind::stack : model::Kind::anon;
      e.shared = v.perms[3] == 's';
      if (v.is_file()) {
        e.file = model::FileRef{v.file_id(), v.path, false};
        e.offset = v.offset;
      }
      if (!v.path.empty() && v.path[0] == '[' && v.path != "[heap]") e.name = v.path;
      e.growsdown = v.has("gd");
      e.account = v.has("ac");
      e.noreserve = v.has("nr");
      e.locked = v.has("lo");
      e.anon_vma = v.anonymous_kb > 0;
      emit(e);
    }
    snapshot();
  }

  void snapshot() {
    auto vmas = oracle::read_maps(pid_);
    // A stack that grew on a fault between two stops: say so before comparing.
    for (const auto& v : vmas)
      if (v.path == "[stack]" && stack_start_ && v.start < stack_start_) {
        model::Event g = event(model::Op::stack_expand);
        g.addr = v.start;
        emit(g);
      }
    for (const auto& v : vmas)
      if (v.path == "[stack]") stack_start_ = v.start;
    model::Event o = event(model::Op::observe);
    o.expect = {{"vsl", oracle::vsl_expectation(vmas)}};
    emit(o);
    ++stats_.snapshots;
  }

  void on_entry(const __ptrace_syscall_info& si) {
    nr_ = static_cast<long>(si.entry.nr);
    for (int i = 0; i < 6; ++i) args_[i] = si.entry.args[i];
    file_.reset();
    if (nr_ == SYS_mmap && !(args_[3] & 0x20)) file_ = file_of(pid_, static_cast<long>(args_[4]));
  }

  void on_exit(const __ptrace_syscall_info& si) {
    long rv = static_cast<long>(si.exit.rval);
    bool err = si.exit.is_error;
    model::Event e;
    switch (nr_) {
      case SYS_mmap: e = mmap_event(); break;
      case SYS_munmap: e = event(model::Op::munmap); e.addr = args_[0]; e.len = args_[1]; break;
      case SYS_mprotect:
        e = event(model::Op::mprotect); e.addr = args_[0]; e.len = args_[1]; e.prot = prot_of(args_[2]);
        break;
      case SYS_brk: e = event(model::Op::brk); e.addr = args_[0]; break;
      case SYS_mremap: case SYS_madvise: case SYS_shmat: case SYS_shmdt: case SYS_remap_file_pages:
      case SYS_mlock: case SYS_munlock: case SYS_mlockall: case SYS_munlockall: case SYS_pkey_mprotect:
        if (!err) unsupported(nr_);
        return;
      case SYS_clone:
        if (!err && (args_[0] & CLONE_VM)) unsupported(nr_);
        return;
      case SYS_clone3:
        if (!err) unsupported(nr_);
        return;
      default: return;
    }
    ++stats_.syscalls;
    if (nr_ == SYS_brk) e.expect = {{"ret", hex(static_cast<std::uint64_t>(rv))}};
    else if (err) e.expect = {{"errno", errno_name(-rv)}};
    else if (nr_ == SYS_mmap) e.expect = {{"ret", hex(static_cast<std::uint64_t>(rv))}};
    else e.expect = {{"errno", "ok"}};
    emit(e);
    snapshot();
  }

  model::Event mmap_event() {
    model::Event e = event(model::Op::mmap);
    unsigned long fl = args_[3];
    e.addr = args_[0];
    e.len = args_[1];
    e.prot = prot_of(args_[2]);
    e.shared = (fl & 3) != 2;  // MAP_SHARED or MAP_SHARED_VALIDATE
    e.anonymous = fl & 0x20;
    e.placement = (fl & 0x100000) ? model::Placement::fixed_noreplace
                  : (fl & 0x10) ? model::Placement::fixed : model::Placement::hint;
    e.populate = fl & 0x8000;
    e.locked = fl & 0x2000;
    e.growsdown = fl & 0x100;
    e.noreserve = fl & 0x4000;
    if (!e.anonymous) {
      e.file = file_.value_or(model::FileRef{"badfd", "", false});  // EBADF: the kernel fails it
      e.offset = args_[5];
    }
    return e;
  }

  void unsupported(long nr) {
    throw std::runtime_error("the traced program made syscall " + std::to_string(nr) +
                             " (mremap/madvise/shm/mlock/thread clone), which this recorder cannot express yet; "
                             "no trace was kept");
  }

  void loop() {
    bool started = false;
    for (;;) {
      int status;
      if (waitpid(pid_, &status, 0) < 0) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
      if (WIFEXITED(status) || WIFSIGNALED(status)) {
        stats_.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (started) emit(event(model::Op::as_destroy));
        return;
      }
      int sig = 0;
      if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
        image_state(!started);
        started = true;
      } else if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
        __ptrace_syscall_info si{};
        ptrace(static_cast<__ptrace_request>(PTRACE_GET_SYSCALL_INFO), pid_, sizeof si, &si);
        if (started && si.op == PTRACE_SYSCALL_INFO_ENTRY) on_entry(si);
        if (started && si.op == PTRACE_SYSCALL_INFO_EXIT) on_exit(si);
      } else if (WSTOPSIG(status) != SIGTRAP) {
        sig = WSTOPSIG(status);  // deliver the program's own signals
      }
      ptrace(PTRACE_SYSCALL, pid_, 0, sig);
    }
  }

  const RecordOptions& opt_;
  trace::LineWriter w_;
  RecordStats stats_;
  pid_t pid_ = 0;
  long nr_ = -1;
  unsigned long args_[6] = {};
  std::optional<model::FileRef> file_;
  std::uint64_t stack_start_ = 0;
};

}  // namespace

RecordStats record(const RecordOptions& opt) {
  if (opt.argv.empty()) throw std::runtime_error("no program given");
  Session s(opt);
  try {
    return s.run();
  } catch (...) {
    std::remove(opt.out.c_str());
    throw;
  }
}

}  // namespace vmref::record
