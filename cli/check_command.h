// `gregor check HISTORY`: checks a history file (docs/history-format.md; a simulation trace is
// one) with sim/check and prints the verdict. Exit status: 0 no violation, 1 violations, 2 the
// file cannot be read or has a malformed line (one line on stderr naming the file and line).
#pragma once

#include <CLI/CLI.hpp>

namespace gregor::cli {

// The command stores its exit status in *exit_code when it runs.
void add_check_command(CLI::App& app, int* exit_code);

}  // namespace gregor::cli
