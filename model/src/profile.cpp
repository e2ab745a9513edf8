#include "vmref/model/profile.hpp"

#include <stdexcept>

namespace vmref::model {

std::vector<std::string> linux_variants() { return {"no-zero-page", "no-merge", "no-cow-reuse", "no-fault-around"}; }

std::vector<std::string> mermap_variants() { return {"fixed", "rfc", "no-reserve-page", "no-flush", "overlap"}; }

std::vector<std::string> zephyr_variants() {
  return {"fixed", "eager", "upstream", "seed", "no-guard", "evict-pinned", "dirty-bit-only", "no-fault-slot",
          "no-evict-flush", "unmap-keeps-guards", "map-allocates", "unmap-leaks-frame"};
}

std::vector<std::string> almos_variants() {
  return {"fixed", "no-guard", "zombie-any-order", "stale-copy", "false-fault-allocates", "cow-ignores-forks",
          "no-forks-dec", "reset-keeps-zombies"};
}

namespace {
// profiles.md §4: `fixed` (the default) and `rfc` are the two allocators; the others
// break one safety rule of `fixed` on purpose (§6) so INV-MERMAP-1..3 are seen failing.
Profile mermap_profile(const std::string& variant) {
  Profile p;
  p.name = "mermap";
  p.variant = variant.empty() ? "fixed" : variant;
  p.mermap.enabled = true;
  p.task_size = 0x7ffffffff000;
  MermapRules& r = p.mermap;
  if (p.variant == "rfc") {
    r.reserve_slot_fix = r.error_path_fix = r.teardown_fix = r.bound_fix = false;
  } else if (p.variant == "no-reserve-page") {
    r.keep_last_page = false;
  } else if (p.variant == "no-flush") {
    r.flush_on_reset = false;
  } else if (p.variant == "overlap") {
    r.reset_after_live = false;
  } else if (p.variant != "fixed") {
    throw std::invalid_argument("unknown variant '" + variant + "' of profile mermap; variants: fixed, rfc, "
                                "no-reserve-page, no-flush, overlap");
  }
  return p;
}

// profiles.md §3: `fixed` (default) is Zephyr with #115581's rollback; `eager` is the
// configuration without CONFIG_DEMAND_MAPPING; `upstream` lets the first touch of an ANON
// token take the slot kept for faults, as do_page_fault does; `seed` is the code the seed
// patch shows (that, and a failed eager map keeping what it took). The rest break one
// rule (§6).
Profile zephyr_profile(const std::string& variant) {
  Profile p;
  p.name = "zephyr";
  p.variant = variant.empty() ? "fixed" : variant;
  ZephyrRules& r = p.zephyr;
  r.enabled = true;
  p.zero_page_on_read = false;
  p.fault_around_pages = 0;
  const std::string& v = p.variant;
  if (v == "eager") r.demand_mapping = false;
  else if (v == "upstream") r.token_fault_keeps_slot = false;
  else if (v == "seed") r.rollback_fix = r.token_fault_keeps_slot = false;
  else if (v == "no-guard") r.guards = false;
  else if (v == "evict-pinned") r.respect_pins = false;
  else if (v == "dirty-bit-only") r.writeback_unbacked = false;
  else if (v == "no-fault-slot") r.keep_fault_slot = false;
  else if (v == "no-evict-flush") r.flush_on_evict = false;
  else if (v == "unmap-keeps-guards") r.unmap_frees_guards = false;
  else if (v == "map-allocates") r.lazy_map = false;
  else if (v == "unmap-leaks-frame") r.unmap_frees_frames = false;
  else if (v != "fixed") {
    std::string all;
    for (const std::string& n : zephyr_variants()) all += (all.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown variant '" + variant + "' of profile zephyr; variants: " + all);
  }
  return p;
}

// profiles.md §2: `fixed` is our reading of vmm.h; each other variant breaks one rule (§6).
Profile almos_profile(const std::string& variant) {
  Profile p;
  p.name = "almos-mkh";
  p.variant = variant.empty() ? "fixed" : variant;
  AlmosRules& r = p.almos;
  r.enabled = true;
  const std::string& v = p.variant;
  if (v == "no-guard") r.stack_guard = false;
  else if (v == "zombie-any-order") r.zombie_exact_order = false;
  else if (v == "stale-copy") r.propagate_updates = false;
  else if (v == "false-fault-allocates") r.false_fault_copies = false;
  else if (v == "cow-ignores-forks") r.cow_checks_forks = false;
  else if (v == "no-forks-dec") r.copy_decrements_forks = false;
  else if (v == "reset-keeps-zombies") r.reset_clears_zombies = false;
  else if (v != "fixed") {
    std::string all;
    for (const std::string& n : almos_variants()) all += (all.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown variant '" + variant + "' of profile almos-mkh; variants: " + all);
  }
  return p;
}
}  // namespace

Profile profile_by_name(const std::string& full) {
  std::string name = full.substr(0, full.find(':'));
  std::string variant = full.find(':') == std::string::npos ? "" : full.substr(full.find(':') + 1);
  if (name == "linux") {
    Profile p;
    p.name = "linux";
    p.variant = variant;
    // Each variant breaks one rule of profiles.md §1 on purpose (§6).
    if (variant == "no-zero-page") p.zero_page_on_read = false;
    else if (variant == "no-merge") p.merge_vsegs = false;
    else if (variant == "no-cow-reuse") p.cow_reuse_exclusive = false;
    else if (variant == "no-fault-around") p.fault_around_pages = 0;
    else if (!variant.empty())
      throw std::invalid_argument("unknown variant '" + variant + "' of profile linux; variants: no-zero-page, "
                                  "no-merge, no-cow-reuse, no-fault-around");
    return p;
  }
  if (name == "mermap") return mermap_profile(variant);
  if (name == "zephyr") return zephyr_profile(variant);
  if (name == "almos-mkh") return almos_profile(variant);
  for (const char* later : {"nova"})
    if (name == later)
      throw std::invalid_argument("profile '" + name +
                                  "' has a reserved section in spec/profiles.md but is not "
                                  "specified yet; available: linux, mermap, zephyr, almos-mkh");
  throw std::invalid_argument("unknown profile '" + full + "'; available: linux, mermap, zephyr, almos-mkh");
}

std::vector<std::string> profile_names() { return {"linux", "mermap", "zephyr", "almos-mkh"}; }

}  // namespace vmref::model
