// The linux kernel's rows in the conformance registry: its generator and its checker.
#include "linux_checker.hpp"
#include "linux_generator.hpp"

namespace vmref::linux_mm {

void register_conformance() {
  conformance::add_conformance_kernel(
      {kKernel,
       [](std::uint64_t seed, const std::string&, unsigned cpus) -> std::unique_ptr<conformance::Generator> {
         GeneratorParams p;
         p.cpus = cpus;
         p.global_maps = true;
         p.tagged_switches = true;
         return std::make_unique<LinuxGenerator>(seed, p);
       },
       make_checker});
}

}  // namespace vmref::linux_mm
