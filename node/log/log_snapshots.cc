// Producer-state snapshots: "<offset>.snapshot" holds the idempotence state of every producer as
// of that offset. Written when a segment rolls and on close; the latest two are kept. Recovery
// loads the newest valid one at or below the recovered log end and replays the log from there,
// so producers whose batches retention already deleted are still known after a restart (without
// a snapshot the state comes from scanning the remaining segments alone).
#include <fmt/format.h>

#include "base/fault_points.h"
#include "base/guarded.h"
#include "base/steps.h"
#include "node/log/log.h"

namespace gregor::log {

namespace {
constexpr size_t kSnapshotsKept = 2;
}

void Log::write_snapshot(int64_t offset, std::function<void(const Status&)> done) {
  producers_.set_map_end_offset(offset);
  auto bytes = std::make_shared<Bytes>(producers_.encode_snapshot());
  std::string path = dir_ + "/" + ProducerStateManager::snapshot_file_name(offset);
  auto file = std::make_shared<disk::FilePtr>();
  std::vector<Step> steps = {
      [this, path, file](Next next) {
        env_.disk.open(path, disk::OpenMode::open_or_create,
                       guarded(alive_, [file, next](Result<disk::FilePtr> f) {
                         if (!f.ok()) return next(f.status());
                         *file = std::move(f).value();
                         (*file)->truncate(0, next);
                       }));
      },
      [file, bytes](Next next) { (*file)->pwrite(0, *bytes, next); },
      [file](Next next) { (*file)->fsync(next); },
      [this](Next next) { env_.disk.fsync_dir(dir_, next); },
  };
  snapshots_.insert(offset);
  // Older snapshots beyond the kept ones go (a failed removal only leaves a stale file).
  while (snapshots_.size() > kSnapshotsKept) {
    std::string old = dir_ + "/" + ProducerStateManager::snapshot_file_name(*snapshots_.begin());
    snapshots_.erase(snapshots_.begin());
    steps.push_back([this, old](Next next) {
      env_.disk.remove(old, [next](const Status&) { next(Status::Ok()); });
    });
  }
  run_steps(std::move(steps), std::move(done));
}

// After the segments are recovered: drop snapshots past the log end, then take the newest one
// that decodes and replay the batches after it.
void Log::load_snapshot(std::function<void(const Status&)> done) {
  std::vector<Step> steps;
  while (!snapshots_.empty() && *snapshots_.rbegin() > log_end_offset_) {
    std::string stale = dir_ + "/" + ProducerStateManager::snapshot_file_name(*snapshots_.rbegin());
    snapshots_.erase(std::prev(snapshots_.end()));
    steps.push_back([this, stale](Next next) {
      env_.disk.remove(stale, [next](const Status&) { next(Status::Ok()); });
    });
  }
  run_steps(std::move(steps), guarded(alive_, [this, done](const Status& s) {
              if (!s.ok()) return done(s);
              if (snapshots_.empty()) return rebuild_producers_without_snapshot(done);
              try_snapshot(*snapshots_.rbegin(), done);
            }));
}

void Log::try_snapshot(int64_t offset, std::function<void(const Status&)> done) {
  std::string path = dir_ + "/" + ProducerStateManager::snapshot_file_name(offset);
  env_.disk.open(
      path, disk::OpenMode::open_existing,
      guarded(alive_, [this, offset, path, done](Result<disk::FilePtr> f) {
        if (!f.ok()) return rebuild_producers_without_snapshot(done);
        disk::FilePtr file = std::move(f).value();
        file->pread(
            0, static_cast<size_t>(file->size()),
            guarded(alive_, [this, offset, path, file, done](Result<ReadBuffer> data) {
              auto state = data.ok() ? ProducerStateManager::decode_snapshot(*data)
                                     : Result<ProducerStateManager>(data.status());
              if (!state.ok()) {
                GREGOR_PROBE(env_, log_recovery_snapshot_unusable);
                recovery_.notes.push_back(fmt::format("{}: {}; producer state rebuilt from the log",
                                                      path, state.status().message()));
                return rebuild_producers_without_snapshot(done);
              }
              replay_after_snapshot(std::move(state).value(), offset, done);
            }));
      }));
}

// Replays batches at or after `offset` into the snapshot's state, then adopts it.
void Log::replay_after_snapshot(ProducerStateManager state, int64_t offset,
                                std::function<void(const Status&)> done) {
  auto replayed = std::make_shared<ProducerStateManager>(std::move(state));
  std::vector<Step> steps;
  for (auto& [base, seg] : segments_) {
    if (seg->next_offset <= offset) continue;
    disk::FilePtr file = seg->file;
    int64_t b = base;
    steps.push_back([file, b, offset, replayed](Next next) {
      scan_segment(
          file, b, /*check_crc=*/false,
          [offset, replayed](const BatchHeader& h, uint64_t) {
            if (h.base_offset < offset || h.producer_id < 0) return;
            replayed->update(h.producer_id, h.producer_epoch,
                             ProducerBatch{h.base_sequence, h.last_sequence(), h.base_offset,
                                           h.last_offset(), h.max_timestamp});
          },
          [next](Result<ScanResult> r) { next(r.status()); });
    });
  }
  run_steps(std::move(steps), guarded(alive_, [this, replayed, done](const Status& s) {
              if (!s.ok()) return done(s);
              producers_ = std::move(*replayed);
              producers_.set_map_end_offset(log_end_offset_);
              done(Status::Ok());
            }));
}

// No usable snapshot: the state the recovery scan built stands if it saw every batch; when some
// segments were recovered from their indexes instead, replay the whole log.
void Log::rebuild_producers_without_snapshot(std::function<void(const Status&)> done) {
  if (producers_scanned_all_) return done(Status::Ok());
  replay_after_snapshot(ProducerStateManager(), segments_.begin()->first, std::move(done));
}

}  // namespace gregor::log
