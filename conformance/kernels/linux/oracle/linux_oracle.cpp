#include "vmref/conformance/draw.hpp"
#include "linux_oracle.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <csignal>
#include <filesystem>
#include <optional>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "linux_events.hpp"
#include "vmref/conformance/ddmin.hpp"
#include "vmref/conformance/expect.hpp"
#include "vmref/conformance/replay.hpp"
#include "vmref/conformance/snapshot.hpp"
#include "vmref/diff/corpus.hpp"
#include "vmref/model/invariants.hpp"
#include "linux_maps.hpp"
#include "linux_pagemap.hpp"
#include "live_workers.hpp"
#include "vmref/trace/codec.hpp"
#include "vmref/trace/line_io.hpp"

namespace vmref::oracle {

namespace {

using conformance::Finding;
using vocab::Event;
using vocab::Va;
namespace ops = linux_mm::ops;

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kFilePages = 32;  ///< offsets are drawn from this many pages
/// Sizes of the memfd backing files (bytes): one covers every offset, the others end
/// early (one mid-page), so mappings reach past their end and faults there give SIGBUS.
constexpr std::uint64_t kFileBytes[] = {kFilePages * kPage, 8 * kPage, 3 * kPage + 1000};
constexpr unsigned kFiles = std::size(kFileBytes);

/// The model's view of an operation, without the address space (and, for fork, the
/// child): those are known only when it runs.
using OpArgs = std::variant<linux_mm::MmapArgs, linux_mm::MunmapArgs, linux_mm::MprotectArgs, linux_mm::MremapArgs,
                            linux_mm::MadviseArgs, linux_mm::RangeArgs, vocab::AccessArgs, linux_mm::ForkArgs, vocab::SpaceArgs>;

/// One generated operation. It names worker slots, not PIDs, so a shrunk sequence can
/// run again on fresh processes.
struct OracleOp {
  Command cmd;
  unsigned slot = 0;
  const vocab::OpInfo* op = nullptr;
  OpArgs args;
};

/// One execution of a sequence against fresh workers and a fresh model.
class Run {
 public:
  Run(const OracleOptions& opt, bool record) : opt_(opt), record_(record), m_(make_model(opt)) {
    for (unsigned i = 0; i < kFiles; ++i) make_file(i);
    pool_ = std::make_unique<WorkerPool>(opt.processes, fds_);
    pool_->start();
    for (const auto& v : read_maps(pool_->pid(0)))
      if (v.end > opt.window && v.start < opt.window + opt.window_pages * kPage)
        throw std::runtime_error("the oracle window is already in use in the worker");
    as_.assign(opt.processes, 0);
    as_[0] = static_cast<vocab::Asid>(pool_->pid(0));
    vocab::AsCreateArgs c;
    c.as = as_[0];
    apply_plain(vocab::make_event(vocab::ops::as_create, c));
    seen_.assign(opt.processes, std::vector<std::uint64_t>(opt.window_pages, 0));
  }

  ~Run() {
    for (int fd : fds_) close(fd);
  }

  const model::Model& model() const { return m_; }

  /// An exec touch runs only where nothing but 0xC3 (RET) can execute: a page the
  /// worker wrote, or one the model says faults first. Checked when the op runs, as
  /// shrinking may have removed the write that made it safe.
  bool exec_is_safe(const OracleOp& op) const {
    const model::AddressSpace* s = m_.space(as_[op.slot]);
    Va va = op.cmd.a[0];
    const model::Vseg* v = s ? s->vsl.find(va) : nullptr;
    if (!v || !v->prot.x) return true;
    auto it = s->gpt.find(va >> 12);
    return it != s->gpt.end() && m_.frames()[it->second.frame].content == model::Content::data;
  }
  bool alive(unsigned slot) const { return pool_->alive(slot); }
  vocab::Asid as_of(unsigned slot) const { return as_[slot]; }
  unsigned live() const {
    unsigned n = 0;
    for (unsigned s = 0; s < pool_->slots(); ++s) n += alive(s);
    return n;
  }
  const std::vector<Event>& events() const { return events_; }
  const std::vector<vocab::FileRef>& files() const { return files_; }
  std::uint64_t comparisons = 0, undetermined = 0, transients = 0;

