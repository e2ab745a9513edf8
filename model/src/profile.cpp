#include "vmref/model/profile.hpp"

#include <stdexcept>

namespace vmref::model {

std::vector<std::string> linux_variants() { return {"no-zero-page", "no-merge", "no-cow-reuse", "no-fault-around"}; }

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
  for (const char* later : {"almos-mkh", "zephyr", "mermap", "nova"})
    if (name == later)
      throw std::invalid_argument("profile '" + name +
                                  "' has a reserved section in spec/profiles.md but is not "
                                  "specified yet; available: linux");
  throw std::invalid_argument("unknown profile '" + full + "'; available: linux");
}

std::vector<std::string> profile_names() { return {"linux"}; }

}  // namespace vmref::model
