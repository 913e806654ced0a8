// `gregor bench cluster`: produce throughput of a real replicated cluster. Three `gregor serve`
// child processes (fork + exec of the gregor binary, never a shell) on loopback, each broker and
// controller (voters 1..3), default.replication.factor = `replication_factor`,
// min.insync.replicas = 2, Kafka's default flush policy (no fsync per append: replication is the
// durability). librdkafka (bench::rdkafka_produce) produces 1 KiB records with acks=all.
//
// Phases, in this order, each over `mb` MB of record values:
//   single_broker_1k  one `gregor serve` child without a quorum (replication factor 1): the
//                     baseline, the same process model as the cluster, measured in the same run
//   cluster_1p        the cluster, one partition with replication factor `replication_factor`,
//                     one producer
//   cluster_3p        the cluster, three one-partition topics, one producer thread each (the mb
//                     split in three); the rate is all bytes over the slowest thread's time
// Each topic is created through the admin API and must show its full ISR before its phase.
// Rates are MB/s (1e6 bytes per second) of record value bytes; each cluster figure is also
// given as a ratio to the baseline (compares across machines) and to 22 MB/s, NATS JetStream R3
// on a comparable machine (an external reference, not measured here).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "base/status.h"

namespace gregor::bench {

// The reference: NATS JetStream with three replicas on a comparable machine (external,
// quoted, not measured by this benchmark).
inline constexpr double kNatsJetStreamR3MbS = 22.0;

struct ClusterBenchOptions {
  std::string binary = "/proc/self/exe";  // the gregor binary the children exec
  std::string parent_dir = "/tmp";        // a fresh mkdtemp directory is made (and removed) here
  uint64_t mb = 256;                      // MB of record values per phase
  int replication_factor = 3;             // of the cluster's topics; 1..3
  int min_insync_replicas = 2;            // capped at the replication factor
  bool keep_dir = false;                  // leave the directory (configs, logs, data) behind
};

// Runs the phases above; the JSON holds each phase's records, bytes, seconds and mb_s, the
// ratios, the partition leaders and the config used. An error names the phase, and when a child
// failed, carries the tail of its output.
Result<nlohmann::ordered_json> run_cluster_bench(const ClusterBenchOptions& options);

// A few aligned lines for a terminal, from run_cluster_bench's JSON.
std::string cluster_bench_text(const nlohmann::ordered_json& result);

}  // namespace gregor::bench
