#include "vmref/diff/table_shape.hpp"

#include <cstdio>

namespace vmref::diff {

std::vector<std::string> table_shape_issues(const impl::SimMemory& mem, const impl::RadixTable& t,
                                            const std::set<std::uint64_t>& reachable) {
  std::vector<std::string> out;
  if (reachable.size() != t.table_pages())
    out.push_back(std::to_string(t.table_pages()) + " table pages held, " + std::to_string(reachable.size()) +
                  " reachable (leak or use after free)");
  const std::uint64_t entries = 4096 / t.codec().entry_bytes();
  for (std::uint64_t pa : reachable) {
    if (pa == t.root()) continue;
    const std::uint64_t* e = mem.find(pa >> 12);
    bool any = false;
    for (std::uint64_t i = 0; e && i < entries && !any; ++i) any = t.codec().is_present(e[i]);
    if (!any) {
      char buf[80];
      std::snprintf(buf, sizeof buf, "table page 0x%llx is empty but not reclaimed", static_cast<unsigned long long>(pa));
      out.push_back(buf);
    }
  }
  return out;
}

}  // namespace vmref::diff
