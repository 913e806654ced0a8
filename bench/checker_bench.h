// `gregor bench check`: the history checker (sim/check) on a synthetic history built in memory
// before the clock starts, shaped like a simulation trace: 8 ordered producers with up to 4
// sends in flight each, 4 consumers polling up to 10 records at a time with a seek and a commit
// now and then, replica.state lines of 3 brokers, two lines of other kinds per operation (which
// the checker must skip cheaply), then a final read of each of the 8 partitions. The history is
// correct, so the check ends with no violation.
//
// Prints one line: operations, lines, MiB, distinct records, wall seconds of the check (the line
// intake plus finish()), operations per second, lines per second and MiB per second.
#pragma once

#include <cstdint>

namespace gregor::bench {

inline constexpr uint64_t kCheckerBenchOps = 1'000'000;  // the default history size

// Returns 0 when the check found no violation (it should not), 1 otherwise.
int run_checker_bench(uint64_t ops = kCheckerBenchOps);

}  // namespace gregor::bench
