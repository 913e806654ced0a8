// `gregor dump-log PATH`: prints a segment file, or every file of a partition directory, the way
// kafka-dump-log does: one line per batch (offsets, epochs, producer fields, CRC validity), with
// --print-data-log one line per record, plus indexes and checkpoints.
#pragma once

#include <CLI/CLI.hpp>

namespace gregor::cli {

void add_dump_log_command(CLI::App& app, int* exit_code);

}  // namespace gregor::cli
