// The demo counter in a simulated cluster under every fault family, then healed and checked.
// `gregor demo` and `make demo` run this; tests/demo_sim_test.cc runs it over many seeds.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/time.h"

namespace gregor::demo {

struct CounterSimOptions {
  uint64_t seed = 1;
  uint32_t nodes = 3;
  uint32_t clients = 4;
  Duration duration = seconds(60);            // faults and load
  Duration heal_deadline = seconds(60);       // after healing, time allowed to converge
  Duration client_start = milliseconds(500);  // clients start once the nodes have booted
  Duration fault_interval_min = milliseconds(300);
  Duration fault_interval_max = seconds(2);
  bool faults = true;
  std::string trace_path;  // JSONL trace file; empty: none
  bool keep_trace_lines = false;
  // For tests of the checker itself: acknowledge increments before persisting (a planted bug).
  bool plant_ack_before_persist = false;
};

struct CounterSimResult {
  bool pass = false;
  std::vector<std::string> violations;
  uint64_t ops_ok = 0, ops_failed = 0, ops_unknown = 0;
  uint64_t final_total = 0;
  bool converged = false;
  std::string trace_hash;
  uint64_t trace_lines = 0;
  uint64_t events = 0;
  double sim_seconds = 0;
  std::map<std::string, uint64_t> faults;  // injected, by family
  std::vector<std::string> trace_kept;     // when keep_trace_lines
};

CounterSimResult run_counter_sim(const CounterSimOptions& options);

}  // namespace gregor::demo
