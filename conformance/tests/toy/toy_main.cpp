// vmref-toy: the vmref command line with the test-only toy kernel registered after
// every real part, exactly as a kernel in its own folder would be.
#include "commands.hpp"
#include "toy_events.hpp"
#include "vmref/registered.hpp"

int main(int argc, char** argv) {
  vmref::register_all();
  vmref::toy::register_toy();
  return vmref::cli::run(argc, argv);
}
