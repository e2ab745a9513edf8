// vmref: replay traces against the reference model, fuzz implementations against it,
// write conformance reports, convert and generate traces, decode page-table dumps.
#include "vmref/registered.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  vmref::register_all();
  return vmref::cli::run(argc, argv);
}
