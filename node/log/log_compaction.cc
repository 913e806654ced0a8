// Log compaction (cleanup.policy=compact), after Kafka's LogCleaner.
//
// A pass cleans the sealed segments that lie wholly below min(active segment base, high
// watermark): that range is fixed when the pass starts. It runs in rounds. A round fills the
// offset map (key -> latest offset) from the "dirty" offset on, until the map is full
// (cleaner_map_bytes_max) or the range ends; then it rewrites every segment from the first one up
// to the map's end and swaps each rewritten group in. The next round maps from where this one
// stopped, so a small map needs more rounds, never a different result. Rounds happen within one
// compact() call because the Log keeps no cleaner checkpoint between passes (Kafka's
// cleaner-offset-checkpoint); a later pass simply maps the already clean range again.
//
// What a round keeps, for a record at offset o with the map covering [dirty_from, dirty_to):
//  - o >= dirty_to: kept (not mapped yet; a later round decides);
//  - a null key: kept (Kafka rejects such records at append to a compacted topic; we keep them
//    rather than lose data appended before the policy changed);
//  - the map holds the key at an offset > o: removed (a later record supersedes it);
//  - otherwise it is the latest for its key: kept, unless it is a tombstone (null value) whose
//    segment's max timestamp is older than delete.retention.ms: then removed too.
// Control batches are copied untouched. Aborted-transaction data is not removed (no transaction
// index yet).
//
// The map stores the full key bytes, not a hash: a hash collision would silently drop the latest
// record of some key, and 128-bit digests cost about as much as the short keys compacted topics
// use. Memory is accounted as kMapEntryOverheadBytes + key size per entry, so long keys make the
// map cover fewer records, never use more memory. The map is only looked up, never iterated, so
// its hash order cannot reach behaviour.
//
// Offsets are preserved: a batch that loses records is rebuilt with its base offset, its last
// offset delta (so its last offset and last sequence), producer id/epoch/base sequence, partition
// leader epoch, codec, timestamp type and max timestamp. A batch that loses every record is
// dropped, except (as an empty batch) when (a) it is the last batch of a cleaned group: recovery
// derives a segment's next offset from its last batch, and segments must stay contiguous; or
// (b) it is one of the batches the producer state retains for its producer: recovery rebuilds
// producer state from batch headers, so an idempotent retry must still be recognised.
//
// Grouping: adjacent segments are merged into one cleaned segment while their original sizes sum
// to at most segment.bytes (and the offset span fits the index). A lone segment in which nothing
// was removed is left alone (its output is discarded).
//
// Concurrency: reading and writing the cleaned file happen outside the op queue, a chunk
// (kScanChunkBytes) per disk call, so appends keep flowing. Only the swap touches segments_, and
// it runs as a Log op. A truncation or retention that deleted segments meanwhile (seen through
// counters_.segments_deleted and the group's Segment objects) abandons the pass: its output is
// removed and compact() reports Errc::cancelled.
#include <fmt/format.h>

#include <limits>
#include <unordered_map>

#include "base/fault_points.h"
#include "base/guarded.h"
#include "base/steps.h"
#include "node/log/log.h"

namespace gregor::log {
namespace {

// Per-entry cost of the offset map beyond the key bytes: offset, hash node, string header.
constexpr size_t kMapEntryOverheadBytes = 64;
// Rounds of a pass in which the log_compaction_map_full fault point may end a round early.
constexpr uint64_t kBuggifyRoundsMax = 3;
// maxTimestamp field of a v2 batch (see the layout in record_batch.h).
constexpr size_t kBatchMaxTimestampOffset = 35;

// Reads whole batches of file[0, size) a chunk at a time: on_chunk gets the whole batches of one
// chunk (at least one) with the position of the first, and calls next to ask for more. Memory
// stays at about one chunk or one batch, whatever the segment size.
struct ChunkReader : std::enable_shared_from_this<ChunkReader> {
  disk::FilePtr file;
  uint64_t size = 0;
  uint64_t position = 0;
  std::function<void(ByteView, uint64_t, Next)> on_chunk;
  std::function<void(const Status&)> done;

  void read(size_t want) {
    if (position >= size) return done(Status::Ok());
    size_t len =
        static_cast<size_t>(std::min<uint64_t>(std::max(want, kScanChunkBytes), size - position));
    file->pread(position, len, [self = shared_from_this()](Result<ReadBuffer> data) {
      if (!data.ok()) return self->done(data.status());
      self->consume(std::make_shared<ReadBuffer>(std::move(data).value()));
    });
  }

