// Recovery on open: read the checkpoints, classify the directory's files, load or rebuild each
// segment, cut a torn or corrupt tail, and rebuild producer state and leader epochs.
//
// Segments wholly below the recovery point were flushed before, and sealed: their index files
// are loaded and checked (log_index_load.cc), and only a missing or damaged index makes recovery
// scan such a segment, for framing only, as Kafka trusts flushed data; a flipped bit there is
// caught when the batch is read and is never served, rather than cutting away everything after
// it. From the recovery point on, every batch is scanned and its CRC validated; the first torn or
// corrupt one ends the log: the file is cut there and later segments are deleted (their offsets
// would follow a hole). What was cut is reported with file names, in recovery_report() and the
// trace. Indexes rebuilt by a scan are written back for the next open.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/fault_points.h"
#include "base/guarded.h"
#include "base/steps.h"
#include "node/log/log.h"

namespace gregor::log {
namespace {

enum class FileKind {
  segment,
  index,
  time_index,
  snapshot,
  checkpoint,
  temp,
  cleaned,  // an unfinished compaction output: discarded
  swap,     // a committed compaction output: the swap is completed
  foreign
};

struct Classified {
  FileKind kind;
  int64_t offset = -1;
};

Classified classify(std::string_view name) {
  if (auto o = parse_offset_file_name(name, ".log")) return {FileKind::segment, *o};
  if (auto o = parse_offset_file_name(name, kOffsetIndexSuffix)) return {FileKind::index, *o};
  if (auto o = parse_offset_file_name(name, kTimeIndexSuffix)) return {FileKind::time_index, *o};
  if (auto o = parse_offset_file_name(name, ".snapshot")) return {FileKind::snapshot, *o};
  if (auto o = parse_offset_file_name(name, ".log.cleaned")) return {FileKind::cleaned, *o};
  if (auto o = parse_offset_file_name(name, ".log.swap")) return {FileKind::swap, *o};
  if (name == "partition.checkpoint" || name == "leader-epoch-checkpoint") {
    return {FileKind::checkpoint};
  }
  if (name.ends_with(".tmp")) return {FileKind::temp};
  return {FileKind::foreign};
}

}  // namespace

void Log::recover(std::function<void(const Status&)> done) {
  auto names = std::make_shared<std::vector<std::string>>();
  run_steps({
                [this](Next next) {
                  env_.disk.mkdir(dir_, [next](const Status& s) {
                    next(s.code() == Errc::already_exists ? Status::Ok() : s);
                  });
                },
                [this](Next next) { env_.disk.fsync_dir(disk::parent_dir(dir_), next); },
                [this](Next next) {
                  partition_checkpoint_.read(guarded(alive_, [this, next](auto entries) {
                    if (!entries.ok() && entries.code() != Errc::not_found) {
                      // Damaged checkpoint: scan everything from offset 0, which is always safe.
                      recovery_.notes.push_back(fmt::format("{}: {}; scanning all segments",
                                                            partition_checkpoint_.path(),
                                                            entries.status().message()));
                    }
                    if (entries.ok()) {
                      for (auto& [key, value] : *entries) {
                        if (key == "high_watermark") high_watermark_ = value;
                        if (key == "recovery_point") recovery_point_ = value;
                        if (key == "log_start_offset") log_start_offset_ = value;
                      }
                    }
                    next(Status::Ok());
                  }));
                },
                [this](Next next) {
                  LeaderEpochCache::read_from(
                      epoch_checkpoint_, guarded(alive_, [this, next](Result<LeaderEpochCache> c) {
                        if (c.ok()) {
                          epochs_ = std::move(c).value();
                        } else if (c.code() != Errc::not_found) {
                          // Rebuilt from the batches by a full scan.
                          recovery_.notes.push_back(fmt::format("{}: {}; rebuilding epochs",
                                                                epoch_checkpoint_.path(),
                                                                c.status().message()));
                          recovery_point_ = 0;
                        } else {
                          // The epoch checkpoint is written before the partition checkpoint
                          // (write_checkpoints), so it is missing only for a log that never
                          // checkpointed: scan everything to be sure to see every epoch.
                          recovery_point_ = 0;
                        }
                        next(Status::Ok());
                      }));
                },
                [this, names](Next next) {
                  env_.disk.list(dir_, guarded(alive_, [names, next](auto list) {
                                   if (!list.ok()) return next(list.status());
                                   *names = std::move(list).value();
                                   next(Status::Ok());
                                 }));
                },
            },
            guarded(alive_, [this, names, done](const Status& s) {
              if (!s.ok()) return done(s);
              load_files(std::move(*names), done);
            }));
}

void Log::load_files(std::vector<std::string> names, std::function<void(const Status&)> done) {
  std::vector<int64_t> swaps;
  std::vector<int64_t> segment_bases;
  for (const std::string& name : names) {
    Classified c = classify(name);
    if (c.kind == FileKind::swap) swaps.push_back(c.offset);
    if (c.kind == FileKind::segment) segment_bases.push_back(c.offset);
  }
  if (!swaps.empty()) {
    // Finish the committed compaction swaps, then look at the directory again.
    return complete_swaps(std::move(swaps), std::move(segment_bases),
                          guarded(alive_, [this, done](const Status& s) {
                            if (!s.ok()) return done(s);
                            env_.disk.list(dir_, guarded(alive_, [this, done](auto list) {
                                             if (!list.ok()) return done(list.status());
                                             load_files(std::move(list).value(), done);
                                           }));
                          }));
  }
  auto files = std::make_shared<std::map<int64_t, disk::FilePtr>>();
  std::vector<Step> steps;
  for (const std::string& name : names) {
    Classified c = classify(name);
    std::string path = dir_ + "/" + name;
    if (c.kind == FileKind::foreign) {
      return done(errorf(Errc::invalid_argument,
                         "{}: not a file of a Gregor partition log; move it away", path));
    }
    if (c.kind == FileKind::snapshot) snapshots_.insert(c.offset);
    if (c.kind == FileKind::index &&
        std::find(names.begin(), names.end(), offset_file_name(c.offset, kTimeIndexSuffix)) !=
            names.end()) {
      recovery_index_files_.insert(c.offset);
    }
    if (c.kind == FileKind::temp || c.kind == FileKind::cleaned) {
      // An interrupted checkpoint or index write: the real file is intact or absent.
      steps.push_back([this, path](Next next) { env_.disk.remove(path, next); });
    }
    if (c.kind == FileKind::segment) {
      int64_t base = c.offset;
      steps.push_back([this, path, base, files](Next next) {
        env_.disk.open(path, disk::OpenMode::open_existing,
                       guarded(alive_, [base, files, next](Result<disk::FilePtr> f) {
                         if (!f.ok()) return next(f.status());
                         (*files)[base] = std::move(f).value();
                         next(Status::Ok());
                       }));
      });
    }
  }
  run_steps(std::move(steps), guarded(alive_, [this, files, done](const Status& s) {
              if (!s.ok()) return done(s);
              recover_segment(files->begin(), files, done);
            }));
}

// A "<A>.log.swap" is a compaction output whose commit point passed: it replaces every segment
// in [A, its next offset). Delete those (some may already be gone) and rename it into place.
void Log::complete_swaps(std::vector<int64_t> swaps, std::vector<int64_t> segment_bases,
                         std::function<void(const Status&)> done) {
  std::vector<Step> steps;
  for (int64_t base : swaps) {
    std::string swap = segment_file(dir_, base, ".log.swap");
    auto next_offset = std::make_shared<int64_t>(base);
    steps.push_back([this, swap, base, next_offset](Next next) {
      env_.disk.open(swap, disk::OpenMode::open_existing,
                     guarded(alive_, [base, next_offset, next](Result<disk::FilePtr> f) {
                       if (!f.ok()) return next(f.status());
                       scan_segment(
                           *f, base, /*check_crc=*/false,
                           [next_offset](const BatchHeader& h, uint64_t) {
                             *next_offset = h.last_offset() + 1;
                           },
                           [next](Result<ScanResult> r) { next(r.status()); });
                     }));
    });
    steps.push_back([this, base, next_offset, segment_bases](Next next) {
      std::vector<Step> removals;
      for (int64_t old : segment_bases) {
        if (old < base || old >= std::max(*next_offset, base + 1)) continue;
        for (const char* suffix : {".log", ".index", ".timeindex"}) {
          std::string path = segment_file(dir_, old, suffix);
          removals.push_back([this, path](Next next) {
            env_.disk.remove(path, [next](const Status& s) {
              next(s.code() == Errc::not_found ? Status::Ok() : s);
            });
          });
        }
      }
      run_steps(std::move(removals), next);
    });
    steps.push_back([this, swap, base](Next next) {
      env_.disk.rename(swap, segment_file(dir_, base, ".log"), next);
    });
    steps.push_back([this](Next next) { env_.disk.fsync_dir(dir_, next); });
    recovery_.notes.push_back(fmt::format("{}: completed an interrupted compaction swap", swap));
    GREGOR_PROBE(env_, log_recovery_swap_completed);
  }
  run_steps(std::move(steps), std::move(done));
}

// Scans one segment, then the next; a cut ends the chain and deletes what follows.
void Log::recover_segment(std::map<int64_t, disk::FilePtr>::iterator it,
                          std::shared_ptr<std::map<int64_t, disk::FilePtr>> files,
                          std::function<void(const Status&)> done) {
  if (it == files->end()) return finish_recovery(done);
  int64_t base = it->first;
  if (!segments_.empty() && segments_.rbegin()->second->next_offset != base) {
    // Segments must be contiguous. Unsynced writes of different files survive a power loss
    // independently, so an older segment can lose its tail while a newer one keeps data: the
    // newer one then follows a hole and goes, with everything after it.
    int64_t end = segments_.rbegin()->second->next_offset;
    recovery_.truncated_from_offset = end;
    return delete_recovered_from(
        it, files, fmt::format("offsets {}..{} are missing before it", end, base), done);
  }
  auto following = std::next(it);
  bool flushed = following != files->end() && following->first <= recovery_point_;
  // BUGGIFY: index files are derived data; scanning instead of loading them is always correct
  // (it is the path for a missing index) and rewrites them for the next open.
  if (!flushed || !recovery_index_files_.contains(base) ||
      GREGOR_BUGGIFY(env_, log_recovery_skip_index)) {
    return scan_recovered_segment(it, files, done);
  }
  auto seg = std::make_unique<Segment>(base, it->second, env_.clock.now());
  Segment* raw = seg.get();
  segments_[base] = std::move(seg);
  load_segment_index(
      *raw, following->first, guarded(alive_, [this, it, files, base, done](const Status& s) {
        if (s.ok()) {
          ++recovery_.segments;
          ++recovery_.indexes_loaded;
          producers_scanned_all_ = false;
          return recover_segment(std::next(it), files, done);
        }
        GREGOR_PROBE(env_, log_recovery_index_unusable);
        recovery_.notes.push_back(fmt::format("{}: {}; rebuilding the indexes from the segment",
                                              segment_file(dir_, base, kOffsetIndexSuffix),
                                              s.message()));
        segments_.erase(base);
        scan_recovered_segment(it, files, done);
      }));
}

// Scans a segment whole: rebuilds its indexes, epochs and producer state, and (above the
// recovery point) validates every CRC.
void Log::scan_recovered_segment(std::map<int64_t, disk::FilePtr>::iterator it,
                                 std::shared_ptr<std::map<int64_t, disk::FilePtr>> files,
                                 std::function<void(const Status&)> done) {
  int64_t base = it->first;
  auto seg = std::make_unique<Segment>(base, it->second, env_.clock.now());
  Segment* raw = seg.get();
  segments_[base] = std::move(seg);
  ++recovery_.segments;
  recovery_rebuilt_.insert(base);
  auto following = std::next(it);
  bool flushed = following != files->end() && following->first <= recovery_point_;
  scan_segment(
      raw->file, base, /*check_crc=*/!flushed,
      [this, raw](const BatchHeader& h, uint64_t position) {
        raw->on_batch(h, position, config_.index_interval_bytes);
        ++recovery_.batches_scanned;
        note_epoch(h);
        if (h.producer_id >= 0) {
          producers_.update(h.producer_id, h.producer_epoch,
                            ProducerBatch{h.base_sequence, h.last_sequence(), h.base_offset,
                                          h.last_offset(), h.max_timestamp});
        }
      },
      guarded(alive_, [this, it, files, raw, done](Result<ScanResult> r) {
        if (!r.ok()) return done(r.status());
        ++recovery_.indexes_rebuilt;
        if (!r->truncated) return recover_segment(std::next(it), files, done);
        cut_after_scan(it, files, raw, *r, done);
      }));
}

// A batch's epoch above the cache's latest starts a new epoch there.
void Log::note_epoch(const BatchHeader& h) {
  if (h.partition_leader_epoch >= 0 &&
      (!epochs_.latest_epoch() || h.partition_leader_epoch > *epochs_.latest_epoch())) {
    epochs_.assign(h.partition_leader_epoch, h.base_offset);
  }
}

void Log::cut_after_scan(std::map<int64_t, disk::FilePtr>::iterator it,
                         std::shared_ptr<std::map<int64_t, disk::FilePtr>> files, Segment* raw,
                         const ScanResult& r, std::function<void(const Status&)> done) {
  uint64_t cut_bytes = raw->file->size() - r.valid_bytes;
  recovery_.truncated_bytes += cut_bytes;
  recovery_.truncated_from_offset = raw->next_offset;
  std::string note = fmt::format("{}: cut {} bytes at position {} (offsets from {}): {}",
                                 segment_file(dir_, raw->base_offset, ".log"), cut_bytes,
                                 r.valid_bytes, raw->next_offset, r.reason);
  recovery_.notes.push_back(note);
  spdlog::warn("log recovery: {}", note);
  GREGOR_PROBE(env_, log_recovery_cut_tail);
  env_.tracer.event("log.recovery_cut", TraceFields()
                                            .add("dir", dir_)
                                            .add("segment", raw->base_offset)
                                            .add("bytes", cut_bytes)
                                            .add("from_offset", raw->next_offset));
  run_steps({[raw, r](Next next) { raw->file->truncate(r.valid_bytes, next); },
             [raw](Next next) { raw->file->fsync(next); }},
            guarded(alive_, [this, it, files, done](const Status& s) {
              if (!s.ok()) return done(s);
              delete_recovered_from(std::next(it), files, "it follows a cut", done);
            }));
}

// Deletes the segment files from `from` on (they follow a cut or a hole), then finishes.
void Log::delete_recovered_from(std::map<int64_t, disk::FilePtr>::iterator from,
                                std::shared_ptr<std::map<int64_t, disk::FilePtr>> files,
                                const std::string& why, std::function<void(const Status&)> done) {
  std::vector<Step> steps;
  if (from != files->end()) GREGOR_PROBE(env_, log_recovery_deleted_segments);
  for (auto later = from; later != files->end(); ++later) {
    int64_t base = later->first;
    ++recovery_.segments_deleted;
    recovery_.notes.push_back(
        fmt::format("{}: deleted, {}", segment_file(dir_, base, ".log"), why));
    steps.push_back([this, base](Next next) {
      segments_[base] = nullptr;  // placeholder so delete_segment can erase it
      delete_segment(base, next);
    });
  }
  run_steps(std::move(steps), guarded(alive_, [this, done](const Status& s) {
              if (!s.ok()) return done(s);
              finish_recovery(done);
            }));
}

void Log::finish_recovery(std::function<void(const Status&)> done) {
  // A log start checkpointed past what survived (DeleteRecords above unflushed data, then a
  // power loss): as Kafka does, empty the log and restart it at the log start, rather than
  // lowering the start and showing deleted records again.
  bool past_start =
      !segments_.empty() && log_start_offset_ > segments_.rbegin()->second->next_offset;
  if (past_start) {
    GREGOR_PROBE(env_, log_recovery_start_past_end);
    recovery_.notes.push_back(
        fmt::format("{}: log start {} is past the recovered end {}; "
                    "restarting the log there",
                    dir_, log_start_offset_, segments_.rbegin()->second->next_offset));
  }
  auto start = [this, past_start](Next next) {
    if (past_start || segments_.empty()) return restart_at(log_start_offset_, next);
    next(Status::Ok());
  };
  auto end = [this](Next next) {
    log_end_offset_ = active().next_offset;
    load_snapshot(next);
  };
  auto indexes = [this](Next next) { write_rebuilt_indexes(next); };
  // What recovery found above the recovery point may exist only in the page cache (a process
  // that crashed or halted before its fsync): it would be served, counted below the high
  // watermark, and then vanish in a power loss. fsync it before the log opens, so everything the
  // log holds is durable (found by the scenario runner: default seed 19, a consumer read an
  // offset that a later power loss took back).
  auto sync_tail = [this](Next next) {
    std::vector<Step> syncs;
    for (auto& [base, seg] : segments_) {
      if (seg->next_offset <= recovery_point_) continue;
      disk::FilePtr file = seg->file;
      syncs.push_back([file](Next n) { file->fsync(n); });
    }
    run_steps(std::move(syncs), next);
  };
  run_steps({start, end, indexes, sync_tail}, guarded(alive_, [this, done](const Status& s) {
              if (!s.ok()) return done(s);
              log_end_offset_ = active().next_offset;
              log_start_offset_ =
                  std::clamp(log_start_offset_, segments_.begin()->first, log_end_offset_);
              recovery_point_ = log_end_offset_;  // sync_tail made all of it durable
              high_watermark_ = std::clamp(high_watermark_, log_start_offset_, log_end_offset_);
              epochs_.truncate_from_end(log_end_offset_);
              producers_.truncate_from(log_end_offset_);
              env_.tracer.event("log.open", TraceFields()
                                                .add("dir", dir_)
                                                .add("log_start_offset", log_start_offset_)
                                                .add("log_end_offset", log_end_offset_)
                                                .add("segments", segments_.size())
                                                .add("cut_bytes", recovery_.truncated_bytes));
              done(Status::Ok());
            }));
}

// Writes the index files of the sealed segments that recovery rebuilt by scanning, so the next
// open can load them. The active segment's are written when it is sealed or closed.
void Log::write_rebuilt_indexes(std::function<void(const Status&)> done) {
  std::vector<Step> steps;
  for (int64_t base : recovery_rebuilt_) {
    auto it = segments_.find(base);
    if (it == segments_.end() || it->second.get() == &active()) continue;
    Segment* seg = it->second.get();
    steps.push_back([this, seg](Next next) { write_indexes(*seg, next); });
  }
  recovery_rebuilt_.clear();
  recovery_index_files_.clear();
  run_steps(std::move(steps), std::move(done));
}

}  // namespace gregor::log
