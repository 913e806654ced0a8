// `gregor demo`: the demo counter in a simulated cluster under faults (see sim/demo/).
#pragma once

#include <CLI/CLI.hpp>

namespace gregor::cli {

// The command stores its exit status in *exit_code when it runs.
void add_demo_command(CLI::App& app, int* exit_code);

}  // namespace gregor::cli