  void consume(std::shared_ptr<ReadBuffer> data) {
    BatchIterator it(*data);
    while (it.next()) {
    }
    size_t whole = it.consumed();
    if (whole == 0) {
      auto need = peek_batch_size(*data);
      if (!it.status().ok() || !need || !batch_size_plausible(*need) || *need <= data->size() ||
          position + *need > size) {
        return done(errorf(Errc::corrupt, "{}: no whole batch at position {} of a sealed segment",
                           file->path(), position));
      }
      return read(*need);  // one batch larger than a chunk
    }
    uint64_t at = position;
    position += whole;
    on_chunk(ByteView(*data).first(whole), at, [self = shared_from_this(), data](const Status& s) {
      if (!s.ok()) return self->done(s);
      self->read(kScanChunkBytes);
    });
  }
};

void read_chunks(disk::FilePtr file, uint64_t size,
                 std::function<void(ByteView, uint64_t, Next)> on_chunk,
                 std::function<void(const Status&)> done) {
  auto reader = std::make_shared<ChunkReader>();
  reader->file = std::move(file);
  reader->size = size;
  reader->on_chunk = std::move(on_chunk);
  reader->done = std::move(done);
  reader->read(kScanChunkBytes);
}

std::string key_string(const Bytes& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), key.size());
}

// Rebuilds `h`'s batch with only `kept`, keeping everything that identifies the batch.
Result<Bytes> rebuild_batch(const BatchHeader& h, const std::vector<Record>& kept) {
  BatchBuilder::Options o;
  o.compression = h.compression();
  o.base_offset = h.base_offset;
  o.leader_epoch = h.partition_leader_epoch;
  o.producer_id = h.producer_id;
  o.producer_epoch = h.producer_epoch;
  o.base_sequence = h.base_sequence;
  o.transactional = h.is_transactional();
  o.control = h.is_control();
  o.timestamp_type = h.timestamp_type();
  o.last_offset_delta = h.last_offset_delta;
  BatchBuilder b(o);
  for (const Record& r : kept) {
    std::optional<ByteView> key, value;
    if (r.key) key = ByteView(*r.key);
    if (r.value) value = ByteView(*r.value);
    b.add(r.timestamp, key, value, r.headers, static_cast<int32_t>(r.offset - h.base_offset));
  }
  Result<Bytes> built = b.build();
  if (!built.ok()) return built;
  // The batch's max timestamp stays: retention, the time index and LogAppendTime readers use it.
  Bytes out = std::move(built).value();
  store_be<int64_t>(out.data() + kBatchMaxTimestampOffset, h.max_timestamp);
  update_crc(out);
  return out;
}

}  // namespace

struct Log::CompactionPass {
  // A sealed segment as the round saw it when it started.
  struct SegmentRef {
    int64_t base = 0;
    int64_t next_offset = 0;
    uint64_t size = 0;
    int64_t max_timestamp = -1;
    MonoTime created{};
    disk::FilePtr file;
    const Segment* segment = nullptr;  // identity, compared again at swap time
  };
  // Segments [first, last) of the round's snapshot, cleaned into one segment at first's base.
  struct Group {
    size_t first = 0;
    size_t last = 0;
  };

  int64_t now_ms = 0;
  int64_t end = 0;  // the cleanable range is [first segment base, end), fixed for the pass
  uint64_t segments_deleted = 0;  // counters_.segments_deleted when the pass started
  uint64_t rounds = 0;
  uint64_t kept = 0;
  uint64_t removed = 0;

  // The current round.
  std::vector<SegmentRef> segments;  // sealed segments below `end`, in offset order
  int64_t dirty_from = 0;            // the map covers [dirty_from, dirty_to)
  int64_t dirty_to = 0;
  std::unordered_map<std::string, int64_t> latest;  // key -> latest offset in the mapped range
  size_t map_bytes = 0;
  bool map_full = false;
  std::vector<Group> groups;
  size_t next_group = 0;

  // The group being cleaned (one at a time).
  Group group;
  std::string cleaned_path;
  disk::FilePtr out_file;
  std::unique_ptr<Segment> out_segment;  // its indexes are built while writing
  uint64_t group_kept = 0;
  uint64_t group_removed = 0;
};

