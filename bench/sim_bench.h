// The simulator's speed on a scenario: simulated seconds per wall second (time compression) and
// acknowledged records per wall second, over a few seeds (`gregor bench sim SCENARIO`). The
// ratio's baseline is the wall clock of the same run, so no separate baseline run is needed.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

#include "sim/scenario/scenario.h"

namespace gregor::bench {

struct SimBenchOptions {
  uint64_t first_seed = 1;
  uint64_t seeds = 3;
};

// One JSON object: per-seed figures and the medians.
nlohmann::ordered_json run_sim_bench(const scenario::Scenario& s, const SimBenchOptions& o);

}  // namespace gregor::bench
