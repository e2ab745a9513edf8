#include "almos_generator.hpp"

#include <bit>

namespace vmref::almos {

using namespace vmref::vocab;

namespace {
constexpr std::uint64_t kPage = 4096;
constexpr Va kElf = 0x400 * kPage;
}  // namespace

AlmosGenerator::AlmosGenerator(conformance::Random rng, std::string profile, unsigned clusters)
    : rng_(std::move(rng)), profile_(std::move(profile)), clusters_(clusters) {}

trace::Header AlmosGenerator::header() const {
  trace::Header h;
  h.profile = profile_;
  h.cpus = clusters_;
  h.provenance = {{"source", "vmref fuzz (almos-mkh generator)"}};
  return h;
}

Event AlmosGenerator::next() {
  auto cluster = static_cast<unsigned>(pick(clusters_));
  std::uint64_t r = pick(100);
  if (procs_.empty() || (r < 3 && procs_.size() < 6)) {
    ProcessArgs a;
    a.pid = next_pid_++;
    a.cluster = cluster;
    return make_event(ops::process, a);
  }
  std::uint64_t pid = any_pid();
  std::vector<Range>& mine = procs_[pid];
  if (r < 25 || mine.empty()) {
    VsegArgs a;
    a.pid = pid;
    a.type = static_cast<VsegType>(pick(6));
    a.len = (1 + pick(pick(4) ? 4 : 40)) * kPage;
    if (a.type == VsegType::stack) a.ltid = pick(34);  // two LTIDs beyond the 32 slots
    if (a.type == VsegType::code || a.type == VsegType::data) a.addr = kElf + pick(64) * kPage;
    return make_event(ops::vseg, a);
  }
  const Range& g = mine[pick(mine.size())];
  if (r < 35) {  // munmap: the whole vseg, an end, the middle, or a range that is not inside one
    MunmapArgs a;
    a.pid = pid;
    std::uint64_t first = pick(g.pages), n = 1 + pick(g.pages - first + (pick(8) == 0 ? 2 : 0));
    a.addr = g.start + first * kPage;
    a.len = n * kPage;
    return make_event(ops::munmap, a);
  }
  if (r < 40 && procs_.size() < 8) {  // few processes: the invariants read all of them
    ForkArgs a;
    a.pid = pid;
    a.child = next_pid_++;
    a.cluster = cluster;
    return make_event(ops::fork, a);
  }
  if (r < 42) {  // (a fork refused for the process cap becomes an exit)
    const OpInfo& op = r < 40 || pick(2) ? ops::exit : ops::exec;
    PidArgs a;
    a.pid = pid;
    return make_event(op, a);
  }
  AccessArgs a;  // inside a vseg it got; now and then the page below (a guard)
  a.pid = pid;
  a.cluster = cluster;
  a.kind = pick(5) == 0 ? AccessKind::exec : pick(2) ? AccessKind::write : AccessKind::read;
  a.va = pick(25) == 0 ? g.start - kPage : g.start + pick(g.pages) * kPage;
  return make_event(ops::access, a);
}

void AlmosGenerator::feedback(const Event& e, const Outcome& o) {
  if (e.op == &ops::process) {
    procs_[e.get<ProcessArgs>().pid];
  } else if (e.op == &ops::vseg) {
    const auto& a = e.get<VsegArgs>();
    if (o.err == Err::ok && o.ret) {
      std::uint64_t pages = a.len / kPage;
      if (a.type == VsegType::stack) pages = 0xfff;
      else if (a.type != VsegType::code && a.type != VsegType::data) pages = std::bit_ceil(pages);
      procs_[a.pid].push_back({o.ret, pages});
    }
  } else if (e.op == &ops::fork) {
    procs_[e.get<ForkArgs>().child] = procs_[e.get<ForkArgs>().pid];
  } else if (e.op == &ops::exec) {
    procs_[e.get<PidArgs>().pid].clear();
  } else if (e.op == &ops::exit) {
    procs_.erase(e.get<PidArgs>().pid);
  }
}

}  // namespace vmref::almos