void Log::compact(std::function<void(const Status&)> done) {
  if (!config_.cleanup_compact) return done(Status::Ok());  // cleanup.policy=delete only
  if (config_.cleaner_map_bytes_max <= kMapEntryOverheadBytes) {
    return done(errorf(Errc::invalid_argument, "{}: cleaner_map_bytes_max {} holds no key", dir_,
                       config_.cleaner_map_bytes_max));
  }
  if (compacting_) {
    // One pass at a time: two would rewrite the same segments.
    return done(errorf(Errc::limit_exceeded, "{}: a compaction pass is already running", dir_));
  }
  compacting_ = true;
  done = [this, alive = std::weak_ptr<bool>(alive_), done = std::move(done)](const Status& s) {
    if (!alive.expired()) compacting_ = false;
    done(s);
  };
  auto pass = std::make_shared<CompactionPass>();
  pass->now_ms = to_ms(env_.clock.wall_now());
  pass->segments_deleted = counters_.segments_deleted;
  int64_t limit = std::min(active().base_offset, high_watermark_);
  pass->end = segments_.begin()->first;
  for (auto& [base, seg] : segments_) {
    if (seg.get() == &active() || seg->next_offset > limit) break;
    pass->end = seg->next_offset;
  }
  pass->dirty_from = segments_.begin()->first;
  run_compaction(pass, std::move(done));
}

// One round, then the next, until the map has covered the whole cleanable range.
void Log::run_compaction(std::shared_ptr<CompactionPass> pass,
                         std::function<void(const Status&)> done) {
  if (pass->dirty_from >= pass->end) {
    env_.tracer.event("log.compact_pass", TraceFields()
                                              .add("dir", dir_)
                                              .add("end", pass->end)
                                              .add("rounds", pass->rounds)
                                              .add("kept", pass->kept)
                                              .add("removed", pass->removed));
    return done(Status::Ok());
  }
  if (!snapshot_segments(*pass)) {
    GREGOR_PROBE(env_, log_compaction_abandoned);
    return done(compaction_abandoned());
  }
  pass->latest.clear();
  pass->map_bytes = 0;
  pass->map_full = false;
  pass->dirty_to = pass->end;
  fill_map(pass, 0, guarded(alive_, [this, pass, done](const Status& s) {
             if (!s.ok()) return done(s);
             plan_groups(*pass);
             clean_next_group(pass, guarded(alive_, [this, pass, done](const Status& s) {
                                if (!s.ok()) return done(s);
                                ++pass->rounds;
                                ++counters_.compactions;
                                pass->dirty_from = pass->dirty_to;
                                run_compaction(pass, done);
                              }));
           }));
}

Status Log::compaction_abandoned() const {
  return errorf(Errc::cancelled,
                "{}: compaction pass abandoned: segments were deleted (truncation or retention) "
                "while it ran",
                dir_);
}

// Takes the round's view of the sealed segments below the pass's end; false when segments were
// deleted since the pass started (the range it mapped may be gone).
bool Log::snapshot_segments(CompactionPass& pass) {
  if (counters_.segments_deleted != pass.segments_deleted) return false;
  pass.segments.clear();
  for (auto& [base, seg] : segments_) {
    if (seg.get() == &active() || seg->next_offset > pass.end) break;
    pass.segments.push_back({base, seg->next_offset, seg->size, seg->max_timestamp, seg->created,
                             seg->file, seg.get()});
  }
  return !pass.segments.empty() && pass.segments.back().next_offset == pass.end;
}

// Maps keys from segment i on, starting at dirty_from, until the map is full or the range ends.
void Log::fill_map(std::shared_ptr<CompactionPass> pass, size_t i,
                   std::function<void(const Status&)> done) {
  while (i < pass->segments.size() && pass->segments[i].next_offset <= pass->dirty_from) ++i;
  if (i == pass->segments.size() || pass->map_full) return done(Status::Ok());
  const CompactionPass::SegmentRef& ref = pass->segments[i];
  read_chunks(ref.file, ref.size,
              guarded(alive_, [this, pass](ByteView chunk, uint64_t,
                                           Next next) { next(map_chunk(*pass, chunk)); }),
              guarded(alive_, [this, pass, i, done](const Status& s) {
                if (!s.ok() && !pass->map_full) return done(s);
                fill_map(pass, i + 1, done);
              }));
}

