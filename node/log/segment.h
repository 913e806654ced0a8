// One segment of a partition log: a data file of whole record batches named by its base offset,
// with its sparse offset and time indexes held in memory (written to .index/.timeindex files
// when the segment is sealed and on clean close).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/time.h"
#include "disk/disk.h"
#include "node/log/offset_index.h"
#include "node/log/record_batch.h"
#include "node/log/time_index.h"

namespace gregor::log {

struct Segment {
  Segment(int64_t base, disk::FilePtr f, MonoTime now)
      : base_offset(base),
        file(std::move(f)),
        index(base),
        time_index(base),
        next_offset(base),
        created(now) {}

  int64_t base_offset;
  disk::FilePtr file;
  OffsetIndex index;
  TimeIndex time_index;
  uint64_t size = 0;    // bytes of whole, acknowledged batches; reads never go past it
  int64_t next_offset;  // last offset + 1; base_offset when empty
  int64_t max_timestamp = -1;
  uint32_t bytes_since_index_entry = 0;
  MonoTime created;

  bool empty() const { return next_offset == base_offset; }
  // Records a batch that now sits at `position` in the file.
  void on_batch(const BatchHeader& h, uint64_t position, uint32_t index_interval_bytes);
};

// "<20-digit offset><suffix>", Kafka's file naming.
std::string segment_file(const std::string& dir, int64_t base_offset, std::string_view suffix);

// What a scan of segment bytes found.
struct ScanResult {
  uint64_t valid_bytes = 0;  // length of the prefix made of whole, valid batches
  bool truncated = false;    // bytes past valid_bytes exist (torn or corrupt tail)
  std::string reason;        // why the scan stopped early
};

// Scans a segment file from position 0; calls on_batch for each batch (with its position). Stops
// at the first torn batch, bad framing (length, magic, offsets going back) or, when check_crc,
// failed CRC. Reads in chunks of kScanChunkBytes, so memory stays bounded whatever the segment
// size.
void scan_segment(disk::FilePtr file, int64_t expected_base, bool check_crc,
                  std::function<void(const BatchHeader&, uint64_t position)> on_batch,
                  std::function<void(Result<ScanResult>)> done);
// The same from `position`, which must be the start of a batch whose base offset is
// `expected_base` (the first batch is checked to be exactly that; otherwise the scan stops there
// with valid_bytes == position). Used to scan the tail of a segment after a loaded index entry.
void scan_segment_from(disk::FilePtr file, uint64_t position, int64_t expected_base, bool check_crc,
                       std::function<void(const BatchHeader&, uint64_t position)> on_batch,
                       std::function<void(Result<ScanResult>)> done);

}  // namespace gregor::log
