#include "client/partitioner.h"

#include "base/assert.h"

namespace gregor::client {

int32_t murmur2(ByteView data) {
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const uint32_t length = static_cast<uint32_t>(data.size());
  uint32_t h = 0x9747b28c ^ length;
  size_t length4 = data.size() / 4;
  for (size_t i = 0; i < length4; ++i) {
    size_t i4 = i * 4;
    uint32_t k = uint32_t{data[i4]} | (uint32_t{data[i4 + 1]} << 8) |
                 (uint32_t{data[i4 + 2]} << 16) | (uint32_t{data[i4 + 3]} << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  size_t tail = data.size() & ~size_t{3};
  switch (data.size() % 4) {
    case 3:
      h ^= uint32_t{data[tail + 2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t{data[tail + 1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= uint32_t{data[tail]};
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(ByteView key, int32_t num_partitions) {
  GREGOR_ASSERT(num_partitions > 0, "partition_for_key: {} partitions", num_partitions);
  return (murmur2(key) & 0x7fffffff) % num_partitions;
}

int32_t Partitioner::partition(const std::string& topic, const std::optional<Bytes>& key,
                               int32_t num_partitions) {
  GREGOR_ASSERT(num_partitions > 0, "partition: {} partitions", num_partitions);
  if (kind_ == PartitionerKind::round_robin) {
    return static_cast<int32_t>(round_robin_[topic]++ % static_cast<uint32_t>(num_partitions));
  }
  if (key) return partition_for_key(*key, num_partitions);
  auto it = sticky_.find(topic);
  if (it == sticky_.end() || it->second >= num_partitions) {
    int32_t p = static_cast<int32_t>(random_.uniform(0, static_cast<uint64_t>(num_partitions - 1)));
    it = sticky_.insert_or_assign(topic, p).first;
  }
  return it->second;
}

void Partitioner::on_batch_closed(const std::string& topic, int32_t partition) {
  auto it = sticky_.find(topic);
  if (it != sticky_.end() && it->second == partition) sticky_.erase(it);
}

}  // namespace gregor::client
