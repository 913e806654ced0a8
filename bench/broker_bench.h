// `gregor bench broker`: single-broker produce and fetch throughput over loopback TCP, each
// printed as a ratio to `gregor bench log`'s append throughput measured in the same run (so the
// figures compare across machines). The broker runs in-process on its own thread and event loop
// (production backends: TcpNetwork, PosixDisk, RealClock), in a fresh temporary log dir.
//
// Phases:
//   log_append     bench log's append_1m phase (the baseline)
//   rdkafka_100b   librdkafka producer, 100-byte records, acks=all, linger.ms=5
//   rdkafka_1k     the same with 1 KiB records
//   rdkafka_fetch  librdkafka consumer reading the 1 KiB topic back from offset 0
//   gregor_100b    Gregor's own producer (client/), 100-byte records, acks=all, idempotent
//   gregor_1k      the same with 1 KiB records
// Rates are MB/s of record value bytes (the log's rate counts batch bytes, which include about
// 70 bytes of framing per batch and ~10 per record).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "base/status.h"

namespace gregor::bench {

struct BrokerBenchOptions {
  std::string parent_dir = "/tmp";
  uint64_t mb = 256;  // MB of record values per produce phase
};

Result<nlohmann::ordered_json> run_broker_bench(const BrokerBenchOptions& options);

}  // namespace gregor::bench
