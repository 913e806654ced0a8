#include "node/log/segment.h"

#include <fmt/format.h>

#include <memory>

#include "node/log/log_config.h"

namespace gregor::log {

void Segment::on_batch(const BatchHeader& h, uint64_t position, uint32_t index_interval_bytes) {
  // Sparse index: an entry when index_interval_bytes have accumulated since the last one, as
  // Kafka does; the first batch of a segment needs none (lookup falls back to position 0).
  if (bytes_since_index_entry >= index_interval_bytes) {
    index.append(h.base_offset, static_cast<uint32_t>(position));
    bytes_since_index_entry = 0;
  }
  bytes_since_index_entry += static_cast<uint32_t>(h.size_bytes());
  if (h.max_timestamp > max_timestamp) {
    max_timestamp = h.max_timestamp;
    time_index.append(h.max_timestamp, h.base_offset);
  }
  next_offset = h.last_offset() + 1;
  size = position + h.size_bytes();
}

std::string segment_file(const std::string& dir, int64_t base_offset, std::string_view suffix) {
  return dir + "/" + offset_file_name(base_offset, suffix);
}

namespace {

struct Scan : std::enable_shared_from_this<Scan> {
  disk::FilePtr file;
  int64_t expected_next;
  bool check_crc = true;
  std::function<void(const BatchHeader&, uint64_t)> on_batch;
  std::function<void(Result<ScanResult>)> done;
  uint64_t position = 0;
  int64_t exact_first = -1;  // when >= 0: the first batch must have this base offset
  ScanResult result;

  void stop(std::string reason) {
    result.valid_bytes = position;
    result.truncated = position < file->size();
    result.reason = std::move(reason);
    done(result);
  }

  void read_more(size_t want) {
    uint64_t file_size = file->size();
    if (position >= file_size) return stop("");
    size_t len = static_cast<size_t>(
        std::min<uint64_t>(std::max(want, kScanChunkBytes), file_size - position));
    file->pread(position, len, [self = shared_from_this()](Result<ReadBuffer> data) {
      if (!data.ok()) return self->done(data.status());
      self->consume(*data);
    });
  }

  // Takes every whole batch in data; asks for a larger read when one batch spans past it.
  void consume(ByteView data) {
    ByteView rest(data);
    while (!rest.empty()) {
      auto size = peek_batch_size(rest);
      if (!size) break;  // fewer than 12 bytes left in this chunk
      if (*size < kBatchHeaderBytes || *size > kBatchBytesMax) {
        return stop(fmt::format("bad batch length {} at position {}", *size, position));
      }
      if (*size > rest.size()) {
        if (rest.size() == data.size()) {  // the chunk holds no whole batch: read the big one
          if (position + *size > file->size()) return stop("torn batch at end of segment");
          return read_more(*size);
        }
        break;
      }
      ByteView batch = rest.first(*size);
      if (check_crc) {
        Status valid = validate_batch(batch, Validation::stored);
        if (!valid.ok()) return stop(fmt::format("position {}: {}", position, valid.message()));
      }
      auto header = parse_batch_header(batch);
      if (header.ok() && exact_first >= 0 && header->base_offset != exact_first) {
        return stop(fmt::format("position {}: offset {} where an index entry says {}", position,
                                header->base_offset, exact_first));
      }
      exact_first = -1;
      if (!header.ok() || header->base_offset < expected_next) {
        return stop(fmt::format("position {}: offset {} goes back (expected >= {})", position,
                                header.ok() ? header->base_offset : -1, expected_next));
      }
      on_batch(*header, position);
      expected_next = header->last_offset() + 1;
      position += *size;
      rest = rest.subspan(*size);
    }
    if (rest.size() == data.size() && !rest.empty()) {
      return stop("torn batch at end of segment");  // a partial header at the very end
    }
    read_more(kScanChunkBytes);
  }
};

}  // namespace

void scan_segment(disk::FilePtr file, int64_t expected_base, bool check_crc,
                  std::function<void(const BatchHeader&, uint64_t position)> on_batch,
                  std::function<void(Result<ScanResult>)> done) {
  auto scan = std::make_shared<Scan>();
  scan->check_crc = check_crc;
  scan->file = std::move(file);
  scan->expected_next = expected_base;
  scan->on_batch = std::move(on_batch);
  scan->done = std::move(done);
  scan->read_more(kScanChunkBytes);
}

void scan_segment_from(disk::FilePtr file, uint64_t position, int64_t expected_base, bool check_crc,
                       std::function<void(const BatchHeader&, uint64_t position)> on_batch,
                       std::function<void(Result<ScanResult>)> done) {
  auto scan = std::make_shared<Scan>();
  scan->check_crc = check_crc;
  scan->file = std::move(file);
  scan->position = position;
  scan->expected_next = expected_base;
  scan->exact_first = expected_base;
  scan->on_batch = std::move(on_batch);
  scan->done = std::move(done);
  scan->read_more(kScanChunkBytes);
}

}  // namespace gregor::log