// Adds the keyed records of a chunk at or after dirty_from. When a new key does not fit, the map
// ends before that record (dirty_to) and the read stops (with Errc::limit_exceeded).
Status Log::map_chunk(CompactionPass& pass, ByteView chunk) {
  BatchIterator it(chunk);
  while (auto batch = it.next()) {
    BatchHeader h = parse_batch_header(*batch).value();
    if (h.last_offset() < pass.dirty_from || h.is_control()) continue;
    auto records = decode_records(*batch);
    if (!records.ok()) return records.status();
    for (const Record& r : *records) {
      if (r.offset < pass.dirty_from || !r.key) continue;
      std::string key = key_string(*r.key);
      auto found = pass.latest.find(key);
      if (found != pass.latest.end()) {
        found->second = r.offset;
        continue;
      }
      size_t cost = kMapEntryOverheadBytes + key.size();
      bool full = pass.map_bytes + cost > config_.cleaner_map_bytes_max;
      // BUGGIFY: a full map is the path of large partitions (a pass in rounds), which tests with
      // a few keys never reach; a smaller map means more rounds, never a different result. Not
      // on an empty map (it must take a key to progress), and only in the first rounds, so that
      // a pass still ends after a few.
      if (!full && !pass.latest.empty() && pass.rounds < kBuggifyRoundsMax) {
        full = GREGOR_BUGGIFY(env_, log_compaction_map_full);
      }
      if (full) {
        if (pass.latest.empty()) {
          return errorf(Errc::invalid_argument,
                        "{}: a key of {} bytes does not fit cleaner_map_bytes_max", dir_,
                        key.size());
        }
        pass.map_full = true;
        pass.dirty_to = r.offset;
        return error(Errc::limit_exceeded, "offset map full");
      }
      pass.map_bytes += cost;
      pass.latest.emplace(std::move(key), r.offset);
    }
  }
  return Status::Ok();
}

// Groups the segments holding offsets below dirty_to; adjacent ones merge while small enough.
void Log::plan_groups(CompactionPass& pass) {
  pass.groups.clear();
  pass.next_group = 0;
  uint64_t bytes_max = std::min<uint64_t>(config_.segment_bytes, UINT32_MAX);
  for (size_t i = 0; i < pass.segments.size() && pass.segments[i].base < pass.dirty_to;) {
    CompactionPass::Group g{i, i + 1};
    uint64_t bytes = pass.segments[i].size;
    OffsetIndex span(pass.segments[i].base);  // the merged segment's index must reach every offset
    while (g.last < pass.segments.size() && pass.segments[g.last].base < pass.dirty_to &&
           bytes + pass.segments[g.last].size <= bytes_max &&
           span.can_index(pass.segments[g.last].next_offset - 1)) {
      bytes += pass.segments[g.last].size;
      ++g.last;
    }
    pass.groups.push_back(g);
    i = g.last;
  }
}

// Writes the next group's "<A>.log.cleaned", fsyncs it, and queues its swap.
void Log::clean_next_group(std::shared_ptr<CompactionPass> pass,
                           std::function<void(const Status&)> done) {
  if (pass->next_group == pass->groups.size()) return done(Status::Ok());
  pass->group = pass->groups[pass->next_group++];
  pass->group_kept = pass->group_removed = 0;
  const CompactionPass::SegmentRef& first = pass->segments[pass->group.first];
  pass->cleaned_path = segment_file(dir_, first.base, ".log.cleaned");
  std::vector<Step> steps;
  steps.push_back([this, pass](Next next) {
    env_.disk.open(pass->cleaned_path, disk::OpenMode::open_or_create,
                   guarded(alive_, [pass, next](Result<disk::FilePtr> f) {
                     if (!f.ok()) return next(f.status());
                     const CompactionPass::SegmentRef& first = pass->segments[pass->group.first];
                     pass->out_file = std::move(f).value();
                     pass->out_segment =
                         std::make_unique<Segment>(first.base, pass->out_file, first.created);
                     pass->out_file->truncate(0, next);  // a leftover of an abandoned pass
                   }));
  });
  for (size_t i = pass->group.first; i < pass->group.last; ++i) {
    steps.push_back([this, pass, i](Next next) {
      const CompactionPass::SegmentRef& ref = pass->segments[i];
      read_chunks(ref.file, ref.size,
                  guarded(alive_,
                          [this, pass, i](ByteView chunk, uint64_t, Next next) {
                            write_cleaned_chunk(pass, i, chunk, next);
                          }),
                  next);
    });
  }
  steps.push_back([pass](Next next) { pass->out_file->fsync(next); });
  run_steps(std::move(steps), guarded(alive_, [this, pass, done](const Status& s) {
              std::function<void(const Status&)> after =
                  guarded(alive_, [this, pass, done](const Status& s) {
                    if (!s.ok()) return done(s);
                    clean_next_group(pass, done);
                  });
              bool lone = pass->group.last - pass->group.first == 1;
              if (!s.ok() || (lone && pass->group_removed == 0)) {
                // Failed, or nothing gained: drop the output.
                return remove_compaction_files(*pass, [s, after](const Status&) { after(s); });
              }
              enqueue([this, pass, after](std::function<void()> finished) {
                swap_in(pass, guarded(alive_, [after, finished](const Status& s) {
                          finished();
                          after(s);
                        }));
              });
            }));
}

