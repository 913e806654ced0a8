// Reads: whole batches from an offset, and offset lookup by timestamp.
#include <fmt/format.h>

#include "base/fault_points.h"
#include "base/guarded.h"
#include "node/log/log.h"

namespace gregor::log {

void Log::read(int64_t offset, size_t max_bytes, std::function<void(Result<ReadResult>)> done) {
  if (!offline_.ok()) return done(offline_);
  if (offset < log_start_offset_ || offset > log_end_offset_) {
    GREGOR_PROBE(env_, log_read_out_of_range);
    return done(errorf(Errc::out_of_range, "offset {} outside [{}, {}] of {}", offset,
                       log_start_offset_, log_end_offset_, dir_));
  }
  if (offset == log_end_offset_) {
    return done(ReadResult{{}, log_start_offset_, log_end_offset_});
  }
  // BUGGIFY: a read may return fewer batches than max_bytes allows (at least one); callers fetch
  // again from where it ended. A limit of 1 byte returns exactly the first batch.
  if (GREGOR_BUGGIFY(env_, log_read_short)) max_bytes = 1;
  read_from(offset, max_bytes, std::move(done));
}

namespace {

// Picks whole batches out of `data` (read at `position` of a segment): those that end at or
// after `offset`, up to max_bytes, at least one; they are the bytes [begin, end) of data, so the
// caller can trim its buffer in place instead of copying. `need` is set when the first wanted
// batch does not fit in data (the caller reads it whole).
struct Picked {
  size_t begin = 0;
  size_t end = 0;
  size_t need = 0;
  bool corrupt = false;
  std::string reason;
  bool empty() const { return end == begin; }
};

Picked pick_batches(ByteView data, int64_t offset, size_t max_bytes) {
  Picked p;
  BatchIterator it(data);
  while (true) {
    size_t at = it.consumed();
    auto batch = it.next();
    if (!batch) {
      auto size = peek_batch_size(data.subspan(at));
      if (p.empty() && size && *size > data.size() - at) p.need = at + *size;
      return p;
    }
    auto h = parse_batch_header(*batch);
    if (!h.ok()) return p;
    if (h->last_offset() < offset) continue;
    if (!p.empty() && p.end - p.begin + batch->size() > max_bytes) return p;
    Status valid = validate_batch(*batch, Validation::stored);
    if (!valid.ok()) {
      // Never serve a batch that fails its CRC; what came before it is good.
      p.corrupt = p.empty();
      p.reason = valid.message();
      return p;
    }
    if (p.empty()) p.begin = at;
    p.end = at + batch->size();
  }
}

// The picked bytes, taking over the read buffer (a memmove at most, no second allocation).
ReadBuffer take_picked(ReadBuffer data, const Picked& p) {
  if (p.begin > 0) data.erase(data.begin(), data.begin() + static_cast<ptrdiff_t>(p.begin));
  data.resize(p.end - p.begin);
  return data;
}

}  // namespace

void Log::read_from(int64_t offset, size_t max_bytes,
                    std::function<void(Result<ReadResult>)> done) {
  auto it = segments_.upper_bound(offset);
  if (it == segments_.begin()) {
    return done(errorf(Errc::out_of_range, "no segment holds offset {}", offset));
  }
  --it;
  Segment& seg = *it->second;
  if (offset >= seg.next_offset) {
    // Past this segment's batches (it may be empty): the next segment starts later.
    auto next = std::next(it);
    if (next == segments_.end()) return done(ReadResult{{}, log_start_offset_, log_end_offset_});
    return read_from(next->first, max_bytes, std::move(done));
  }
  uint64_t position = seg.index.lookup(offset).position;
  uint64_t limit = seg.size;  // only completed appends
  size_t len = static_cast<size_t>(
      std::min<uint64_t>(limit - position, std::max(max_bytes, kReadBytesDefaultMin)));
  disk::FilePtr file = seg.file;
  auto finish = guarded(alive_, [this, offset, max_bytes, position, limit, file,
                                 done](Result<ReadBuffer> data) {
    if (!data.ok()) return done(data.status());
    Picked p = pick_batches(*data, offset, max_bytes);
    if (p.corrupt) {
      ++counters_.read_corruptions;
      GREGOR_PROBE(env_, log_read_corrupt);
      return done(errorf(Errc::corrupt, "{}: batch at offset >= {} fails validation: {}", dir_,
                         offset, p.reason));
    }
    if (p.need == 0) {
      return done(
          ReadResult{take_picked(std::move(data).value(), p), log_start_offset_, log_end_offset_});
    }
    // The first wanted batch is larger than what was read: read it whole (Kafka returns at
    // least one batch, whatever max_bytes says).
    GREGOR_PROBE(env_, log_read_oversized_batch);
    size_t need = static_cast<size_t>(std::min<uint64_t>(p.need, limit - position));
    file->pread(
        position, need, guarded(alive_, [this, offset, done](Result<ReadBuffer> data) {
          if (!data.ok()) return done(data.status());
          Picked again = pick_batches(*data, offset, SIZE_MAX);
          if (again.corrupt || again.empty()) {
            ++counters_.read_corruptions;
            GREGOR_PROBE(env_, log_read_corrupt);
            return done(errorf(Errc::corrupt, "{}: unreadable batch at offset {}", dir_, offset));
          }
          done(ReadResult{take_picked(std::move(data).value(), again), log_start_offset_,
                          log_end_offset_});
        }));
  });
  file->pread(position, len, std::move(finish));
}

void Log::offset_for_timestamp(int64_t timestamp,
                               std::function<void(Result<std::optional<TimestampOffset>>)> done) {
  // The first segment whose newest batch is at or after the timestamp holds the answer.
  const Segment* target = nullptr;
  for (auto& [base, seg] : segments_) {
    if (seg->max_timestamp >= timestamp && !seg->empty()) {
      target = seg.get();
      break;
    }
  }
  if (!target) return done(std::optional<TimestampOffset>());
  int64_t from = std::max(target->base_offset, log_start_offset_);
  if (auto hint = target->time_index.lookup(timestamp)) from = std::max(from, *hint);
  scan_for_timestamp(from, timestamp, std::move(done));
}

// Scans forward batch by batch from `at`; in the first batch whose max timestamp reaches the
// target, finds the first record that does. (A recursion through read(), not a self-referencing
// closure, so nothing keeps itself alive.)
void Log::scan_for_timestamp(int64_t at, int64_t timestamp,
                             std::function<void(Result<std::optional<TimestampOffset>>)> done) {
  read(at, kReadBytesDefaultMin, guarded(alive_, [this, timestamp, done](Result<ReadResult> r) {
         if (!r.ok()) return done(r.status());
         if (r->batches.empty()) return done(std::optional<TimestampOffset>());
         BatchIterator it(r->batches);
         int64_t next = -1;
         while (auto batch = it.next()) {
           BatchHeader h = parse_batch_header(*batch).value();
           next = h.last_offset() + 1;
           if (h.max_timestamp < timestamp) continue;
           auto records = decode_records(*batch);
           if (!records.ok()) return done(records.status());
           for (auto& rec : *records) {
             if (rec.timestamp >= timestamp) {
               return done(
                   std::optional<TimestampOffset>(TimestampOffset{rec.timestamp, rec.offset}));
             }
           }
         }
         scan_for_timestamp(next, timestamp, done);
       }));
}

}  // namespace gregor::log
