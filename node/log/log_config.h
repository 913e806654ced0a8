// Per-partition log settings, named as Kafka's topic configs (the key each field mirrors is in
// its comment). Defaults are Kafka's, except where noted.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "base/time.h"
#include "node/log/record_batch.h"

namespace gregor::log {

struct LogConfig {
  uint64_t segment_bytes = 1ull << 30;            // segment.bytes
  Duration segment_ms = hours(24 * 7);            // segment.ms
  uint32_t index_interval_bytes = 4096;           // index.interval.bytes
  int64_t retention_ms = 7 * 24 * 3600 * 1000ll;  // retention.ms (-1: keep forever)
  int64_t retention_bytes = -1;                   // retention.bytes (-1: no limit)
  // flush.messages and flush.ms. Kafka's defaults never fsync and leave durability to
  // replication; flush_messages = 1 fsyncs every append.
  uint64_t flush_messages = UINT64_MAX;
  Duration flush_ms = Duration::max();
  TimestampType message_timestamp_type = TimestampType::create_time;  // message.timestamp.type
  uint32_t max_message_bytes = 1048588;                               // max.message.bytes
  // cleanup.policy: delete (retention), compact (latest record per key), or both.
  bool cleanup_delete = true;
  bool cleanup_compact = false;
  int64_t delete_retention_ms = 24 * 3600 * 1000ll;  // delete.retention.ms: tombstones kept
  // Memory the cleaner may use for its key -> offset map (log.cleaner.dedupe.buffer.size is
  // Kafka's broker-wide equivalent); a pass cleans only as far as the map covers.
  size_t cleaner_map_bytes_max = 16 << 20;
  // Decompress and walk every record on append (Kafka does this for compressed batches when it
  // must re-validate); off: check framing and CRC only.
  bool strict_validation = false;
};

// Checks a config; the message names the Kafka key. Kafka's own bounds where it has them.
Status validate_config(const LogConfig& c);

// Named limits of the log's own machinery.
inline constexpr size_t kScanChunkBytes = 1 << 20;        // recovery reads a segment in chunks
inline constexpr size_t kReadBytesDefaultMin = 64 << 10;  // first pread of a fetch
// Recovery loads index files up to this size (Kafka's segment.index.bytes default is 10 MiB);
// a larger one is rebuilt by scanning its segment instead.
inline constexpr uint64_t kIndexFileBytesMax = 64 << 20;

}  // namespace gregor::log