  /// Runs one operation on both sides and compares. Returns the findings (empty when
  /// they agree). An operation on a slot that is not running is skipped.
  std::vector<Finding> step(const OracleOp& op) {
    std::vector<Finding> found;
    if (!alive(op.slot)) return found;
    if (op.cmd.op == Command::fork && (alive(static_cast<unsigned>(op.cmd.a[0])) || live() >= pool_->slots()))
      return found;
    if (op.cmd.op == Command::exit && op.slot == 0) return found;
    if (op.cmd.op == Command::touch && op.cmd.a[1] == 2 && !exec_is_safe(op)) return found;
    OpArgs args = op.args;
    vocab::Asid as = as_[op.slot];
    std::visit([&](auto& a) {
      if constexpr (std::is_base_of_v<vocab::SpaceArgs, std::decay_t<decltype(a)>>) a.as = as;
    }, args);
    if (op.cmd.op == Command::mmap && op.cmd.a[4] != UINT64_MAX)
      std::get<linux_mm::MmapArgs>(args).file = files_[op.cmd.a[4]];  // this run's memfd
    if (op.op == &vocab::ops::access) switch_to(as);
    Reply r = pool_->call(op.slot, op.cmd);
    if (op.cmd.op == Command::fork && r.child > 0) {
      auto child = static_cast<vocab::Asid>(r.child);
      std::get<linux_mm::ForkArgs>(args).child = child;
      as_[op.cmd.a[0]] = child;
      seen_[op.cmd.a[0]].assign(opt_.window_pages, 0);  // a new process: nothing observed yet
    }
    Event e = std::visit([&](const auto& a) { return vocab::make_event(*op.op, a, op.op == &vocab::ops::access ? 0 : -1); },
                         args);
    e.expect = expectation(op, r);
    vocab::Outcome o = m_.apply(e);
    record(e);
    std::vector<model::Violation> viol;
    model::check_invariants(m_, false, viol);
    for (auto& v : viol) found.push_back({v.id, index_, 0, e.op_name(), v.message, ""});
    compare(e, o, found);
    bool identity = op.cmd.op == Command::touch || op.cmd.op == Command::fork || op.cmd.op == Command::mprotect;
    observe_all(found, identity);
    ++index_;
    return found;
  }

 private:
  static model::Model make_model(const OracleOptions& opt) {
    return model::Model(opt.profile, 1, (1ull << 30) / kPage, kPage);
  }

  void make_file(unsigned i) {
    int fd = memfd_create(("vmref-oracle-" + std::to_string(i)).c_str(), 0);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(kFileBytes[i])) != 0)
      throw std::runtime_error("memfd_create/ftruncate failed");
    struct stat st{};
    fstat(fd, &st);
    char dev[16];
    std::snprintf(dev, sizeof dev, "%02x:%02x", major(st.st_dev), minor(st.st_dev));
    fds_.push_back(fd);
    files_.push_back({std::string(dev) + ":" + std::to_string(st.st_ino), "/memfd:vmref-oracle-" + std::to_string(i), true,
                      kFileBytes[i]});
  }

  void record(const Event& e) {
    if (record_) events_.push_back(e);
  }

  void apply_plain(const Event& e) {
    m_.apply(e);
    record(e);
  }

  void switch_to(vocab::Asid as) {
    if (cpu_as_ == as) return;
    vocab::SwitchArgs s;
    s.as = as;
    apply_plain(vocab::make_event(vocab::ops::switch_as, s, 0));
    cpu_as_ = as;
  }

  nlohmann::json expectation(const OracleOp& op, const Reply& r) {
    switch (op.cmd.op) {
      case Command::touch: {
        const char* res = r.signo == 0 ? "ok" : r.signo == SIGBUS ? "sigbus" : r.code == 1 ? "segv_maperr" : "segv_accerr";
        return {{"result", res}};
      }
      case Command::exit: return nullptr;
      case Command::mmap:
      case Command::mremap:
        if (r.ret >= 0) return {{"ret", trace::hex(static_cast<std::uint64_t>(r.ret))}};
        return {{"errno", errno_name(-r.ret)}};
      default: return {{"errno", r.ret >= 0 ? "ok" : errno_name(-r.ret)}};
    }
  }

