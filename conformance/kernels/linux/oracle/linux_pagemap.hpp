// Per-page state of a live Linux process: /proc/PID/pagemap, /proc/kpagecount and
// /proc/kpageflags (Linux Documentation/admin-guide/mm/pagemap.rst). Needs root for PFNs.
#pragma once

#include <cstdint>
#include <vector>

namespace vmref::oracle {

struct LivePage {
  bool present = false;
  bool exclusive = false;    ///< pagemap bit 56: mapped by exactly one PTE
  std::uint64_t pfn = 0;     ///< bits 0-54 (0 without CAP_SYS_ADMIN)
  std::uint64_t mapcount = 0;///< /proc/kpagecount
  bool zero_page = false;    ///< /proc/kpageflags bit 24 (KPF_ZERO_PAGE)
  bool swap_entry = false;   ///< pagemap bit 62 while not present: swapped, or a migration
                             ///< entry (page being moved by compaction: transient)
};

/// Reads /proc/kpagecount and /proc/kpageflags once opened; one pread per page.
class PageReader {
 public:
  PageReader();  ///< throws std::runtime_error naming the file it cannot open
  ~PageReader();
  PageReader(const PageReader&) = delete;
  PageReader& operator=(const PageReader&) = delete;
  /// `pages` pages of `pid` from virtual address `va` (page aligned, 4 KiB pages).
  std::vector<LivePage> read(int pid, std::uint64_t va, std::uint64_t pages);

 private:
  int kpagecount_ = -1, kpageflags_ = -1;
};

}  // namespace vmref::oracle
