// Truncation (replication's truncate_to), log start advances (DeleteRecords) and retention.
#include <fmt/format.h>

#include "base/guarded.h"
#include "base/steps.h"
#include "node/log/log.h"

namespace gregor::log {

void Log::truncate_to(int64_t offset, std::function<void(const Status&)> done) {
  enqueue([this, offset, done = std::move(done)](std::function<void()> finished) {
    do_truncate(offset, guarded(alive_, [done, finished](const Status& s) {
                  done(s);
                  finished();
                }));
  });
}

// Removes every batch at or above `offset`: later segments go whole; the segment holding the
// offset is cut at the batch that contains it (batches are atomic: a batch straddling the offset
// goes entirely, as in Kafka).
void Log::do_truncate(int64_t offset, std::function<void(const Status&)> done) {
  if (offset >= log_end_offset_) {
    // Nothing to cut, but an epoch entry may start at the log end with no record in it (this
    // replica led, assigned its epoch, and lost leadership before appending): it goes, or this
    // follower's last epoch would be one the leader never had, and its fetches would be
    // answered a divergence at its log end forever. As Kafka's truncateTo.
    if (!epochs_.truncate_from_end(log_end_offset_)) return done(Status::Ok());
    return write_checkpoints(std::move(done));
  }
  offset = std::max(offset, log_start_offset_);
  std::vector<Step> steps;
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (it->first >= offset && it->first != segments_.begin()->first) {
      int64_t base = it->first;
      steps.push_back([this, base](Next next) { delete_segment(base, next); });
    }
  }
  steps.push_back([this, offset](Next next) {
    auto it = std::prev(segments_.upper_bound(offset));
    Segment& seg = *it->second;
    // Find the cut position by rescanning the segment (bounded by its size; truncation is rare).
    auto cut = std::make_shared<uint64_t>(0);
    auto rebuilt = std::make_shared<Segment>(seg.base_offset, seg.file, seg.created);
    scan_segment(
        seg.file, seg.base_offset, /*check_crc=*/false,
        [this, offset, cut, rebuilt](const BatchHeader& h, uint64_t position) {
          if (h.last_offset() >= offset) return;  // Kafka: the batch holding offset goes
          rebuilt->on_batch(h, position, config_.index_interval_bytes);
          *cut = position + h.size_bytes();
        },
        guarded(alive_, [this, it, cut, rebuilt, next](Result<ScanResult> r) {
          if (!r.ok()) return next(r.status());
          Segment& seg = *it->second;
          seg.file->truncate(*cut,
                             guarded(alive_, [this, &seg, cut, rebuilt, next](const Status& s) {
                               if (!s.ok()) return next(s);
                               seg.index = rebuilt->index;
                               seg.time_index = rebuilt->time_index;
                               seg.size = *cut;
                               seg.next_offset = rebuilt->next_offset;
                               seg.max_timestamp = rebuilt->max_timestamp;
                               seg.bytes_since_index_entry = rebuilt->bytes_since_index_entry;
                               seg.file->fsync(next);
                             }));
        }));
  });
  // Cutting a batch that straddles the log start would leave the end below the start: then the
  // log restarts empty at its start (Kafka's truncateFullyAndStartAt).
  steps.push_back([this](Next next) {
    if (active().next_offset >= log_start_offset_) return next(Status::Ok());
    restart_at(log_start_offset_, next);
  });
  run_steps(std::move(steps), guarded(alive_, [this, offset, done](const Status& s) {
              if (!s.ok()) return done(s);
              log_end_offset_ = active().next_offset;
              recovery_point_ = std::min(recovery_point_, log_end_offset_);
              high_watermark_ = std::min(high_watermark_, log_end_offset_);
              epochs_.truncate_from_end(log_end_offset_);
              producers_.truncate_from(log_end_offset_);
              env_.tracer.event("log.truncate", TraceFields()
                                                    .add("dir", dir_)
                                                    .add("to", offset)
                                                    .add("log_end_offset", log_end_offset_));
              // The epoch checkpoint must not keep epochs of the cut history: a follower that
              // truncated on divergence and crashed would otherwise answer OffsetsForLeaderEpoch
              // from them after recovery.
              run_steps({[this](Next next) { remove_snapshots_past_end(next); },
                         [this](Next next) { reload_producers(next); },
                         [this](Next next) { write_checkpoints(next); }},
                        done);
            }));
}

// truncate_from cannot bring back the batches the cut ones pushed out of a producer's window
// (or that a new producer epoch forgot), so a producer could be forgotten whose earlier batches
// remain. As Kafka's truncateTo, the state is reloaded from the newest snapshot (all are at or
// below the new end now) and the log after it replayed; without one, from the whole log.
void Log::reload_producers(std::function<void(const Status&)> done) {
  producers_scanned_all_ = false;  // what the fallback for a missing snapshot reads: replay all
  if (snapshots_.empty()) return rebuild_producers_without_snapshot(std::move(done));
  try_snapshot(*snapshots_.rbegin(), std::move(done));
}

