// Recovery of a sealed, flushed segment from its index files instead of a full scan.
//
// A segment wholly below the recovery point was fsynced before, and its .index and .timeindex
// were written (and fsynced) when it was sealed. Loading them costs two small reads instead of
// reading the whole segment. Index files are derived data, so they are trusted only after checks
// that catch a stale or damaged one: the CRC trailer (decode), every position inside the
// segment, and a scan of the tail from the last index entry, which must start at a batch with
// exactly that entry's offset, run to the end of the file without a torn or bad batch, and end at
// the next segment's base offset. Any failure falls back to the full scan, which rebuilds them.
//
// The tail scan feeds the leader epoch cache (as the full scan does) but not producer state: that
// comes from the latest snapshot and a replay (log_snapshots.cc).
#include <fmt/format.h>

#include "base/guarded.h"
#include "base/steps.h"
#include "node/log/log.h"

namespace gregor::log {

namespace {

// Reads a whole small file (an index) into `out`.
Step read_whole(Env& env, std::string path, std::shared_ptr<ReadBuffer> out) {
  return [&env, path, out](Next next) {
    env.disk.open(path, disk::OpenMode::open_existing, [out, next](Result<disk::FilePtr> f) {
      if (!f.ok()) return next(f.status());
      disk::FilePtr file = std::move(f).value();
      if (file->size() > kIndexFileBytesMax) {
        return next(errorf(Errc::corrupt, "{} bytes is more than an index can hold", file->size()));
      }
      file->pread(0, static_cast<size_t>(file->size()), [file, out, next](Result<ReadBuffer> data) {
        if (!data.ok()) return next(data.status());
        *out = std::move(data).value();
        next(Status::Ok());
      });
    });
  };
}

}  // namespace

void Log::load_segment_index(Segment& seg, int64_t next_base,
                             std::function<void(const Status&)> done) {
  auto index_bytes = std::make_shared<ReadBuffer>();
  auto time_bytes = std::make_shared<ReadBuffer>();
  uint64_t file_size = seg.file->size();
  if (file_size > UINT32_MAX) {
    return done(errorf(Errc::corrupt, "segment of {} bytes is beyond 32-bit positions", file_size));
  }
  run_steps({read_whole(env_, segment_file(dir_, seg.base_offset, kOffsetIndexSuffix), index_bytes),
             read_whole(env_, segment_file(dir_, seg.base_offset, kTimeIndexSuffix), time_bytes)},
            guarded(alive_, [this, &seg, next_base, file_size, index_bytes, time_bytes,
                             done](const Status& s) {
              if (!s.ok()) return done(s);
              auto index = OffsetIndex::decode(seg.base_offset, *index_bytes,
                                               static_cast<uint32_t>(file_size));
              if (!index.ok()) return done(index.status());
              auto time_index = TimeIndex::decode(seg.base_offset, *time_bytes, next_base);
              if (!time_index.ok()) return done(time_index.status());
              seg.index = std::move(index).value();
              seg.time_index = std::move(time_index).value();
              scan_tail(seg, next_base, file_size, done);
            }));
}

// Continues the segment's state from its last offset index entry to the end of the file.
void Log::scan_tail(Segment& seg, int64_t next_base, uint64_t file_size,
                    std::function<void(const Status&)> done) {
  OffsetIndex::Position from = seg.index.lookup(next_base);
  seg.size = from.position;
  seg.next_offset = from.offset;
  seg.bytes_since_index_entry = 0;
  seg.max_timestamp = seg.time_index.max_timestamp().value_or(-1);
  auto on_batch = [this, &seg](const BatchHeader& h, uint64_t position) {
    seg.on_batch(h, position, config_.index_interval_bytes);
    ++recovery_.batches_scanned;
    note_epoch(h);
  };
  auto finish = guarded(alive_, [&seg, next_base, file_size, done](Result<ScanResult> r) {
    if (!r.ok()) return done(r.status());
    if (r->truncated) return done(error(Errc::corrupt, r->reason));
    if (seg.next_offset != next_base || seg.size != file_size) {
      return done(errorf(Errc::corrupt,
                         "index leads to offset {} at position {}, but the segment ends at "
                         "{} and the next segment starts at {}",
                         seg.next_offset, seg.size, file_size, next_base));
    }
    done(Status::Ok());
  });
  // An index entry names the exact offset of the batch it points at. Without one the scan starts
  // at the segment's first batch, whose offset may lie above the base offset: compaction drops
  // whole batches from the front of a segment (found by the log_roll_early fault point, which
  // made simulated compaction clean real segments: every such segment was rescanned).
  if (seg.index.empty()) {
    return scan_segment(seg.file, seg.base_offset, /*check_crc=*/false, on_batch, finish);
  }
  scan_segment_from(seg.file, from.position, from.offset, /*check_crc=*/false, on_batch, finish);
}

}  // namespace gregor::log
