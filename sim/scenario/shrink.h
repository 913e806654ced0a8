// The shrinker: from a (scenario, seed) whose run shows a violation, a smaller scenario that
// still shows a violation of the same kind with the same seed. It first turns the random
// nemesis into the concrete timeline it drew (so faults can be removed one by one), then repeats
// passes until none makes progress:
//   - faults: delta debugging over the timeline (remove halves, quarters, ..., single entries);
//   - time: faults move earlier, the run ends soon after the last fault, fault durations halve;
//   - clients: workloads removed, instance counts cut to 1;
//   - messages: producer rates halve, record limits cut;
//   - topics: topics removed, partitions cut (faults naming a removed partition go with them);
//   - cluster: fewer brokers where replication factors allow.
// A candidate is kept only if its run reproduces the target kind. Runs are deterministic, so the
// result reproduces with its fixed seed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/scenario/runner.h"
#include "sim/scenario/scenario.h"

namespace gregor::scenario {

inline constexpr size_t kShrinkRunsMax = 2000;

struct ShrinkOptions {
  uint64_t seed = 1;
  std::string kind;  // the violation kind to keep; empty: the first one the original run shows
  size_t runs_max = kShrinkRunsMax;
  // Called after each candidate run: what was tried, whether it was kept, runs so far.
  std::function<void(const std::string& step, bool kept, size_t runs)> on_step;
};

struct ShrinkResult {
  bool reproduced = false;  // the original run showed the kind; otherwise nothing was shrunk
  std::string kind;
  std::string error;      // why shrinking could not start
  Scenario minimal;       // seed set to the run's seed
  RunResult minimal_run;  // the run of `minimal`
  size_t runs = 0;
  size_t faults_before = 0, faults_after = 0;
};

ShrinkResult shrink(const Scenario& scenario, const ShrinkOptions& options);

}  // namespace gregor::scenario
