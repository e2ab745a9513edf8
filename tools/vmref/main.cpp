// vmref: replay traces against the reference model, write conformance reports,
// convert and generate traces, record real Linux processes.
#include <iostream>
#include <vector>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"vmref: reference model and conformance harness for virtual-memory managers"};
  app.set_version_flag("--version", "vmref 0.1.0 (trace format 1)");
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, vmref::cli::Runner>> cmds;
  auto reg = [&](auto add) {
    std::size_t before = app.get_subcommands({}).size();
    auto run = add(app);
    cmds.emplace_back(app.get_subcommands({})[before], run);
  };
  reg(vmref::cli::add_replay);
  reg(vmref::cli::add_report);
  reg(vmref::cli::add_convert);
  reg(vmref::cli::add_gen);
  reg(vmref::cli::add_record);
  reg(vmref::cli::add_bench);
  reg(vmref::cli::add_oracle);
  reg(vmref::cli::add_walk);
  reg(vmref::cli::add_fuzz);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : vmref::cli::kExitBadInput;
  }
  for (auto& [sub, run] : cmds)
    if (sub->parsed()) {
      try {
        return run();
      } catch (const std::exception& e) {
        std::cerr << "vmref " << sub->get_name() << ": " << e.what() << "\n";
        return vmref::cli::kExitBadInput;
      }
    }
  return vmref::cli::kExitBadInput;
}
