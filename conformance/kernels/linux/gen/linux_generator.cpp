#include "linux_generator.hpp"

#include <algorithm>

namespace vmref::linux_mm {

using namespace vmref::vocab;

LinuxGenerator::LinuxGenerator(conformance::Random rng, GeneratorParams p)
    : rng_(std::move(rng)), p_(p), cpu_as_(p.cpus, 0), cpu_tags_(p.cpus) {}

trace::Header LinuxGenerator::header() const {
  trace::Header h;
  h.profile = kKernel;
  h.cpus = p_.cpus;
  h.phys_mem = 64ull << 20;
  h.provenance = {{"source", "vmref gen (synthetic)"}};
  return h;
}

Event LinuxGenerator::mmap() {
  MmapArgs a;
  a.as = any_space();
  a.len = range_len();
  a.prot.r = pick(8) != 0;
  a.prot.w = pick(3) != 0;
  a.prot.x = pick(4) == 0;
  a.shared = pick(6) == 0;
  a.addr = window_va();
  std::uint64_t mode = pick(10);
  a.placement = mode < 6 ? Placement::fixed : mode < 8 ? Placement::fixed_noreplace : Placement::hint;
  a.populate = pick(10) == 0;
  if (p_.global_maps && pick(6) == 0) a.flags.set(VmFlag::global);
  if (pick(5) == 0) {  // a private or shared file mapping
    a.anonymous = false;
    std::string id = "00:00:" + std::to_string(1 + pick(3));
    a.file = FileRef{id, "/synthetic/file", pick(2) == 0};
    a.offset = pick(16) * 4096;
  }
  return make_event(ops::mmap, std::move(a));
}

Event LinuxGenerator::range_op(const OpInfo& op) {
  Asid as = any_space();
  Va addr = window_va();
  std::uint64_t len = range_len();
  if (&op == &ops::mprotect) {
    MprotectArgs a;
    a.as = as, a.addr = addr, a.len = len;
    a.prot.r = pick(8) != 0;
    a.prot.w = pick(2) != 0;
    a.prot.x = pick(4) == 0;
    return make_event(op, a);
  }
  MunmapArgs a;
  a.as = as, a.addr = addr, a.len = len;
  return make_event(op, a);
}

Event LinuxGenerator::access() {
  int cpu = static_cast<int>(pick(p_.cpus));
  if (cpu_as_[cpu] == 0 || pick(8) == 0) {  // switch first (or now and then)
    vocab::SwitchArgs a;
    a.as = any_space();
    cpu_as_[cpu] = a.as;
    if (p_.tagged_switches && pick(2) == 0) {
      a.tag = 1 + static_cast<std::uint32_t>(pick(GeneratorParams::kTags));
      auto [it, fresh] = cpu_tags_[cpu].try_emplace(*a.tag, a.as);
      a.flush = (!fresh && it->second != a.as) || pick(8) == 0;  // a recycled tag is flushed (INV-TLB-6)
      it->second = a.as;
    }
    return make_event(vocab::ops::switch_as, a, cpu);
  }
  AccessArgs a;
  a.va = window_va() + pick(4096);
  std::uint64_t k = pick(10);
  a.kind = k < 5 ? AccessKind::read : k < 9 ? AccessKind::write : AccessKind::exec;
  return make_event(vocab::ops::access, a, cpu);
}

Event LinuxGenerator::fork_or_exit() {
  if (spaces_.size() < p_.max_spaces && pick(2) == 0) {
    ForkArgs a;
    a.as = any_space();
    a.child = ++next_as_;
    spaces_.push_back(a.child);
    return make_event(ops::fork, a);
  }
  if (spaces_.size() > 1) {
    SpaceArgs a;
    std::size_t i = 1 + pick(spaces_.size() - 1);  // address space 1 lives forever
    a.as = spaces_[i];
    spaces_.erase(spaces_.begin() + static_cast<long>(i));
    for (Asid& c : cpu_as_)
      if (c == a.as) c = 0;
    return make_event(vocab::ops::as_destroy, a);
  }
  return range_op(ops::munmap);
}

Event LinuxGenerator::flush() {
  TlbFlushArgs a;
  std::uint64_t s = pick(3);
  a.scope = s == 0 ? FlushScope::all : s == 1 ? FlushScope::asid : FlushScope::range;
  a.as = any_space();
  a.va = window_va();
  a.len = (1 + pick(8)) * 4096;
  a.broadcast = pick(2) == 0;
  int cpu = static_cast<int>(pick(p_.cpus));
  a.with_global = p_.global_maps && a.scope != FlushScope::all && pick(3) == 0;
  if (p_.tagged_switches && a.scope != FlushScope::all && pick(4) == 0)
    a.tag = 1 + static_cast<std::uint32_t>(pick(GeneratorParams::kTags));
  if (a.scope == FlushScope::all) a.as = 0, a.va = 0, a.len = 0;     // fields the scope does not have
  else if (a.scope == FlushScope::asid) a.va = 0, a.len = 0;
  return make_event(vocab::ops::tlb_flush, a, cpu);
}

Event LinuxGenerator::pin_or_unpin() {
  if (!pins_.empty() && pick(2) == 0) {
    UnpinArgs a;
    std::size_t i = pick(pins_.size());
    a.handle = pins_[i];
    pins_.erase(pins_.begin() + static_cast<long>(i));
    return make_event(ops::unpin, a);
  }
  PinArgs a;
  a.as = any_space();
  a.va = window_va();
  a.kind = pick(2) ? AccessKind::write : AccessKind::read;
  a.handle = "p" + std::to_string(next_pin_++);
  pins_.push_back(a.handle);
  return make_event(ops::pin, a);
}

void LinuxGenerator::feedback(const Event& e, const Outcome& o) {
  if (e.op == &ops::pin && o.err != Err::ok) std::erase(pins_, e.get<PinArgs>().handle);
  if (e.op == &ops::fork && o.err != Err::ok) std::erase(spaces_, e.get<ForkArgs>().child);  // ENOMEM: no child
  // A hint the kernel could not honour lands outside the window; unmap it soon so the
  // address space stays small.
  if (e.op == &ops::mmap && o.err == Err::ok && (o.ret < kWindow || o.ret >= kWindow + p_.window_pages * 4096)) {
    const auto& m = e.get<MmapArgs>();
    MunmapArgs u;
    u.as = m.as;
    u.addr = o.ret;
    u.len = m.len;
    outside_.push_back(make_event(ops::munmap, u));
  }
}

Event LinuxGenerator::next() {
  ++count_;
  if (spaces_.empty()) {
    AsCreateArgs a;
    a.as = 1;
    spaces_.push_back(1);
    return make_event(vocab::ops::as_create, a);
  }
  if (!outside_.empty()) {
    Event u = outside_.back();
    outside_.pop_back();
    if (std::find(spaces_.begin(), spaces_.end(), u.get<MunmapArgs>().as) != spaces_.end()) return u;
  }
  std::uint64_t r = pick(100);
  if (r < 20) return mmap();
  if (r < 30) return range_op(ops::munmap);
  if (r < 40) return range_op(ops::mprotect);
  if (r < 85) return access();
  if (r < 89) return fork_or_exit();
  if (r < 95) return flush();
  if (r < 98) return pin_or_unpin();
  SpaceArgs a;
  a.as = any_space();
  return make_event(vocab::ops::observe, a);
}

}  // namespace vmref::linux_mm
