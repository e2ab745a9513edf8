#include "vmref/impl/mutant.hpp"

#include <array>
#include <utility>

namespace vmref::impl {

namespace {
constexpr std::array<std::pair<Mutant, const char*>, 17> kNames{{
    {Mutant::none, "none"},
    {Mutant::no_invlpg_after_unmap, "no-invlpg-after-unmap"},
    {Mutant::invlpg_ignores_pcid, "invlpg-ignores-pcid"},
    {Mutant::cr3_drops_globals, "cr3-drops-globals"},
    {Mutant::invpcid2_keeps_globals, "invpcid2-keeps-globals"},
    {Mutant::cow_keeps_old_count, "cow-keeps-old-count"},
    {Mutant::xd_wrong_bit, "xd-wrong-bit"},
    {Mutant::split_loses_last, "split-loses-last"},
    {Mutant::reclaim_live_table, "reclaim-live-table"},
    {Mutant::table_leak, "table-leak"},
    {Mutant::no_accessed_bit, "no-accessed-bit"},
    {Mutant::merge_ignores_prot, "merge-ignores-prot"},
    {Mutant::hint_ignored, "hint-ignored"},
    {Mutant::zephyr_lifo_frames, "zephyr-lifo-frames"},
    {Mutant::zephyr_slot_leak, "zephyr-slot-leak"},
    {Mutant::almos_update_skips_copies, "almos-update-skips-copies"},
    {Mutant::almos_fork_no_forks, "almos-fork-no-forks"},
}};
}  // namespace

const char* to_string(Mutant m) {
  for (auto& [k, n] : kNames)
    if (k == m) return n;
  return "?";
}

std::optional<Mutant> parse_mutant(const std::string& name) {
  for (auto& [k, n] : kNames)
    if (name == n) return k;
  return std::nullopt;
}

std::vector<std::string> mutant_names() {
  std::vector<std::string> out;
  for (auto& [k, n] : kNames)
    if (k != Mutant::none) out.push_back(n);
  return out;
}

const char* mutant_profile(Mutant m) {
  if (m == Mutant::zephyr_lifo_frames || m == Mutant::zephyr_slot_leak) return "zephyr";
  if (m == Mutant::almos_update_skips_copies || m == Mutant::almos_fork_no_forks) return "almos-mkh";
  return "linux";
}

}  // namespace vmref::impl