  void compare(const Event& e, const vocab::Outcome& o, std::vector<Finding>& found) {
    std::vector<Finding> und;
    try {
      comparisons += conformance::compare_expect(m_, e, o, "<oracle>", index_, found, und, labels_);
    } catch (const std::exception& ex) {  // an outcome the trace format cannot name
      found.push_back({"EXPECT-ERRNO", index_, 0, e.op_name(), ex.what(), ""});
    }
    undetermined += und.size();
  }

  /// The kernel's view of one worker's window, as an observe event with expectations.
  /// `identity`: the operation was one where a page present before and after may keep
  /// or replace its frame (touch, fork, mprotect); say which the kernel did ("kept").
  Event observation(unsigned slot, std::vector<LivePage>& pages, bool identity) {
    Va lo = opt_.window, hi = opt_.window + opt_.window_pages * kPage;
    std::vector<LinuxVma> vmas;
    for (auto& v : read_maps(pool_->pid(slot)))
      if (v.start >= lo && v.end <= hi) vmas.push_back(v);
    // A page the kernel is migrating (compaction) shows as a swap entry for a moment:
    // wait until none is, so the observation is of a settled state.
    for (int tries = 0;; ++tries) {
      pages = reader_.read(pool_->pid(slot), lo, opt_.window_pages);
      bool moving = std::any_of(pages.begin(), pages.end(), [](const LivePage& p) { return p.swap_entry; });
      if (!moving || tries == 1000) break;
      ++transients;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    nlohmann::json pj = nlohmann::json::array();
    for (std::uint64_t i = 0; i < pages.size(); ++i) {
      const LivePage& p = pages[i];
      nlohmann::json e{{"va", trace::hex(lo + i * kPage)}, {"present", p.present}};
      if (p.present) {
        e["zero"] = p.zero_page;
        // Labels unique to this operation: PFNs are reused, so identity across
        // operations is checked separately (frame_identity).
        e["frame"] = p.zero_page ? "zero" : "op" + std::to_string(index_) + ":" + std::to_string(p.pfn);
        if (!p.zero_page) {
          e["mapcount"] = p.mapcount;
          e["exclusive"] = p.exclusive;
        }
        if (identity && seen_[slot][i]) e["kept"] = seen_[slot][i] == p.pfn;
      }
      seen_[slot][i] = p.present ? p.pfn : 0;
      pj.push_back(e);
    }
    vocab::SpaceArgs a;
    a.as = as_[slot];
    Event o = vocab::make_event(vocab::ops::observe, a);
    o.expect = {{"vsl", vsl_expectation(vmas)}, {"pages", pj}};
    return o;
  }

  void observe_all(std::vector<Finding>& found, bool identity) {
    for (unsigned s = 0; s < pool_->slots(); ++s) {
      if (!alive(s)) continue;
      std::vector<LivePage> pages;
      Event o = observation(s, pages, identity);
      record(o);
      compare(o, {}, found);
    }
  }

  const OracleOptions& opt_;
  bool record_;
  model::Model m_;
  std::vector<int> fds_;
  std::vector<vocab::FileRef> files_;
  std::unique_ptr<WorkerPool> pool_;
  PageReader reader_;
  std::vector<vocab::Asid> as_;
  vocab::Asid cpu_as_ = 0;
  std::vector<std::vector<std::uint64_t>> seen_;  ///< PFN per slot and page at the last observe (0: none)
  conformance::FrameLabels labels_;
  std::vector<Event> events_;
  std::uint64_t index_ = 0;
};

// ---------------------------------------------------------------------------
// Generation

class Generator {
 public:
  Generator(const OracleOptions& opt) : opt_(opt), rng_(opt.seed) {}

