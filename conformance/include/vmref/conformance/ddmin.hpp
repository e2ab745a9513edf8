// Delta debugging (Zeller's ddmin) over a sequence: drop chunks while the failure persists.
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

namespace vmref::conformance {

/// Shrinks `items` to a shorter sequence that still fails. `first_failure(cand)` runs a
/// candidate and returns the index of the item where it failed, or -1. The result ends at
/// its failing item. At most `max_runs` candidates are tried.
template <class T>
std::vector<T> ddmin(std::vector<T> items, const std::function<long(const std::vector<T>&)>& first_failure,
                     unsigned max_runs) {
  unsigned runs = 0;
  std::size_t n = 2;
  while (items.size() > 1 && runs < max_runs) {
    std::size_t chunk = (items.size() + n - 1) / n;
    bool reduced = false;
    for (std::size_t start = 0; start < items.size() && runs < max_runs; start += chunk) {
      std::vector<T> cand(items.begin(), items.begin() + static_cast<long>(start));
      cand.insert(cand.end(), items.begin() + static_cast<long>(std::min(items.size(), start + chunk)), items.end());
      ++runs;
      long d = first_failure(cand);
      if (d >= 0) {
        cand.resize(static_cast<std::size_t>(d) + 1);
        items = std::move(cand);
        n = std::max<std::size_t>(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= items.size()) break;
      n = std::min(items.size(), n * 2);
    }
  }
  return items;
}

}  // namespace vmref::conformance
