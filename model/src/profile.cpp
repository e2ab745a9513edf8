#include "vmref/model/profile.hpp"

#include <stdexcept>

namespace vmref::model {

Profile profile_by_name(const std::string& name) {
  if (name == "linux") {
    Profile p;
    p.name = "linux";
    return p;
  }
  for (const char* later : {"almos-mkh", "zephyr", "mermap", "nova"})
    if (name == later)
      throw std::invalid_argument("profile '" + name +
                                  "' has a reserved section in spec/profiles.md but is not "
                                  "specified yet; available: linux");
  throw std::invalid_argument("unknown profile '" + name + "'; available: linux");
}

std::vector<std::string> profile_names() { return {"linux"}; }

}  // namespace vmref::model
