// `gregor bench log`: the partition Log on the real file system against raw sequential
// write/read of the same bytes (bench/log_bench.h says what each figure means). Exit status: 0
// when the benchmark ran (whatever the ratios), 1 when it failed, 2 for bad usage.
#pragma once

#include <CLI/CLI.hpp>

namespace gregor::cli {

void add_bench_command(CLI::App& app, int* exit_code);

}  // namespace gregor::cli
