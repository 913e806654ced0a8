// The random nemesis of a scenario, drawn before the run: a concrete fault timeline from the
// scenario's NemesisSpec and the run's seed (swarm testing: the seed also draws which families
// are on and how often faults come). Because the result is ordinary FaultSpec entries, the runner
// plays it like a scripted timeline and the shrinker edits it entry by entry.
#pragma once

#include <vector>

#include "base/random.h"
#include "sim/scenario/scenario.h"

namespace gregor::scenario {

// The client process names a scenario creates ("producer-1", ...), in creation order.
std::vector<std::string> client_names(const Scenario& s);

// Faults in [0, s.duration), sorted by time. Empty when the nemesis is off.
std::vector<FaultSpec> draw_nemesis(const Scenario& s, Random& rng);

}  // namespace gregor::scenario