  OracleOp next(const Run& run) {
    std::vector<unsigned> live;
    for (unsigned s = 0; s < opt_.processes; ++s)
      if (run.alive(s)) live.push_back(s);
    OracleOp op;
    op.slot = live[pick(live.size())];
    std::uint64_t r = pick(100);
    if (r < 18) mmap(op, run);
    else if (r < 28) range(op, Command::munmap, ops::munmap);
    else if (r < 40) protect(op);
    else if (r < 45) remap(op, run);
    else if (r < 50) advise(op);
    else if (r < 52) range(op, Command::mlock, pick(2) ? ops::mlock : ops::munlock);
    else if (r < 94 || opt_.processes == 1) touch(op, run);
    else if (r < 97 || live.size() == 1) fork(op, run);
    else exit(op, live);
    return op;
  }

 private:
  std::uint64_t pick(std::uint64_t n) { return conformance::draw(rng_, n); }
  Va page(std::uint64_t i) const { return opt_.window + i * kPage; }
  std::uint64_t pages() const { return opt_.window_pages; }

  void mmap(OracleOp& op, const Run& run) {
    std::uint64_t n = 1 + pick(8), first = pick(pages() - n + 1);
    static const int prots[] = {PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC,
                                PROT_READ | PROT_WRITE | PROT_EXEC, PROT_NONE, PROT_WRITE};
    int prot = prots[pick(6)];
    std::uint64_t k = pick(100);
    bool anon = k < 65, shared = (k >= 50 && k < 65) || k >= 85;
    int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | (pick(5) ? MAP_FIXED : MAP_FIXED_NOREPLACE);
    if (anon) flags |= MAP_ANONYMOUS;
    if (!pick(20)) flags |= MAP_POPULATE;
    std::uint64_t file = pick(kFiles), off = anon ? 0 : pick(kFilePages - n + 1) * kPage;
    op.cmd.op = Command::mmap;
    op.cmd.a[0] = page(first);
    op.cmd.a[1] = n * kPage;
    op.cmd.a[2] = static_cast<std::uint64_t>(prot);
    op.cmd.a[3] = static_cast<std::uint64_t>(flags);
    op.cmd.a[4] = anon ? UINT64_MAX : file;
    op.cmd.a[5] = off;
    linux_mm::MmapArgs e;
    e.addr = page(first);
    e.len = n * kPage;
    e.prot = {(prot & PROT_READ) != 0, (prot & PROT_WRITE) != 0, (prot & PROT_EXEC) != 0};
    e.shared = shared;
    e.anonymous = anon;
    e.placement = (flags & MAP_FIXED) ? linux_mm::Placement::fixed : linux_mm::Placement::fixed_noreplace;
    e.populate = flags & MAP_POPULATE;
    if (!anon) {
      e.file = run.files()[file];  // replaced by the running memfd's identity in Run::step
      e.offset = off;
    }
    op.op = &ops::mmap;
    op.args = e;
  }

  void range(OracleOp& op, Command::Op cop, const vocab::OpInfo& mop) {
    std::uint64_t n = 1 + pick(8), first = pick(pages() - n + 1);
    op.cmd.op = cop;
    op.cmd.a[0] = page(first);
    op.cmd.a[1] = n * kPage;
    op.op = &mop;
    auto fill = [&](auto a) {
      a.addr = page(first);
      a.len = n * kPage;
      return a;
    };
    if (&mop == &ops::madvise) {
      op.args = fill(linux_mm::MadviseArgs{});
    } else if (cop == Command::mlock) {
      op.cmd.a[2] = &mop == &ops::mlock;
      op.args = fill(linux_mm::RangeArgs{});
    } else if (&mop == &ops::mprotect) {
      op.args = fill(linux_mm::MprotectArgs{});
    } else {
      op.args = fill(linux_mm::MunmapArgs{});
    }
  }

  /// madvise: mostly MADV_DONTNEED, and the advice that changes vseg flags (so splits and
  /// merges by madvise, and fork's dontcopy and wipeonfork cases) or frees lazily.
  void advise(OracleOp& op) {
    using linux_mm::Advice;
    static const std::pair<int, Advice> advice[] = {
        {MADV_DONTNEED, Advice::dontneed}, {MADV_DONTNEED, Advice::dontneed}, {MADV_FREE, Advice::free},
        {MADV_DONTFORK, Advice::dontfork}, {MADV_DOFORK, Advice::dofork},     {MADV_WIPEONFORK, Advice::wipeonfork},
        {MADV_KEEPONFORK, Advice::keeponfork}, {MADV_RANDOM, Advice::random}, {MADV_NORMAL, Advice::normal}};
    range(op, Command::madvise, ops::madvise);
    const auto& [number, kind] = advice[pick(std::size(advice))];
    op.cmd.a[2] = static_cast<std::uint64_t>(number);
    std::get<linux_mm::MadviseArgs>(op.args).advice = kind;
  }

