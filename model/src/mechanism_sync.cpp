// Locks, returns and pending-flush marks (spec/vmm.md §3.4): when a kernel's PTE changes
// must have been flushed. Applied verbatim; INV-TLB-4 and INV-TLB-5 judge them.
#include <set>

#include "core_layer.hpp"
#include "vmref/vocab/core_ops.hpp"

namespace vmref::model {

using vocab::LockArgs;
using vocab::ReturnArgs;
using vocab::TlbPendingArgs;
namespace ops = vocab::ops;

namespace {
std::string holder(int cpu) { return cpu < 0 ? "the kernel (no cpu)" : "cpu " + std::to_string(cpu); }
}  // namespace

Outcome CoreLayer::lock_event(const Event& e) {
  check_step_cpu(e);
  const std::string& name = e.get<LockArgs>().lock;
  auto it = core_.locks.find(name);
  if (e.op == &ops::lock) {
    if (it != core_.locks.end())
      throw ModelError("lock", "lock '" + name + "' is already held by " + holder(it->second.cpu));
    core_.locks[name].cpu = e.cpu;
    return {};
  }
  if (it == core_.locks.end()) throw ModelError("lock", "lock '" + name + "' is not held");
  if (it->second.cpu != e.cpu)
    throw ModelError("cpu", "lock '" + name + "' is held by " + holder(it->second.cpu) + ", not " + holder(e.cpu));
  // INV-TLB-4 is judged now, at the release, not at the end of the event group.
  std::set<std::pair<Asid, Vpn>> seen;
  for (auto [as, vpn] : it->second.changed) {
    if (core_.flush_pending.count(as) || !seen.insert({as, vpn}).second) continue;
    for (unsigned c : core_.cpus_holding_stale(as, vpn)) delta_.released.push_back({name, c, as, vpn});
  }
  core_.locks.erase(it);
  return {};
}

Outcome CoreLayer::call_return(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<ReturnArgs>();
  if (!a.as) return {};
  space_of(*a.as);
  Vpn first = a.va >> page_shift_;
  Vpn end = (a.va + a.len + page_size_ - 1) >> page_shift_;
  if (a.va + a.len > UINT64_MAX - page_size_) end = UINT64_MAX >> page_shift_;
  // INV-TLB-5 is judged at the return.
  std::set<Vpn> stale;  // each stale VPN once, whichever CPUs hold it
  for (const CpuTlb& c : cpus_)
    for (auto it = c.stale().lower_bound({*a.as, first});
         it != c.stale().end() && it->first.first == *a.as && it->first.second < end; ++it)
      stale.insert(it->first.second);
  for (Vpn vpn : stale)
    for (unsigned c : core_.cpus_holding_stale(*a.as, vpn)) delta_.returned.push_back({a.call, c, *a.as, vpn});
  return {};
}

Outcome CoreLayer::tlb_pending(const Event& e) {
  check_step_cpu(e);
  const auto& a = e.get<TlbPendingArgs>();
  space_of(a.as);
  std::uint64_t& n = core_.flush_pending[a.as];
  if (a.pending) {
    ++n;
  } else {
    if (n == 0) throw ModelError("pending", "address space " + std::to_string(a.as) + " has no pending flush to clear");
    if (--n == 0) core_.flush_pending.erase(a.as);
  }
  return {};
}

}  // namespace vmref::model