// Filters one chunk of segment i into the cleaned file (one append per chunk).
void Log::write_cleaned_chunk(std::shared_ptr<CompactionPass> pass, size_t i, ByteView chunk,
                              Next next) {
  const CompactionPass::SegmentRef& ref = pass->segments[i];
  bool last_segment = i + 1 == pass->group.last;
  Bytes data;
  BatchIterator it(chunk);
  while (auto batch = it.next()) {
    BatchHeader h = parse_batch_header(*batch).value();
    bool group_end = last_segment && h.last_offset() + 1 == ref.next_offset;
    Result<std::optional<Bytes>> kept = filter_batch(*pass, i, *batch, h, group_end);
    if (!kept.ok()) return next(kept.status());
    if (!*kept) continue;
    const Bytes& b = **kept;
    pass->out_segment->on_batch(parse_batch_header(b).value(), pass->out_segment->size,
                                config_.index_interval_bytes);
    data.insert(data.end(), b.begin(), b.end());
  }
  if (data.empty()) return next(Status::Ok());
  pass->out_file->append(std::move(data), [next](Result<uint64_t> at) { next(at.status()); });
}

// What remains of one batch of segment i: nullopt when it goes entirely, its own bytes when it
// loses nothing, else a rebuilt batch.
Result<std::optional<Bytes>> Log::filter_batch(CompactionPass& pass, size_t i, ByteView batch,
                                               const BatchHeader& h, bool group_end) {
  if (h.is_control()) return std::optional<Bytes>(Bytes(batch.begin(), batch.end()));
  auto records = decode_records(batch);
  if (!records.ok()) return records.status();
  int64_t horizon_ms = pass.segments[i].max_timestamp + config_.delete_retention_ms;
  std::vector<Record> kept;
  for (Record& r : *records) {
    bool keep = true;
    if (r.key && r.offset < pass.dirty_to) {
      auto found = pass.latest.find(key_string(*r.key));
      bool superseded = found != pass.latest.end() && found->second > r.offset;
      bool expired_tombstone = !r.value && horizon_ms < pass.now_ms;
      keep = !superseded && !expired_tombstone;
    }
    if (keep) kept.push_back(std::move(r));
  }
  size_t removed = records->size() - kept.size();
  pass.group_removed += removed;
  pass.group_kept += kept.size();
  if (removed == 0) return std::optional<Bytes>(Bytes(batch.begin(), batch.end()));
  if (kept.empty() && !group_end && !producer_retains(h)) return std::optional<Bytes>();
  Result<Bytes> rebuilt = rebuild_batch(h, kept);
  if (!rebuilt.ok()) return rebuilt.status();
  return std::optional<Bytes>(std::move(rebuilt).value());
}

// Whether the producer state holds this batch (an idempotent retry of it must stay a duplicate).
bool Log::producer_retains(const BatchHeader& h) const {
  if (h.producer_id < 0) return false;
  const ProducerEntry* entry = producers_.find(h.producer_id);
  if (!entry) return false;
  for (const ProducerBatch& b : entry->batches) {
    if (b.last_offset == h.last_offset()) return true;
  }
  return false;
}