// A producer snapshot past the new log end describes the cut history. Recovery drops those past
// the log end it finds, but once a new history grows past one it would be loaded as if it
// described that history: so they go now, durably, before the truncation completes.
void Log::remove_snapshots_past_end(std::function<void(const Status&)> done) {
  std::vector<Step> steps;
  while (!snapshots_.empty() && *snapshots_.rbegin() > log_end_offset_) {
    std::string path = dir_ + "/" + ProducerStateManager::snapshot_file_name(*snapshots_.rbegin());
    snapshots_.erase(std::prev(snapshots_.end()));
    steps.push_back([this, path](Next next) {
      env_.disk.remove(
          path, [next](const Status& s) { next(s.code() == Errc::not_found ? Status::Ok() : s); });
    });
  }
  if (steps.empty()) return done(Status::Ok());
  steps.push_back([this](Next next) { env_.disk.fsync_dir(dir_, next); });
  run_steps(std::move(steps), std::move(done));
}

// Deletes every segment and starts an empty one at `offset`.
void Log::restart_at(int64_t offset, std::function<void(const Status&)> done) {
  std::vector<Step> steps;
  for (auto& [base, seg] : segments_) {
    int64_t b = base;
    steps.push_back([this, b](Next next) { delete_segment(b, next); });
  }
  steps.push_back([this, offset](Next next) {
    env_.disk.open(segment_file(dir_, offset, ".log"), disk::OpenMode::open_or_create,
                   guarded(alive_, [this, offset, next](Result<disk::FilePtr> f) {
                     if (!f.ok()) return next(f.status());
                     segments_[offset] =
                         std::make_unique<Segment>(offset, std::move(f).value(), env_.clock.now());
                     env_.disk.fsync_dir(dir_, next);
                   }));
  });
  run_steps(std::move(steps), std::move(done));
}

void Log::delete_segment(int64_t base, std::function<void(const Status&)> done) {
  segments_.erase(base);
  ++counters_.segments_deleted;
  std::vector<Step> steps;
  for (const char* suffix : {".log", ".index", ".timeindex"}) {
    std::string path = segment_file(dir_, base, suffix);
    steps.push_back([this, path](Next next) {
      env_.disk.remove(path, [next](const Status& s) {
        next(s.code() == Errc::not_found ? Status::Ok() : s);  // an index may never have existed
      });
    });
  }
  steps.push_back([this](Next next) { env_.disk.fsync_dir(dir_, next); });
  run_steps(std::move(steps), std::move(done));
}

void Log::advance_log_start(int64_t offset, std::function<void(const Status&)> done) {
  enqueue([this, offset, done = std::move(done)](std::function<void()> finished) {
    if (offset > high_watermark_ && offset > log_end_offset_) {
      done(errorf(Errc::out_of_range, "log start {} past log end {}", offset, log_end_offset_));
      return finished();
    }
    delete_segments_below(offset, guarded(alive_, [done, finished](const Status& s) {
                            done(s);
                            finished();
                          }));
  });
}

// Moves the log start to `offset` and deletes segments wholly below it (the active segment
// stays: a log always has one).
void Log::delete_segments_below(int64_t offset, std::function<void(const Status&)> done) {
  offset = std::min(offset, log_end_offset_);
  if (offset <= log_start_offset_) return done(Status::Ok());
  log_start_offset_ = offset;
  std::vector<Step> steps;
  for (auto it = segments_.begin(); std::next(it) != segments_.end(); ++it) {
    if (it->second->next_offset > offset) break;
    int64_t base = it->first;
    steps.push_back([this, base](Next next) { delete_segment(base, next); });
  }
  run_steps(std::move(steps), guarded(alive_, [this, offset, done](const Status& s) {
              if (!s.ok()) return done(s);
              epochs_.truncate_from_start(offset);
              producers_.truncate_before(offset);
              env_.tracer.event("log.start", TraceFields().add("dir", dir_).add("offset", offset));
              write_checkpoints(done);
            }));
}

void Log::enforce_retention(std::function<void(const Status&)> done) {
  enqueue([this, done = std::move(done)](std::function<void()> finished) {
    // Walk sealed segments from the oldest; the first one that must stay ends the walk.
    int64_t now_ms = to_ms(env_.clock.wall_now());
    uint64_t total = size_bytes();
    int64_t new_start = log_start_offset_;
    for (auto it = segments_.begin(); std::next(it) != segments_.end(); ++it) {
      const Segment& seg = *it->second;
      bool by_time = config_.retention_ms >= 0 && seg.max_timestamp >= 0 &&
                     now_ms - seg.max_timestamp > config_.retention_ms;
      bool by_size = config_.retention_bytes >= 0 &&
                     total > static_cast<uint64_t>(config_.retention_bytes) &&
                     total - seg.size >= static_cast<uint64_t>(config_.retention_bytes);
      if (!by_time && !by_size) break;
      total -= seg.size;
      new_start = seg.next_offset;
    }
    delete_segments_below(new_start, guarded(alive_, [done, finished](const Status& s) {
                            done(s);
                            finished();
                          }));
  });
}

}  // namespace gregor::log
