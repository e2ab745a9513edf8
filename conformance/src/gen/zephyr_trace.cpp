#include "vmref/conformance/zephyr_trace.hpp"

namespace vmref::conformance {

using namespace vmref::model;

namespace {
constexpr std::uint64_t kPage = 4096;
}

ZephyrTrace::ZephyrTrace(std::uint64_t seed, std::string profile) : rng_(seed), profile_(std::move(profile)) {}

trace::Header ZephyrTrace::header() const {
  trace::Header h;
  h.profile = profile_;
  h.cpus = 1;
  h.phys_mem = kFrames * kPage;
  h.provenance = {{"source", "vmref fuzz (zephyr generator)"}};
  return h;
}

void ZephyrTrace::sub_range(Event& e) {
  const Region& r = live_[pick(live_.size())];
  std::uint64_t first = pick(r.pages);
  e.addr = r.start + first * kPage;
  e.len = (1 + pick(r.pages - first)) * kPage;
}

Event ZephyrTrace::next() {
  Event e;
  e.cpu = 0;
  std::uint64_t r = pick(100);
  if (live_.empty() || r < 14) {  // k_mem_map: mostly small, some over-committing, some refused
    e.op = Op::k_mem_map;
    std::uint64_t k = pick(20);
    std::uint64_t pages = k < 12 ? 1 + pick(6) : k < 17 ? 8 + pick(32) : 0;
    e.len = k == 17 ? 0 : k == 18 ? 1 + pick(3 * kPage) : k == 19 ? ~0ull - pick(4) * kPage : pages * kPage;
    e.prot = {true, pick(5) != 0, false};
    e.uninit = pick(5) == 0;
    e.lock = pages <= 4 && pick(8) == 0;
    e.user = pick(6) == 0;
    return e;
  }
  if (r < 20) {  // k_mem_unmap: a whole live region, now and then a wrong length
    e.op = Op::k_mem_unmap;
    std::size_t i = pick(live_.size());
    e.addr = live_[i].start;
    e.len = live_[i].pages * kPage + (pick(10) == 0 ? kPage : 0);
    return e;
  }
  if (r < 34) {
    e.op = r < 26 ? Op::k_mem_page_out : r < 29 ? Op::k_mem_page_in : r < 32 ? Op::k_mem_pin : Op::k_mem_unpin;
    sub_range(e);
    return e;
  }
  if (r < 37) {
    e.op = pick(3) ? Op::nru_tick : Op::k_mem_stat;
    e.name = "faults";
    return e;
  }
  e.op = Op::access;  // mostly inside a region; sometimes a guard page just outside one
  const Region& g = live_[pick(live_.size())];
  e.kind = pick(2) ? AccessKind::write : AccessKind::read;
  e.addr = pick(30) == 0 ? g.start - kPage : g.start + pick(g.pages) * kPage + pick(kPage);
  return e;
}

void ZephyrTrace::feedback(const Event& e, const Outcome& o) {
  if (e.op == Op::k_mem_map && o.err == Err::ok && o.ret) live_.push_back({o.ret, e.len / kPage});
  if (e.op == Op::k_mem_unmap && o.err == Err::ok)
    std::erase_if(live_, [&](const Region& r) { return r.start == e.addr; });
}

}  // namespace vmref::conformance
