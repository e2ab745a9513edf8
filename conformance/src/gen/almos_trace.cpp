#include "vmref/conformance/almos_trace.hpp"

#include <bit>

namespace vmref::conformance {

using namespace vmref::model;

namespace {
constexpr std::uint64_t kPage = 4096;
constexpr Va kElf = 0x400 * kPage;
const char* const kTypes[] = {"code", "data", "stack", "anon", "file", "remote"};
}  // namespace

AlmosTrace::AlmosTrace(std::uint64_t seed, std::string profile, unsigned clusters)
    : rng_(seed), profile_(std::move(profile)), clusters_(clusters) {}

trace::Header AlmosTrace::header() const {
  trace::Header h;
  h.profile = profile_;
  h.cpus = clusters_;
  h.provenance = {{"source", "vmref fuzz (almos-mkh generator)"}};
  return h;
}

Event AlmosTrace::next() {
  Event e;
  e.cpu = static_cast<int>(pick(clusters_));
  std::uint64_t r = pick(100);
  if (procs_.empty() || (r < 3 && procs_.size() < 6)) {
    e.op = Op::almos_process;
    e.as = next_pid_++;
    return e;
  }
  e.as = any_pid();
  std::vector<Range>& mine = procs_[e.as];
  if (r < 25 || mine.empty()) {
    e.op = Op::almos_vseg;
    e.name = kTypes[pick(6)];
    e.len = (1 + pick(pick(4) ? 4 : 40)) * kPage;
    if (e.name == "stack") e.size_class = pick(34);  // two LTIDs beyond the 32 slots
    if (e.name == "code" || e.name == "data") e.addr = kElf + pick(64) * kPage;
    return e;
  }
  const Range& g = mine[pick(mine.size())];
  if (r < 35) {  // munmap: the whole vseg, an end, the middle, or a range that is not inside one
    e.op = Op::almos_munmap;
    std::uint64_t first = pick(g.pages), n = 1 + pick(g.pages - first + (pick(8) == 0 ? 2 : 0));
    e.addr = g.start + first * kPage;
    e.len = n * kPage;
    return e;
  }
  if (r < 40 && procs_.size() < 8) {  // few processes: the invariants read all of them
    e.op = Op::almos_fork;
    e.child = next_pid_++;
    return e;
  }
  if (r < 42) {  // (a fork refused for the process cap becomes an exit)
    e.op = r < 40 || pick(2) ? Op::almos_exit : Op::almos_exec;
    return e;
  }
  e.op = Op::almos_access;  // inside a vseg it got; now and then the page below (a guard)
  e.kind = pick(5) == 0 ? AccessKind::exec : pick(2) ? AccessKind::write : AccessKind::read;
  e.addr = pick(25) == 0 ? g.start - kPage : g.start + pick(g.pages) * kPage;
  return e;
}

void AlmosTrace::feedback(const Event& e, const Outcome& o) {
  switch (e.op) {
    case Op::almos_process: procs_[e.as]; break;
    case Op::almos_vseg:
      if (o.err == Err::ok && o.ret) {
        std::uint64_t pages = e.len / kPage;
        if (e.name == "stack") pages = 0xfff;
        else if (e.name != "code" && e.name != "data") pages = std::bit_ceil(pages);
        procs_[e.as].push_back({o.ret, pages});
      }
      break;
    case Op::almos_fork: procs_[e.child] = procs_[e.as]; break;
    case Op::almos_exec: procs_[e.as].clear(); break;
    case Op::almos_exit: procs_.erase(e.as); break;
    default: break;
  }
}

}  // namespace vmref::conformance