  void protect(OracleOp& op) {
    range(op, Command::mprotect, ops::mprotect);
    // No execute-only: with protection keys it cannot be read, without them it can.
    static const int prots[] = {PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC,
                                PROT_READ | PROT_WRITE | PROT_EXEC, PROT_WRITE};
    int prot = prots[pick(6)];
    op.cmd.a[2] = static_cast<std::uint64_t>(prot);
    std::get<linux_mm::MprotectArgs>(op.args).prot = {(prot & PROT_READ) != 0, (prot & PROT_WRITE) != 0,
                                                      (prot & PROT_EXEC) != 0};
  }

  /// mremap of an existing vseg: shrink, grow in place, or move within the window (a
  /// file vseg may grow past its file's end: faults there give SIGBUS).
  void remap(OracleOp& op, const Run& run) {
    const model::AddressSpace* s = run.model().space(run.as_of(op.slot));
    std::vector<const model::Vseg*> vsegs;
    if (s)
      for (const auto& [st, v] : s->vsl.map()) vsegs.push_back(&v);
    if (vsegs.empty()) return touch(op, run);
    // Half the time, prefer a vseg whose grow would reach a neighbour it could merge with
    // (a hole cut out of one mapping, the issue-12 family): random sizes rarely line up.
    std::vector<const model::Vseg*> fills;
    for (const model::Vseg* c : vsegs)
      if (const model::Vseg* n = s->vsl.next_from(c->end);
          n && n->start > c->end && n->prot == c->prot && n->object == c->object &&
          c->pgoff + (n->start - c->start) / kPage == n->pgoff)
        fills.push_back(c);
    bool fill = !fills.empty() && pick(2);
    const model::Vseg& v = fill ? *fills[pick(fills.size())] : *vsegs[pick(vsegs.size())];
    std::uint64_t old_pages = v.bytes() / kPage;
    op.cmd.op = Command::mremap;
    linux_mm::MremapArgs m;
    m.addr = op.cmd.a[0] = v.start;
    m.len = op.cmd.a[1] = v.bytes();
    std::uint64_t k = fill ? 1 : pick(3);
    std::uint64_t new_pages = k == 0 ? 1 + pick(old_pages) : old_pages + 1 + pick(4);
    // Half of the in-place grows fill the hole up to the next vseg exactly, where the
    // merge rules of an extension decide (spec/kernels/linux.md §2.13).
    const model::Vseg* next = s->vsl.next_from(v.end);
    if (k == 1 && next && next->start > v.end && (fill || pick(2))) new_pages = old_pages + (next->start - v.end) / kPage;
    m.new_len = op.cmd.a[2] = new_pages * kPage;
    if (k == 2 && new_pages <= pages()) {  // move to a fixed place in the window
      Va dest = page(pick(pages() - new_pages + 1));
      op.cmd.a[3] = MREMAP_MAYMOVE | MREMAP_FIXED;
      op.cmd.a[4] = dest;
      m.maymove = true;
      m.fixed = true;
      m.new_addr = dest;
    }
    if (!m.fixed && v.start + new_pages * kPage > page(pages()))
      m.new_len = op.cmd.a[2] = v.bytes();  // would leave the window: same size (a no-op)
    op.op = &ops::mremap;
    op.args = m;
  }

