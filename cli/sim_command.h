// gregor sim SCENARIO [--seed N] [--json] [--trace FILE] [--out DIR] [--check-determinism]
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "base/status.h"
#include "sim/scenario/scenario.h"

namespace gregor::cli {

void add_sim_command(CLI::App& app, int* exit_code);
// gregor shrink SCENARIO --seed N [--kind K] [--out FILE]
void add_shrink_command(CLI::App& app, int* exit_code);
// gregor sweep SCENARIO --seeds A..B [--shard i/n] [--jobs J] (cli/sweep_command.cc)
void add_sweep_command(CLI::App& app, int* exit_code);

// Set when --log-level was given. Simulated runs log the brokers' reactions to injected faults
// (errors, by design); the scenario commands silence them unless asked, so the summary stays one
// screen.
inline bool log_level_given = false;
void quiet_logging_unless_asked();

// Reads and parses a scenario file (errors are "FILE:LINE: ..." or "cannot read ...").
Result<scenario::Scenario> load_scenario(const std::string& path);

// --duration of sim and sweep: the same scenario with its load-and-faults phase cut to `text`
// (the recovery phase and everything else unchanged), e.g. a CI-sized run of a long scenario.
// Refused when not positive, or when a scripted fault would start past the new end.
Status override_duration(scenario::Scenario& s, const std::string& text);

}  // namespace gregor::cli
