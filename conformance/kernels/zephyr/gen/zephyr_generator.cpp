#include "zephyr_generator.hpp"

namespace vmref::zephyr {

using namespace vmref::vocab;

namespace {
constexpr std::uint64_t kPage = 4096;
}

ZephyrGenerator::ZephyrGenerator(conformance::Random rng, std::string profile) : rng_(std::move(rng)), profile_(std::move(profile)) {}

trace::Header ZephyrGenerator::header() const {
  trace::Header h;
  h.profile = profile_;
  h.cpus = 1;
  h.phys_mem = kCampaignFrames * kPage;
  h.provenance = {{"source", "vmref fuzz (zephyr generator)"}};
  return h;
}

RangeArgs ZephyrGenerator::sub_range() {
  const Region& r = live_[pick(live_.size())];
  std::uint64_t first = pick(r.pages);
  RangeArgs a;
  a.addr = r.start + first * kPage;
  a.len = (1 + pick(r.pages - first)) * kPage;
  return a;
}

Event ZephyrGenerator::next() {
  std::uint64_t r = pick(100);
  if (live_.empty() || r < 14) {  // k_mem_map: mostly small, some over-committing, some refused
    MapArgs a;
    std::uint64_t k = pick(20);
    std::uint64_t pages = k < 12 ? 1 + pick(6) : k < 17 ? 8 + pick(32) : 0;
    a.len = k == 17 ? 0 : k == 18 ? 1 + pick(3 * kPage) : k == 19 ? ~0ull - pick(4) * kPage : pages * kPage;
    a.prot = {true, pick(5) != 0, false};
    a.uninit = pick(5) == 0;
    a.lock = pages <= 4 && pick(8) == 0;
    a.user = pick(6) == 0;
    return make_event(ops::k_mem_map, a);
  }
  if (r < 20) {  // k_mem_unmap: a whole live region, now and then a wrong length
    RangeArgs a;
    std::size_t i = pick(live_.size());
    a.addr = live_[i].start;
    a.len = live_[i].pages * kPage + (pick(10) == 0 ? kPage : 0);
    return make_event(ops::k_mem_unmap, a);
  }
  if (r < 34) {
    const OpInfo& op = r < 26 ? ops::k_mem_page_out : r < 29 ? ops::k_mem_page_in : r < 32 ? ops::k_mem_pin : ops::k_mem_unpin;
    return make_event(op, sub_range());
  }
  if (r < 37) {
    if (pick(3)) return make_event(ops::nru_tick, TickArgs{});
    return make_event(ops::k_mem_stat, StatArgs{});  // faults
  }
  AccessArgs a;  // mostly inside a region; sometimes a guard page just outside one
  const Region& g = live_[pick(live_.size())];
  a.kind = pick(2) ? AccessKind::write : AccessKind::read;
  a.va = pick(30) == 0 ? g.start - kPage : g.start + pick(g.pages) * kPage + pick(kPage);
  return make_event(vocab::ops::access, a, 0);
}

void ZephyrGenerator::feedback(const Event& e, const Outcome& o) {
  if (e.op == &ops::k_mem_map && o.err == Err::ok && o.ret) live_.push_back({o.ret, e.get<MapArgs>().len / kPage});
  if (e.op == &ops::k_mem_unmap && o.err == Err::ok) {
    Va addr = e.get<RangeArgs>().addr;
    std::erase_if(live_, [&](const Region& r) { return r.start == addr; });
  }
}

}  // namespace vmref::zephyr
