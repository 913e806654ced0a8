// RaftStorage's operations: the queue that runs them one at a time, and apply()'s steps in the
// order of the Ready contract. Loading lives in raft_storage_load.cc, files and codecs in
// raft_storage_files.cc.
#include "node/controller/raft_storage.h"

#include <fmt/format.h>

#include "base/assert.h"
#include "base/guarded.h"
#include "base/steps.h"

namespace gregor::raft {

// The persistent parts of one Ready, copied so the caller's Ready may go.
struct RaftStorage::Work {
  std::optional<Snapshot> snapshot;
  std::optional<int64_t> truncate_to;
  std::vector<Entry> entries;
  std::optional<int64_t> log_start_offset;
  std::optional<HardState> hard_state;
};

RaftStorage::RaftStorage(Env& env, std::string dir, RaftStorageOptions options)
    : env_(env),
      dir_(std::move(dir)),
      options_(options),
      quorum_state_(env.disk, dir_ + "/" + std::string(kQuorumStateFileName)) {}

RaftStorage::~RaftStorage() {
  *alive_ = false;
}

std::optional<OffsetAndEpoch> RaftStorage::end_offset_for_epoch(int32_t epoch) const {
  if (epoch < snapshot_id_.epoch || !log_) return std::nullopt;
  auto end = log_->epochs().end_offset_for(epoch, log_->log_end_offset());
  if (end.epoch == log::kUndefinedEpoch) {
    // Above every cached epoch (or none cached yet): the log's last epoch ends at the log end.
    auto latest = log_->epochs().latest_epoch();
    return OffsetAndEpoch{log_->log_end_offset(), latest.value_or(snapshot_id_.epoch)};
  }
  if (end.epoch > epoch || end.end_offset <= snapshot_id_.end_offset) {
    // Below the first cached epoch: only the snapshot's epoch, which ends at the snapshot.
    return OffsetAndEpoch{snapshot_id_.end_offset, snapshot_id_.epoch};
  }
  return OffsetAndEpoch{end.end_offset, end.epoch};
}

void RaftStorage::set_failed(const Status& s) {
  if (failed_.ok() && !s.ok()) failed_ = s;
}

void RaftStorage::enqueue(std::function<void(DoneFn finish)> run, DoneFn done) {
  if (ops_.size() >= kStorageQueuedOpsMax) {
    // The host outran the disk by far; refusing is not a storage failure.
    Status why = errorf(Errc::limit_exceeded, "{}: {} operations queued", dir_, ops_.size());
    env_.clock.schedule(Duration::zero(), guarded(alive_, [done, why] { done(why); }));
    return;
  }
  ops_.push_back(Op{std::move(run), std::move(done)});
  run_next();
}

void RaftStorage::run_next() {
  if (op_running_ || ops_.empty()) return;
  op_running_ = true;
  Op op = std::move(ops_.front());
  ops_.pop_front();
  // Completions are answered from the loop: never inside the caller's apply() (an empty Ready,
  // a storage failed earlier), nor inside one of the Log's callbacks.
  DoneFn finish = guarded(alive_, [this, done = op.done](const Status& s) {
    set_failed(s);
    env_.clock.schedule(Duration::zero(), guarded(alive_, [this, done, s] {
                          op_running_ = false;
                          done(s);
                          run_next();
                        }));
  });
  if (!failed_.ok()) {
    return finish(errorf(failed_.code(), "raft storage failed earlier: {}", failed_.message()));
  }
  op.run(std::move(finish));
}

void RaftStorage::apply(const Ready& ready, DoneFn done) {
  auto work = std::make_shared<Work>(Work{ready.snapshot, ready.truncate_to, ready.entries,
                                          ready.log_start_offset, ready.hard_state});
  enqueue([this, work](DoneFn finish) { run_work(work, std::move(finish)); }, std::move(done));
}

void RaftStorage::run_work(std::shared_ptr<Work> work, DoneFn finish) {
  std::vector<Step> steps;
  if (work->snapshot) {
    auto snapshot = std::make_shared<Snapshot>(*work->snapshot);
    steps.push_back([this, snapshot](Next next) { write_snapshot_file(snapshot, next); });
    steps.push_back([this, snapshot](Next next) { restart_log_at(snapshot->id.end_offset, next); });
    steps.push_back([this, snapshot](Next next) {
      snapshot_id_ = snapshot->id;  // the newest, even if an older one had a larger offset
      remove_old_snapshots(next);
    });
  }
  if (work->truncate_to) {
    steps.push_back([this, work](Next next) {
      int64_t to = *work->truncate_to;
      GREGOR_ASSERT(to >= snapshot_id_.end_offset, "truncate to {} below the snapshot at {}", to,
                    snapshot_id_.end_offset);
      log_->truncate_to(to, next);
    });
  }
  if (!work->entries.empty()) {
    steps.push_back([this, work](Next next) { append_from(work, 0, next); });
  }
  if (work->log_start_offset) {
    steps.push_back([this, work](Next next) {
      int64_t start = *work->log_start_offset;
      GREGOR_ASSERT(snapshot_id_.end_offset == start,
                    "log start {} without its snapshot (the newest is at {})", start,
                    snapshot_id_.end_offset);
      log_->advance_log_start(start, guarded(alive_, [this, next](const Status& s) {
                                if (!s.ok()) return next(s);
                                remove_old_snapshots(next);
                              }));
    });
  }
  if (work->hard_state) {
    steps.push_back([this, work](Next next) {
      quorum_state_.write(
          encode_hard_state(*work->hard_state),
          guarded(alive_, [this, work, next](const Status& s) {
            if (!s.ok()) {
              return next(errorf(s.code(), "{}: {}", quorum_state_.path(), s.message()));
            }
            hard_state_ = *work->hard_state;
            next(Status::Ok());
          }));
    });
  }
  run_steps(std::move(steps), std::move(finish));
}

void RaftStorage::append_from(std::shared_ptr<Work> work, size_t i, DoneFn done) {
  if (i == work->entries.size()) return done(Status::Ok());
  const Entry& e = work->entries[i];
  GREGOR_ASSERT(e.offset == log_->log_end_offset(), "entry at {} appended to a log ending at {}",
                e.offset, log_->log_end_offset());
  GREGOR_ASSERT(e.offset >= snapshot_id_.end_offset && e.epoch >= snapshot_id_.epoch,
                "entry {}@{} below the snapshot {}@{}", e.offset, e.epoch, snapshot_id_.end_offset,
                snapshot_id_.epoch);
  log_->append(
      encode_entry(e, to_ms(env_.clock.wall_now())), e.epoch,
      guarded(alive_,
              [this, work, i, done](Result<log::AppendInfo> r, std::optional<log::AppendError>) {
                if (!r.ok()) {
                  return done(errorf(r.code(), "{}: append at {}: {}", log_dir(),
                                     work->entries[i].offset, r.status().message()));
                }
                GREGOR_ASSERT(r->first_offset == work->entries[i].offset && !r->duplicate,
                              "entry at {} landed at {}", work->entries[i].offset, r->first_offset);
                append_from(work, i + 1, done);
              }));
}

void RaftStorage::save_snapshot(Snapshot snapshot, DoneFn done) {
  auto s = std::make_shared<Snapshot>(std::move(snapshot));
  enqueue(
      [this, s](DoneFn finish) {
        GREGOR_ASSERT(s->id.end_offset > snapshot_id_.end_offset &&
                          s->id.end_offset <= log_->log_end_offset(),
                      "snapshot at {} outside ({}, {}]", s->id.end_offset, snapshot_id_.end_offset,
                      log_->log_end_offset());
        write_snapshot_file(s, std::move(finish));
      },
      std::move(done));
}

}  // namespace gregor::raft
