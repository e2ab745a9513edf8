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

/// A profile's variants: each name with the rules it changes from the correct ones.
template <class Rules> using VariantTable = std::vector<std::pair<const char*, void (*)(Rules&)>>;

template <class Rules> std::vector<std::string> names_of(const VariantTable<Rules>& t) {
  std::vector<std::string> out;
  for (const auto& [n, f] : t) out.push_back(n);
  return out;
}

/// Applies `variant` ("" = the first, correct one) to `r`; throws naming the choices.
template <class Rules>
std::string apply_variant(const VariantTable<Rules>& t, Rules& r, const std::string& profile, const std::string& variant) {
  std::string v = variant.empty() ? t.front().first : variant, all;
  for (const auto& [n, f] : t) {
    if (v == n) {
      f(r);
      return v;
    }
    all += (all.empty() ? "" : ", ") + std::string(n);
  }
  throw std::invalid_argument("unknown variant '" + variant + "' of profile " + profile + "; variants: " + all);
}

// profiles.md §3.7: `fixed` is Zephyr with #115581's rollback and our kept-slot fix;
// `eager` is the configuration without CONFIG_DEMAND_MAPPING; `upstream` lets the first
// touch of an ANON token take the slot kept for faults, as do_page_fault does; `seed` is
// the code the seed patch shows. The rest break one rule (§6).
const VariantTable<ZephyrRules>& zephyr_table() {
  static const VariantTable<ZephyrRules> k{
      {"fixed", [](ZephyrRules&) {}},
      {"eager", [](ZephyrRules& r) { r.demand_mapping = false; }},
      {"upstream", [](ZephyrRules& r) { r.token_fault_keeps_slot = false; }},
      {"seed", [](ZephyrRules& r) { r.rollback_fix = r.token_fault_keeps_slot = false; }},
      {"no-guard", [](ZephyrRules& r) { r.guards = false; }},
      {"evict-pinned", [](ZephyrRules& r) { r.respect_pins = false; }},
      {"dirty-bit-only", [](ZephyrRules& r) { r.writeback_unbacked = false; }},
      {"no-fault-slot", [](ZephyrRules& r) { r.keep_fault_slot = false; }},
      {"no-evict-flush", [](ZephyrRules& r) { r.flush_on_evict = false; }},
      {"unmap-keeps-guards", [](ZephyrRules& r) { r.unmap_frees_guards = false; }},
      {"map-allocates", [](ZephyrRules& r) { r.lazy_map = false; }},
      {"unmap-leaks-frame", [](ZephyrRules& r) { r.unmap_frees_frames = false; }}};
  return k;
}

// profiles.md §2.8: `fixed` is our reading of vmm.h; each other variant breaks one rule.
const VariantTable<AlmosRules>& almos_table() {
  static const VariantTable<AlmosRules> k{
      {"fixed", [](AlmosRules&) {}},
      {"no-guard", [](AlmosRules& r) { r.stack_guard = false; }},
      {"zombie-any-order", [](AlmosRules& r) { r.zombie_exact_order = false; }},
      {"stale-copy", [](AlmosRules& r) { r.propagate_updates = false; }},
      {"false-fault-allocates", [](AlmosRules& r) { r.false_fault_copies = false; }},
      {"cow-ignores-forks", [](AlmosRules& r) { r.cow_checks_forks = false; }},
      {"no-forks-dec", [](AlmosRules& r) { r.copy_decrements_forks = false; }},
      {"reset-keeps-zombies", [](AlmosRules& r) { r.reset_clears_zombies = false; }}};
  return k;
}

Profile zephyr_profile(const std::string& variant) {
  Profile p;
  p.name = "zephyr";
  p.zephyr.enabled = true;
  p.zero_page_on_read = false;
  p.fault_around_pages = 0;
  p.variant = apply_variant(zephyr_table(), p.zephyr, p.name, variant);
  return p;
}

Profile almos_profile(const std::string& variant) {
  Profile p;
  p.name = "almos-mkh";
  p.almos.enabled = true;
  p.variant = apply_variant(almos_table(), p.almos, p.name, variant);
  return p;
}
}  // namespace

std::vector<std::string> zephyr_variants() { return names_of(zephyr_table()); }
std::vector<std::string> almos_variants() { return names_of(almos_table()); }

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
