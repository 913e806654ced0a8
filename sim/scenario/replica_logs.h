// At the end of a run, each running broker's replicas are summarised in the trace as
// "replica.log" lines (docs/history-format.md): every batch's base offset, last offset and CRC,
// plus log start, log end and high watermark. The checker compares replicas of a partition with
// them (agreement below the high watermark; byte-identical after healing in liveness mode).
#pragma once

#include <vector>

#include "sim/cluster.h"

namespace gregor::scenario {

// Reads the logs through the Log API (driving the world until each read completes). Brokers
// that are down are skipped.
void trace_replica_logs(sim::Cluster& cluster, const std::vector<sim::NodeId>& brokers);

// Whether every partition's running replicas have the same log end and a high watermark at it:
// after healing, followers catch up on their own schedule (a connect attempt started during a
// partition only fails at its timeout), so a liveness run waits for this (bounded by its
// recovery) before the final read and before comparing the replicas.
bool replicas_in_sync(sim::Cluster& cluster, const std::vector<sim::NodeId>& brokers);

}  // namespace gregor::scenario
