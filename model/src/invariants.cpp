// Scope resolution and the driver that runs the profile's checkers after an event.
#include <algorithm>
#include <cstdio>
#include <tuple>

#include "vmref/model/invariants.hpp"

namespace vmref::model {

std::vector<Asid> CheckScope::spaces() const {
  std::vector<Asid> out;
  if (full || d.all) {
    for (const auto& [as, s] : m.spaces()) out.push_back(as);
    return out;
  }
  out = d.spaces;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  std::erase_if(out, [&](Asid a) { return m.space(a) == nullptr; });
  return out;
}

std::vector<FrameId> CheckScope::frames() const {
  std::vector<FrameId> out;
  if (full || d.all) {
    for (FrameId f = 0; f < m.frames().size(); ++f) out.push_back(f);
    return out;
  }
  out = d.frames;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  std::erase_if(out, [&](FrameId f) { return !m.frames().valid(f); });
  return out;
}

CheckScope::CheckScope(const Model& model, bool f) : m(model), d(model.delta()), full(f) {
  ranges = d.ranges;
  std::sort(ranges.begin(), ranges.end(),
            [](const Delta::Range& a, const Delta::Range& b) { return std::tie(a.as, a.first) < std::tie(b.as, b.first); });
  std::vector<Delta::Range> merged;
  for (const Delta::Range& r : ranges) {
    if (!merged.empty() && merged.back().as == r.as &&
        r.first - merged.back().first <= merged.back().count) {  // overlaps or touches
      Delta::Range& b = merged.back();
      std::uint64_t end = std::max(b.first + b.count < b.first ? UINT64_MAX : b.first + b.count,
                                   r.first + r.count < r.first ? UINT64_MAX : r.first + r.count);
      b.count = end - b.first;
      continue;
    }
    merged.push_back(r);
  }
  ranges = std::move(merged);
}

std::size_t check_invariants(const Model& m, bool full, std::vector<Violation>& out) {
  CheckScope scope(m, full);
  std::size_t ran = 0;
  for (const InvariantInfo* inv : m.invariants()) {
    inv->check(scope, out);
    ++ran;
  }
  return ran;
}

}  // namespace vmref::model
