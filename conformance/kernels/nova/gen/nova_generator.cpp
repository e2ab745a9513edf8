#include "nova_generator.hpp"

#include <algorithm>

namespace vmref::nova {

using namespace vmref::vocab;

NovaGenerator::NovaGenerator(conformance::Random rng, unsigned mmu) : rng_(std::move(rng)), mmu_(mmu) { start_vmm(); }

void NovaGenerator::start_vmm() {
  AsCreateArgs c;
  c.as = as_;
  setup_.push_back(make_event(vocab::ops::as_create, c));
  NewArgs n;
  n.as = as_;
  setup_.push_back(make_event(ops::nova_new, n));
}

void NovaGenerator::remember(std::vector<Live>& list, const Live& l) {
  if (list.size() == 16) list.erase(list.begin());
  list.push_back(l);
}

std::uint64_t NovaGenerator::pages() {
  static const std::uint64_t sizes[] = {1, 2, 15, 16, 17, 511, 512, 513};
  return pick(3) ? sizes[pick(8)] : 1 + pick(600);
}

std::pair<std::uint64_t, Va> NovaGenerator::boundary_range() {
  // VFN boundaries of the PT (512 pages), the dual level (2^17), PD1 (2^26) (all inside
  // the default 2^24-page VA but the last, which the allocator refuses: EINVAL).
  static const unsigned shifts[] = {9, 9, 17, 17, 26};
  std::uint64_t n = pages();
  std::uint64_t edge = (1 + pick(3)) << shifts[pick(5)];
  std::uint64_t start = edge - std::min<std::uint64_t>(edge, 1 + pick(n));
  return {n, start * 4096};
}

PrepareFail NovaGenerator::prepare_fail() {
  PrepareFail f;
  if (pick(15) == 0) f.reserve = true;
  if (pick(25) == 0) f.va = true;
  if (pick(10) == 0) f.pt = pick(4);
  return f;
}

StepFail NovaGenerator::step_fail(bool pde) {
  StepFail f;
  switch (pick(24)) {
    case 0: f.at = Step::window; break;
    case 1: f.at = pde ? Step::pde : Step::pte; f.index = pick(4); break;
    case 2: f.at = Step::pte; f.index = pick(20); break;
    case 3: f.at = Step::flush; break;
    default: break;
  }
  return f;
}

Event NovaGenerator::next() {
  if (!setup_.empty()) {
    Event e = setup_.front();
    setup_.erase(setup_.begin());
    return e;
  }
  std::uint64_t r = pick(100);
  if (r < 2) {  // drop the VMM; the next calls run on a fresh one
    DropArgs d;
    d.as = as_;
    prepared_.clear();
    mapped_.clear();
    freed_.clear();
    failed_.clear();
    SpaceArgs gone;
    gone.as = as_++;
    setup_.push_back(make_event(vocab::ops::as_destroy, gone));
    start_vmm();
    return make_event(ops::drop, d);
  }
  if (r < 30 && !mapped_.empty()) {
    std::size_t i = pick(mapped_.size());
    UnmapArgs a;
    a.as = as_;
    a.handle = mapped_[i].handle;
    a.fail = step_fail(false);
    unmapping_ = mapped_[i];
    mapped_.erase(mapped_.begin() + static_cast<long>(i));
    return make_event(ops::unmap, a);
  }
  if (r < 50 && !prepared_.empty()) {
    std::size_t i = pick(prepared_.size());
    ExecuteArgs a;
    a.as = as_;
    a.handle = prepared_[i].handle;
    a.pfn = 0x1000 + pick(1 << 20);
    if (pick(20) == 0) a.count = prepared_[i].pages + 1;
    a.writable = pick(4) != 0;
    a.fail = step_fail(true);
    executing_ = prepared_[i];
    prepared_.erase(prepared_.begin() + static_cast<long>(i));
    return make_event(ops::execute, a);
  }
  if (r >= 55 && r < 57 && !freed_.empty()) {
    // Another user's big page over an unmapped chunk (its path stays installed), put back
    // to U next: a big PTE in I or S over a PTE the VMM maps later would break INV-NOVA-8.
    const Live& l = freed_[pick(freed_.size())];
    SetBigArgs a;
    a.as = as_;
    a.va = l.va + pick(l.pages) * 4096;
    a.state = static_cast<BigState>(pick(3));
    const Va chunk = a.va & ~Va{0xffff};
    auto overlaps = [&](const Live& o) { return o.va < chunk + 0x10000 && chunk < o.va + o.pages * 4096; };
    if (std::any_of(mapped_.begin(), mapped_.end(), overlaps) || std::any_of(failed_.begin(), failed_.end(), overlaps))
      a.state = BigState::U;  // a neighbour's valid PTE shares the chunk
    if (a.state != BigState::U) {
      SetBigArgs back = a;
      back.state = BigState::U;
      setup_.push_back(make_event(ops::set_big, back));
    }
    return make_event(ops::set_big, a);
  }
  if (r >= 57 && r < 60 && (!mapped_.empty() || !failed_.empty())) {  // a driver's own invalidate, any ACK mode
    const bool stale = !failed_.empty() && (mapped_.empty() || pick(2));
    const Live& l = stale ? failed_[pick(failed_.size())] : mapped_[pick(mapped_.size())];
    FlushArgs a;
    a.as = as_;
    if (stale && pick(2)) a.range = std::pair<Va, std::uint64_t>{l.va, l.pages * 4096};  // all the unmap left
    else if (pick(2)) a.range = std::pair<Va, std::uint64_t>{l.va + pick(l.pages) * 4096, (1 + pick(16)) * 4096};
    a.ack = static_cast<Ack>(pick(3));
    return make_event(ops::flush, a);
  }
  if (r < 60 && !mapped_.empty()) {
    const Live& l = mapped_[pick(mapped_.size())];
    AccessArgs a;
    a.as = as_;
    a.va = l.va + pick(l.pages) * 4096 + pick(4096);
    a.kind = static_cast<Kind>(pick(3));
    return make_event(ops::access, a);
  }
  const bool at_range = pick(2) == 0;
  std::uint64_t n = pages();
  std::optional<std::pair<Va, Va>> range;
  if (at_range) {
    auto [k, start] = boundary_range();
    n = k;
    range = std::pair<Va, Va>{start, start + k * 4096 + (pick(8) == 0 ? 4096 : 0)};
  }
  std::string handle = "h" + std::to_string(next_handle_++);
  if (r < 80) {
    PrepareArgs a;
    a.as = as_;
    a.pages = n;
    a.handle = handle;
    a.range = range;
    a.fail = prepare_fail();
    return make_event(ops::prepare, a);
  }
  MapArgs a;
  a.as = as_;
  a.pages = n;
  a.handle = handle;
  a.pfn = 0x1000 + pick(1 << 20);
  a.writable = pick(4) != 0;
  a.range = range;
  a.prepare_fail = prepare_fail();
  a.fail = step_fail(true);
  return make_event(ops::map, a);
}

void NovaGenerator::feedback(const Event& e, const Outcome& o) {
  if (e.op == &ops::prepare && o.err == Err::ok) {
    const auto& a = e.get<PrepareArgs>();
    prepared_.push_back({a.handle, a.pages, o.ret});
  } else if (e.op == &ops::execute && o.err == Err::ok) {
    mapped_.push_back(executing_);
  } else if (e.op == &ops::map && o.err == Err::ok) {
    const auto& a = e.get<MapArgs>();
    mapped_.push_back({a.handle, a.pages, o.ret});
  }
  // A range whose unmap failed is named by flushes only: `fixed` keeps it mapped until
  // the drop, `posted` has freed it; either way the TLB may still hold its pages.
  if (e.op == &ops::unmap) remember(o.err == Err::ok ? freed_ : failed_, unmapping_);
}

}  // namespace vmref::nova
