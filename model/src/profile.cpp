#include "vmref/model/profile.hpp"

#include <stdexcept>

namespace vmref::model {

std::vector<std::string> linux_variants() { return {"no-zero-page", "no-merge", "no-cow-reuse", "no-fault-around"}; }

std::vector<std::string> mermap_variants() { return {"fixed", "rfc", "no-reserve-page", "no-flush", "overlap"}; }

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
  for (const char* later : {"almos-mkh", "zephyr", "nova"})
    if (name == later)
      throw std::invalid_argument("profile '" + name +
                                  "' has a reserved section in spec/profiles.md but is not "
                                  "specified yet; available: linux, mermap");
  throw std::invalid_argument("unknown profile '" + full + "'; available: linux, mermap");
}

std::vector<std::string> profile_names() { return {"linux", "mermap"}; }

}  // namespace vmref::model
