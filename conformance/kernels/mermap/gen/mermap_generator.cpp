#include "mermap_generator.hpp"

namespace vmref::mermap {

using namespace vmref::vocab;

MermapGenerator::MermapGenerator(conformance::Random rng, std::string profile, unsigned cpus, std::uint64_t region_pages)
    : rng_(std::move(rng)), profile_(std::move(profile)), cpus_(cpus), region_pages_(region_pages) {
  start_mm();
}

void MermapGenerator::start_mm() {
  AsCreateArgs c;
  c.as = as_;
  setup_.push_back(make_event(vocab::ops::as_create, c));
  for (unsigned cpu = 0; cpu < cpus_; ++cpu) {
    vocab::SwitchArgs s;
    s.as = as_;
    setup_.push_back(make_event(vocab::ops::switch_as, s, static_cast<int>(cpu)));
  }
}

trace::Header MermapGenerator::header() const {
  trace::Header h;
  h.profile = profile_;
  h.cpus = cpus_;
  h.phys_mem = 16ull << 20;
  h.provenance = {{"source", "vmref fuzz (mermap generator)"}};
  return h;
}

Event MermapGenerator::next() {
  if (!setup_.empty()) {
    Event e = setup_.front();
    setup_.erase(setup_.begin());
    return e;
  }
  std::uint64_t r = pick(100);
  if (!prepared_ || r < 2) {  // prepare (idempotent when already prepared)
    PrepareArgs a;
    a.as = as_;
    prepared_ = true;
    return make_event(ops::prepare, a);
  }
  if (r < 5) {  // teardown: the per-CPU state goes, live handles with it
    TeardownArgs a;
    a.as = as_;
    int cpu = static_cast<int>(pick(cpus_));
    prepared_ = false;
    live_.clear();
    SpaceArgs gone;
    gone.as = as_++;
    setup_.push_back(make_event(vocab::ops::as_destroy, gone));
    start_mm();
    return make_event(ops::teardown, a, cpu);
  }
  if (r < 50 && !live_.empty()) {
    std::size_t i = pick(live_.size());
    PutArgs a;
    a.as = as_;
    a.handle = live_[i].handle;
    int cpu = live_[i].cpu;
    live_.erase(live_.begin() + static_cast<long>(i));
    return make_event(ops::put, a, cpu);
  }
  if (r < 55) {  // a local full flush now and then (context switch, other code)
    TlbFlushArgs a;
    a.scope = FlushScope::all;
    a.broadcast = false;
    return make_event(vocab::ops::tlb_flush, a, static_cast<int>(pick(cpus_)));
  }
  GetArgs a;
  a.as = as_;
  int cpu = static_cast<int>(pick(cpus_));
  a.prot = {true, true, false};
  a.handle = "m" + std::to_string(next_handle_++);
  a.reserve = pick(5) == 0;
  std::uint64_t k = pick(10);
  std::uint64_t pages = k == 0 ? 0 : k < 6 ? 1 + pick(3) : k < 9 ? 1 + pick(region_pages_) : region_pages_ + pick(2);
  a.len = a.reserve && pick(4) ? 4096 : pages * 4096 - (pages && pick(4) == 0 ? 1 + pick(4095) : 0);
  if (pick(12) == 0 && pages > 0) a.fail_after = pick(pages);
  return make_event(ops::get, a, cpu);
}

void MermapGenerator::feedback(const Event& e, const Outcome& o) {
  if (e.op == &ops::get && o.ret != 0) live_.push_back({e.get<GetArgs>().handle, e.cpu});
}

}  // namespace vmref::mermap
