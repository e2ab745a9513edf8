#include "vmref/conformance/random_trace.hpp"

#include <algorithm>

namespace vmref::conformance {

using namespace vmref::model;

RandomTrace::RandomTrace(std::uint64_t seed, RandomTraceParams p) : rng_(seed), p_(p), cpu_as_(p.cpus, 0) {}

trace::Header RandomTrace::header() const {
  trace::Header h;
  h.profile = "linux";
  h.cpus = p_.cpus;
  h.phys_mem = 64ull << 20;
  h.provenance = {{"source", "vmref gen (synthetic)"}};
  return h;
}

Event RandomTrace::mmap() {
  Event e;
  e.op = Op::mmap;
  e.as = spaces_[pick(spaces_.size())];
  e.len = (1 + pick(p_.max_map_pages)) * 4096;
  e.prot = {pick(8) != 0, pick(3) != 0, pick(4) == 0};
  e.shared = pick(6) == 0;
  e.addr = window_va();
  std::uint64_t mode = pick(10);
  e.placement = mode < 6 ? Placement::fixed : mode < 8 ? Placement::fixed_noreplace : Placement::hint;
  e.populate = pick(10) == 0;
  if (p_.global_maps && pick(6) == 0) e.vm_flags.set(VmFlag::global);
  if (pick(5) == 0) {  // a private or shared file mapping
    e.anonymous = false;
    e.file = FileRef{"00:00:" + std::to_string(1 + pick(3)), "/synthetic/file", pick(2) == 0};
    e.offset = pick(16) * 4096;
  }
  return e;
}

Event RandomTrace::range_op(Op op) {
  Event e;
  e.op = op;
  e.as = spaces_[pick(spaces_.size())];
  e.addr = window_va();
  e.len = (1 + pick(p_.max_map_pages)) * 4096;
  if (op == Op::mprotect) e.prot = {pick(8) != 0, pick(2) != 0, pick(4) == 0};
  return e;
}

Event RandomTrace::access() {
  Event e;
  e.cpu = static_cast<int>(pick(p_.cpus));
  if (cpu_as_[e.cpu] == 0 || pick(8) == 0) {  // switch first (or now and then)
    e.op = Op::switch_as;
    e.as = spaces_[pick(spaces_.size())];
    cpu_as_[e.cpu] = e.as;
    return e;
  }
  e.op = Op::access;
  e.addr = window_va() + pick(4096);
  std::uint64_t k = pick(10);
  e.kind = k < 5 ? AccessKind::read : k < 9 ? AccessKind::write : AccessKind::exec;
  return e;
}

Event RandomTrace::fork_or_exit() {
  Event e;
  if (spaces_.size() < p_.max_spaces && pick(2) == 0) {
    e.op = Op::fork;
    e.as = spaces_[pick(spaces_.size())];
    e.child = ++next_as_;
    spaces_.push_back(e.child);
    return e;
  }
  if (spaces_.size() > 1) {
    e.op = Op::as_destroy;
    std::size_t i = 1 + pick(spaces_.size() - 1);  // address space 1 lives forever
    e.as = spaces_[i];
    spaces_.erase(spaces_.begin() + static_cast<long>(i));
    for (Asid& a : cpu_as_)
      if (a == e.as) a = 0;
    return e;
  }
  return range_op(Op::munmap);
}

Event RandomTrace::flush() {
  Event e;
  e.op = Op::tlb_flush;
  std::uint64_t s = pick(3);
  e.scope = s == 0 ? FlushScope::all : s == 1 ? FlushScope::asid : FlushScope::range;
  e.as = spaces_[pick(spaces_.size())];
  e.addr = window_va();
  e.len = (1 + pick(8)) * 4096;
  e.broadcast = pick(2) == 0;
  e.cpu = static_cast<int>(pick(p_.cpus));
  e.with_global = p_.global_maps && e.scope != FlushScope::all && pick(3) == 0;
  return e;
}

Event RandomTrace::pin_or_unpin() {
  Event e;
  if (!pins_.empty() && pick(2) == 0) {
    e.op = Op::unpin;
    std::size_t i = pick(pins_.size());
    e.label = pins_[i];
    pins_.erase(pins_.begin() + static_cast<long>(i));
    return e;
  }
  e.op = Op::pin;
  e.as = spaces_[pick(spaces_.size())];
  e.addr = window_va();
  e.kind = pick(2) ? AccessKind::write : AccessKind::read;
  e.label = "p" + std::to_string(next_pin_++);
  pins_.push_back(e.label);
  return e;
}

void RandomTrace::feedback(const Event& e, const Outcome& o) {
  if (e.op == Op::pin && o.err != Err::ok) std::erase(pins_, e.label);
  // A hint the kernel could not honour lands outside the window; unmap it soon so the
  // address space stays small.
  if (e.op == Op::mmap && o.err == Err::ok && (o.ret < kWindow || o.ret >= kWindow + p_.window_pages * 4096)) {
    Event u;
    u.op = Op::munmap;
    u.as = e.as;
    u.addr = o.ret;
    u.len = e.len;
    outside_.push_back({e.as, u});
  }
}

Event RandomTrace::next() {
  ++count_;
  if (spaces_.empty()) {
    Event e;
    e.op = Op::as_create;
    e.as = 1;
    spaces_.push_back(1);
    return e;
  }
  if (!outside_.empty()) {
    Event u = outside_.back().second;
    outside_.pop_back();
    if (std::find(spaces_.begin(), spaces_.end(), u.as) != spaces_.end()) return u;
  }
  std::uint64_t r = pick(100);
  if (r < 20) return mmap();
  if (r < 30) return range_op(Op::munmap);
  if (r < 40) return range_op(Op::mprotect);
  if (r < 85) return access();
  if (r < 89) return fork_or_exit();
  if (r < 95) return flush();
  if (r < 98) return pin_or_unpin();
  Event e;
  e.op = Op::observe;
  e.as = spaces_[pick(spaces_.size())];
  return e;
}

}  // namespace vmref::conformance
