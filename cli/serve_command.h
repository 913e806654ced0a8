// `gregor serve [--config FILE] [--log-dir DIR] [--listen HOST:PORT]`: a Kafka broker on real TCP,
// POSIX files with fsync and the real clock, until SIGTERM or SIGINT, which shut it down
// gracefully (connections closed, logs flushed and closed, checkpoints written).
#pragma once

#include <CLI/CLI.hpp>

namespace gregor::cli {

void add_serve_command(CLI::App& app, int* exit_code);

}  // namespace gregor::cli