  void touch(OracleOp& op, const Run& run) {
    std::uint64_t i = pick(pages());
    Va va = page(i);
    std::uint64_t kind = pick(100) < 50 ? 0 : 1;
    op.cmd.op = Command::touch;
    op.cmd.a[0] = va;
    op.cmd.a[1] = kind;
    if (pick(8) == 0) {  // an exec touch, where it is safe (Run::exec_is_safe)
      op.cmd.a[1] = 2;
      if (!run.exec_is_safe(op)) op.cmd.a[1] = kind;
    }
    kind = op.cmd.a[1];
    vocab::AccessArgs a;
    a.va = va;
    a.kind = kind == 0 ? vocab::AccessKind::read : kind == 1 ? vocab::AccessKind::write : vocab::AccessKind::exec;
    op.op = &vocab::ops::access;
    op.args = a;
  }

  void fork(OracleOp& op, const Run& run) {
    unsigned free_slot = 0;
    for (unsigned s = 1; s < opt_.processes; ++s)
      if (!run.alive(s)) free_slot = s;
    if (!free_slot) return touch(op, run);
    op.cmd.op = Command::fork;
    op.cmd.a[0] = free_slot;
    op.op = &ops::fork;
    op.args = linux_mm::ForkArgs{};
  }

  void exit(OracleOp& op, const std::vector<unsigned>& live) {
    unsigned s = live[1 + pick(live.size() - 1)];  // slot 0 lives for the whole run
    op.slot = s;
    op.cmd.op = Command::exit;
    op.op = &vocab::ops::as_destroy;
    op.args = vocab::SpaceArgs{};
  }

  const OracleOptions& opt_;
  std::mt19937_64 rng_;
};

// ---------------------------------------------------------------------------
// Shrinking and output

/// Runs `ops` on fresh processes; returns the index of the first divergent op, or -1.
long first_divergence(const OracleOptions& opt, const std::vector<OracleOp>& ops) {
  Run run(opt, false);
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (!run.step(ops[i]).empty()) return static_cast<long>(i);
  return -1;
}

/// ddmin over the operation list: drop chunks while the divergence persists.
std::vector<OracleOp> shrink(const OracleOptions& opt, std::vector<OracleOp> ops) {
  return conformance::ddmin<OracleOp>(std::move(ops), [&](const std::vector<OracleOp>& c) { return first_divergence(opt, c); },
                         opt.shrink_runs);
}

std::string write_trace(const OracleOptions& opt, const std::vector<OracleOp>& ops) {
  Run run(opt, true);
  for (const auto& op : ops) run.step(op);
  std::filesystem::create_directories(opt.out_dir);
  std::string path = opt.out_dir + "/oracle-" + opt.profile + "-seed" + std::to_string(opt.seed) + ".jsonl";
  for (char& c : path)
    if (c == ':') c = '_';
  struct utsname u{};
  uname(&u);
  trace::Header h;
  h.profile = opt.profile;
  h.arch = u.machine;  // the host's architecture: the live kernel's page tables
  h.cpus = 1;
  h.phys_mem = 1ull << 30;
  h.provenance = {{"source", "vmref oracle linux (minimized divergence)"},
                  {"kernel", std::string(u.release)},
                  {"seed", opt.seed},
                  {"window", trace::hex(opt.window)},
                  {"expected", {{"verdict", "findings"}}}};
  trace::LineWriter w(path, false);
  w.write(trace::header_to_json(h).dump());
  for (const auto& e : run.events()) w.write(trace::event_to_json(e).dump());
  w.close();
  return path;
}

}  // namespace

const std::set<std::string>& rules_not_generated() {
  static const std::set<std::string> rules{"merge.brk",  "split.brk",        "stack.grow",
                                           "fork.pinned-copy", "anon.undetermined"};
  return rules;
}

namespace {

/// Adds `from`'s hits to `into`'s, rule by rule (one table per kernel: the same order).
void add_rules(std::vector<model::RuleCount>& into, const std::vector<model::RuleCount>& from) {
  if (into.empty()) {
    into = from;
    return;
  }
  for (std::size_t i = 0; i < into.size() && i < from.size(); ++i) into[i].hits += from[i].hits;
}

/// The seed of episode `ep`: the campaign's own seed when it is one episode, so a plain
/// `--seed S --ops N` runs what it always ran.
std::uint64_t episode_seed(const OracleOptions& opt, std::uint64_t ep) {
  return opt.episode == 0 ? opt.seed : opt.seed * 1000003ull + ep;
}

}  // namespace

