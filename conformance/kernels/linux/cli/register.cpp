// The linux kernel's subcommands: `vmref record` (a real program under ptrace) and
// `vmref oracle linux` (the live kernel against the model).
#include "commands.hpp"

namespace vmref::cli {
Runner add_record(CLI::App& app);
Runner add_oracle(CLI::App& app);
void register_oracle_merge();
}  // namespace vmref::cli

namespace vmref::linux_mm {

void register_cli() {
  cli::add_command({"record", cli::add_record});
  cli::add_command({"oracle", cli::add_oracle});
  cli::register_oracle_merge();
}

}  // namespace vmref::linux_mm