// Whether the group's segments are still the ones the round read (no truncation, retention or
// other swap replaced them).
bool Log::compaction_group_current(const CompactionPass& pass) const {
  if (counters_.segments_deleted != pass.segments_deleted) return false;
  for (size_t i = pass.group.first; i < pass.group.last; ++i) {
    const CompactionPass::SegmentRef& ref = pass.segments[i];
    auto it = segments_.find(ref.base);
    if (it == segments_.end() || it->second.get() != ref.segment || it->second->size != ref.size ||
        it->second->next_offset != ref.next_offset || std::next(it) == segments_.end()) {
      return false;
    }
  }
  return true;
}

// The swap, run as a Log op so appends, truncation and retention wait for it. segments_ changes
// in one synchronous step right after the commit point: a read sees either the old segments
// (whose files stay readable while open, even once unlinked) or the cleaned one, never a hole.
void Log::swap_in(std::shared_ptr<CompactionPass> pass, std::function<void(const Status&)> done) {
  if (!compaction_group_current(*pass)) {
    GREGOR_PROBE(env_, log_compaction_abandoned);
    return remove_compaction_files(*pass,
                                   [this, done](const Status&) { done(compaction_abandoned()); });
  }
  int64_t base = pass->segments[pass->group.first].base;
  std::string swap = segment_file(dir_, base, ".log.swap");
  auto committed = std::make_shared<bool>(false);
  std::vector<Step> steps = {
      [this, pass, swap](Next next) { env_.disk.rename(pass->cleaned_path, swap, next); },
      [this](Next next) { env_.disk.fsync_dir(dir_, next); },
      [this, pass, committed](Next next) {
        install_cleaned(*pass);
        *committed = true;
        next(Status::Ok());
      },
  };
  for (size_t i = pass->group.first; i < pass->group.last; ++i) {
    for (const char* suffix : {".log", ".index", ".timeindex"}) {
      std::string path = segment_file(dir_, pass->segments[i].base, suffix);
      steps.push_back([this, path](Next next) {
        env_.disk.remove(path, [next](const Status& s) {
          next(s.code() == Errc::not_found ? Status::Ok() : s);  // an index may never exist
        });
      });
    }
  }
  steps.push_back([this, swap, base](Next next) {
    env_.disk.rename(swap, segment_file(dir_, base, ".log"), next);
  });
  steps.push_back([this](Next next) { env_.disk.fsync_dir(dir_, next); });
  steps.push_back([this, base](Next next) { write_indexes(*segments_.at(base), next); });
  run_steps(std::move(steps), guarded(alive_, [this, pass, committed, done](const Status& s) {
              if (s.ok() || *committed) return done(s);  // past the commit, recovery finishes it
              // Before the commit: undo, so no stale swap is completed by a later recovery.
              remove_compaction_files(*pass, [s, done](const Status&) { done(s); });
            }));
}

// Replaces the group's segments by the cleaned one in memory.
void Log::install_cleaned(CompactionPass& pass) {
  const CompactionPass::SegmentRef& first = pass.segments[pass.group.first];
  int64_t end = pass.segments[pass.group.last - 1].next_offset;
  GREGOR_ASSERT(pass.out_segment->next_offset == end, "cleaned segment {} ends at {}, not {}",
                first.base, pass.out_segment->next_offset, end);
  for (size_t i = pass.group.first; i < pass.group.last; ++i)
    segments_.erase(pass.segments[i].base);
  segments_[first.base] = std::move(pass.out_segment);
  counters_.compaction_records_removed += pass.group_removed;
  pass.kept += pass.group_kept;
  pass.removed += pass.group_removed;
  env_.tracer.event("log.compact", TraceFields()
                                       .add("dir", dir_)
                                       .add("from", first.base)
                                       .add("to", end)
                                       .add("segments", pass.group.last - pass.group.first)
                                       .add("kept", pass.group_kept)
                                       .add("removed", pass.group_removed));
}

// Removes the group's ".log.cleaned" and ".log.swap" (whichever exist).
void Log::remove_compaction_files(const CompactionPass& pass,
                                  std::function<void(const Status&)> done) {
  int64_t base = pass.segments[pass.group.first].base;
  std::vector<Step> steps;
  for (std::string path : {pass.cleaned_path, segment_file(dir_, base, ".log.swap")}) {
    steps.push_back([this, path](Next next) {
      env_.disk.remove(
          path, [next](const Status& s) { next(s.code() == Errc::not_found ? Status::Ok() : s); });
    });
  }
  steps.push_back([this](Next next) { env_.disk.fsync_dir(dir_, next); });
  run_steps(std::move(steps), std::move(done));
}

}  // namespace gregor::log
