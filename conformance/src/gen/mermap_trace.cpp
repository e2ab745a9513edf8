#include "vmref/conformance/mermap_trace.hpp"

namespace vmref::conformance {

using namespace vmref::model;

MermapTrace::MermapTrace(std::uint64_t seed, std::string profile, unsigned cpus, std::uint64_t region_pages)
    : rng_(seed), profile_(std::move(profile)), cpus_(cpus), region_pages_(region_pages) {
  start_mm();
}

void MermapTrace::start_mm() {
  Event e;
  e.op = Op::as_create;
  e.as = as_;
  setup_.push_back(e);
  for (unsigned c = 0; c < cpus_; ++c) {
    Event s;
    s.op = Op::switch_as;
    s.as = as_;
    s.cpu = static_cast<int>(c);
    setup_.push_back(s);
  }
}

trace::Header MermapTrace::header() const {
  trace::Header h;
  h.profile = profile_;
  h.cpus = cpus_;
  h.phys_mem = 16ull << 20;
  h.provenance = {{"source", "vmref fuzz (mermap generator)"}};
  return h;
}

Event MermapTrace::next() {
  Event e;
  e.as = as_;
  if (!setup_.empty()) {
    e = setup_.front();
    setup_.erase(setup_.begin());
    return e;
  }
  std::uint64_t r = pick(100);
  if (!prepared_ || r < 2) {  // prepare (idempotent when already prepared)
    e.op = Op::mermap_prepare;
    prepared_ = true;
    return e;
  }
  if (r < 5) {  // teardown: the per-CPU state goes, live handles with it
    e.op = Op::mermap_teardown;
    e.cpu = static_cast<int>(pick(cpus_));
    prepared_ = false;
    live_.clear();
    Event gone;
    gone.op = Op::as_destroy;
    gone.as = as_++;
    setup_.push_back(gone);
    start_mm();
    return e;
  }
  if (r < 50 && !live_.empty()) {
    std::size_t i = pick(live_.size());
    e.op = Op::mermap_put;
    e.cpu = live_[i].cpu;
    e.label = live_[i].handle;
    live_.erase(live_.begin() + static_cast<long>(i));
    return e;
  }
  if (r < 55) {  // a local full flush now and then (context switch, other code)
    e.op = Op::tlb_flush;
    e.scope = FlushScope::all;
    e.broadcast = false;
    e.cpu = static_cast<int>(pick(cpus_));
    return e;
  }
  e.op = Op::mermap_get;
  e.cpu = static_cast<int>(pick(cpus_));
  e.prot = {true, true, false};
  e.label = "m" + std::to_string(next_handle_++);
  e.reserve = pick(5) == 0;
  std::uint64_t k = pick(10);
  std::uint64_t pages = k == 0 ? 0 : k < 6 ? 1 + pick(3) : k < 9 ? 1 + pick(region_pages_) : region_pages_ + pick(2);
  e.len = e.reserve && pick(4) ? 4096 : pages * 4096 - (pages && pick(4) == 0 ? 1 + pick(4095) : 0);
  if (pick(12) == 0 && pages > 0) e.fail_after = pick(pages);
  return e;
}

void MermapTrace::feedback(const Event& e, const Outcome& o) {
  if (e.op == Op::mermap_get && o.ret != 0) live_.push_back({e.label, e.cpu});
}

}  // namespace vmref::conformance
