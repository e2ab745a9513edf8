// The linux kernel's rows in the conformance registry: its generator and its checker.
#include "linux_checker.hpp"
#include "linux_generator.hpp"

namespace vmref::linux_mm {

void register_conformance() {
  conformance::add_conformance_kernel(
      {kKernel,
       [](conformance::Random rng, const vocab::Profile& resolved, unsigned cpus) -> std::unique_ptr<conformance::Generator> {
         const std::string& profile = resolved.name;
         GeneratorParams p;
         p.cpus = cpus;
         if (profile.ends_with(":thp")) {  // huge leaves need room and alignment (§1.13)
           p.huge = true;
           p.window_pages = 4 * GeneratorParams::kHugePages;
           p.max_map_pages = 2 * GeneratorParams::kHugePages;
         }
         p.global_maps = true;
         p.tagged_switches = true;
         return std::make_unique<LinuxGenerator>(std::move(rng), p);
       },
       make_checker});
}

}  // namespace vmref::linux_mm
