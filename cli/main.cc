// The gregor command. Subcommands live in one file each (cli/*_command.cc).
#include <CLI/CLI.hpp>

#include <iostream>

#include "base/log.h"
#include "cli/bench_command.h"
#include "cli/check_command.h"
#include "cli/client_commands.h"
#include "cli/demo_command.h"
#include "cli/dump_log_command.h"
#include "cli/groups_command.h"
#include "cli/serve_command.h"
#include "cli/sim_command.h"

int main(int argc, char** argv) {
  gregor::init_logging("warn");
  CLI::App app{"gregor: a Kafka-compatible replicated log in a deterministic simulator"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gregor 0.1.0");
  std::string level = "warn";
  app.add_option("--log-level", level, "trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->each([](const std::string& l) {
        gregor::init_logging(l);
        gregor::cli::log_level_given = true;
      });
  int exit_code = 0;
  gregor::cli::add_demo_command(app, &exit_code);
  gregor::cli::add_dump_log_command(app, &exit_code);
  gregor::cli::add_bench_command(app, &exit_code);
  gregor::cli::add_serve_command(app, &exit_code);
  gregor::cli::add_client_commands(app, &exit_code);
  gregor::cli::add_groups_command(app, &exit_code);
  gregor::cli::add_sim_command(app, &exit_code);
  gregor::cli::add_shrink_command(app, &exit_code);
  gregor::cli::add_sweep_command(app, &exit_code);
  gregor::cli::add_check_command(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and succeed; any usage error exits 2, as documented.
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}
