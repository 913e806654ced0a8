// Runs one scenario with one seed: builds the simulated cluster (brokers, client processes),
// starts the workloads, plays the fault timeline (scripted entries plus what the nemesis drew),
// heals at the end of the load phase, drains, reads every partition back, and checks the history
// (sim/check). The result is what `gregor sim` prints; `gregor sweep` and `gregor shrink` call
// run_scenario many times. Deterministic: the same (scenario, seed) gives the same trace hash.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/scenario/scenario.h"

namespace gregor::scenario {

struct RunOptions {
  std::string trace_path;         // write the JSONL trace here; empty: none
  bool keep_trace_lines = false;  // keep lines in memory (the determinism check)
  // Called now and then with simulated seconds done and the run's total, for a progress line.
  std::function<void(double sim_done_s, double sim_total_s)> progress;
};

struct Violation {
  std::string kind;      // a kind of docs/history-format.md, e.g. "lost-write"
  std::string text;      // one line for people
  std::string evidence;  // a JSON object: offsets, values, times, nodes
};

struct RunResult {
  bool pass = false;                                 // the outcome matches scenario.expect
  std::string expect;                                // scenario.expect
  std::vector<Violation> violations;                 // the first few of each kind, with evidence
  std::map<std::string, uint64_t> violation_counts;  // exact, by kind
  uint64_t seed = 0;
  std::string scenario;    // its name
  std::string trace_hash;  // hex
  uint64_t trace_lines = 0;
  uint64_t events = 0;
  double sim_seconds = 0;
  double wall_seconds = 0;
  uint64_t records_sent = 0, records_acked = 0, records_failed = 0, records_unknown = 0;
  uint64_t records_lost = 0;  // acknowledged, then missing (lost-write violations)
  uint64_t records_polled = 0;
  std::map<std::string, uint64_t> faults;  // injected, by kind
  std::vector<std::string> probes_hit;     // coverage probes reached (sorted)
  uint64_t buggify_fires = 0;              // BUGGIFY fault points that fired
  // The controller quorum (controllers > 0), from the trace: distinct epochs that had a leader,
  // the highest epoch any node reached, brokers fenced by the active controller.
  uint32_t controllers = 0;  // the scenario's quorum size (0: none)
  uint64_t raft_elections = 0;
  int64_t raft_max_epoch = 0;
  uint64_t controller_fences = 0;
  std::vector<std::string> trace_kept;  // with keep_trace_lines
  std::vector<FaultSpec> timeline;      // the faults as played: scripted plus nemesis-drawn
  std::string error;  // set when the run could not happen at all (bad cluster config)
};

RunResult run_scenario(const Scenario& scenario, uint64_t seed, const RunOptions& options = {});

// The summary as text (one screen; its last line is "trace-hash: <hex>") and as JSON (an object
// with at least verdict, seed, trace_hash, sim_seconds, wall_seconds, events, records_acked,
// violations).
std::string summary_text(const RunResult& r);
std::string summary_json(const RunResult& r);

}  // namespace gregor::scenario
