// librdkafka (Debian's librdkafka 2.0.2, the C library under kcat and confluent-kafka) as a load
// generator for `gregor bench broker`: produce throughput with acks=all, and consume throughput
// of the same topic, against a broker at `bootstrap`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace gregor::bench {

struct ClientThroughput {
  uint64_t records = 0;
  uint64_t bytes = 0;  // record value bytes
  double seconds = 0;
  double mb_s() const { return seconds > 0 ? bytes / seconds / 1e6 : 0; }
};

// Produces `records` values of `record_bytes` to partition 0 of `topic` (acks=all, linger.ms=5,
// batches up to 1 MiB, no compression) and waits for every delivery report.
Result<ClientThroughput> rdkafka_produce(const std::string& bootstrap, const std::string& topic,
                                         size_t record_bytes, uint64_t records);
// Consumes `records` records of partition 0 of `topic` from offset 0.
Result<ClientThroughput> rdkafka_consume(const std::string& bootstrap, const std::string& topic,
                                         uint64_t records);

}  // namespace gregor::bench