OracleResult run_linux_oracle(const OracleOptions& given) {
  if (given.processes == 0 || given.window_pages < 16 || given.window % kPage)
    throw std::invalid_argument("need at least 1 process and a page-aligned window of at least 16 pages");
  if (given.shards < 1 || given.shard >= given.shards) throw std::invalid_argument("--shard: K must be 1..N");
  if (given.shards > 1 && given.episode == 0)
    throw std::invalid_argument("--shard splits a campaign's episodes: give --episode OPS as well");
  OracleOptions opt = given;
  std::optional<diff::CorpusProgress> progress;
  if (!opt.corpus_dir.empty()) {
    progress.emplace(opt.corpus_dir, opt.identity);
    opt.out_dir = opt.corpus_dir;
  }
  OracleResult res;
  auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  auto time_left = [&] { return opt.seconds <= 0 || elapsed() < opt.seconds; };
  const bool timed = opt.seconds > 0;
  const std::uint64_t per = opt.episode ? opt.episode : timed ? UINT64_MAX : std::max<std::uint64_t>(opt.ops, 1);
  const std::uint64_t planned = timed ? UINT64_MAX : (opt.ops + per - 1) / per;
  double next_report = opt.progress_every;
  std::vector<OracleOp> done;
  OracleOptions diverged_in = opt;
  for (std::uint64_t k = 0; time_left(); ++k) {
    const std::uint64_t ep = opt.shard + k * opt.shards;
    if (ep >= planned) break;
    const std::uint64_t length = timed ? per : std::min(per, opt.ops - ep * per);
    if (progress && progress->done(ep)) {
      ++res.resumed;
      continue;
    }
    OracleOptions eo = opt;
    eo.seed = episode_seed(opt, ep);
    Generator gen(eo);
    Run run(eo, false);
    done.clear();
    std::uint64_t i = 0;
    for (; i < length && time_left(); ++i) {
      if (opt.progress && elapsed() >= next_report) {  // long campaigns say they are alive
        next_report += opt.progress_every;
        opt.progress(fmt::format("  {} ops, {:.0f} ops/s", res.ops, res.ops / std::max(elapsed(), 1e-9)));
      }
      OracleOp op = gen.next(run);
      done.push_back(op);
      auto found = run.step(op);
      ++res.ops;
      ++res.op_counts[op.op->name];
      if (!found.empty()) {
        res.diverged = true;
        res.divergent_op = res.ops - 1;
        res.divergent_seed = eo.seed;
        res.findings = std::move(found);
        diverged_in = eo;
        break;
      }
    }
    ++res.episodes;
    std::vector<model::RuleCount> rules = run.model().rule_coverage();
    add_rules(res.rules, rules);
    res.comparisons += run.comparisons;
    res.undetermined += run.undetermined;
    res.transients += run.transients;
    // Finished: its whole planned length, or its divergence (the trace goes to the corpus).
    if (progress && length == per && per != UINT64_MAX && (res.diverged || i == length)) progress->add(ep);
    if (res.diverged) break;
  }
  if (progress) progress->save();
  res.seconds = elapsed();
  if (res.diverged) {
    // Shrinking re-runs the sequence hundreds of times: first check once that it diverges
    // again on fresh processes, so a transient kernel state costs one run, not hundreds.
    if (opt.progress)
      opt.progress(fmt::format("  diverged at op {}; {}", res.divergent_op,
                               opt.shrink ? fmt::format("shrinking (at most {} re-runs)", opt.shrink_runs) : "writing the trace"));
    bool again = !opt.shrink || first_divergence(diverged_in, done) >= 0;
    std::vector<OracleOp> minimal = opt.shrink && again ? shrink(diverged_in, done) : done;
    res.shrunk_ops = minimal.size();
    res.trace = write_trace(diverged_in, minimal);
    // The trace holds what the kernel did on its last run; say whether that run still
    // diverged, so a transient kernel state is not mistaken for a model bug.
    res.reproduced = conformance::replay_file(res.trace, {}).verdict() == conformance::Verdict::findings;
  }
  return res;
}

}  // namespace vmref::oracle
