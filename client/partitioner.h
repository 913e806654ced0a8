// Choosing a partition for a record without an explicit one, as Kafka's Java producer does:
// a non-null key goes to murmur2(key) mod the partition count (so Gregor and Java clients agree
// on where a key lives); null keys go to a sticky partition that changes when its batch is
// closed (Kafka's default since 2.4), or round-robin when asked.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/random.h"

namespace gregor::client {

enum class PartitionerKind : uint8_t {
  default_sticky,  // murmur2 for keys, sticky for null keys
  round_robin,     // every record to the next partition, keys ignored (RoundRobinPartitioner)
};

// Kafka's Utils.murmur2 (seed 0x9747b28c), as a signed 32-bit value like Java's.
int32_t murmur2(ByteView data);
// Kafka's default partition of a key: toPositive(murmur2(key)) % num_partitions.
int32_t partition_for_key(ByteView key, int32_t num_partitions);

class Partitioner {
 public:
  Partitioner(PartitionerKind kind, Random& random) : kind_(kind), random_(random) {}

  // num_partitions must be > 0 (asserted).
  int32_t partition(const std::string& topic, const std::optional<Bytes>& key,
                    int32_t num_partitions);
  // The batch of `partition` in `topic` was closed (full or sent): a sticky topic moves on to
  // another partition for its next null-key record.
  void on_batch_closed(const std::string& topic, int32_t partition);

 private:
  PartitionerKind kind_;
  Random& random_;
  std::map<std::string, int32_t> sticky_;        // topic -> current sticky partition
  std::map<std::string, uint32_t> round_robin_;  // topic -> next counter
};

}  // namespace gregor::client
