// RaftStorage::load: the quorum state, the newest snapshot, the metadata log; then the
// reconciliation of what an interrupted apply left (raft_storage.h lists the cases) and the
// validation of the entries the Raft constructor will get.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/guarded.h"
#include "base/steps.h"
#include "node/controller/raft_storage.h"
#include "node/log/record_batch.h"

namespace gregor::raft {

struct RaftStorage::LoadState {
  std::unique_ptr<RaftStorage> storage;
  PersistentState state;
};

void RaftStorage::load(Env& env, std::string dir, LoadFn done, RaftStorageOptions options) {
  auto st = std::make_shared<LoadState>();
  st->storage.reset(new RaftStorage(env, std::move(dir), options));
  // Answered from the loop: on failure the storage (and its Log) is destroyed, which must not
  // happen inside one of their own callbacks.
  load_steps(st, [&env, st, done](const Status& s) {
    env.clock.schedule(Duration::zero(), [st, done, s] {
      if (!s.ok()) return done(s);
      done(Loaded{std::move(st->storage), std::move(st->state)});
    });
  });
}

void RaftStorage::load_steps(std::shared_ptr<LoadState> st, DoneFn done) {
  RaftStorage* self = st->storage.get();
  Env& env = self->env_;
  std::string dir = self->dir_;
  run_steps(
      {[&env, dir](Next next) {
         env.disk.mkdir(dir, [next](const Status& s) {
           next(s.code() == Errc::already_exists ? Status::Ok() : s);
         });
       },
       [&env, dir](Next next) { env.disk.fsync_dir(disk::parent_dir(dir), next); },
       [self](Next next) { self->read_quorum_state(next); },
       [self](Next next) { self->find_snapshots(next); },
       [self, st](Next next) {
         if (self->snapshot_ids_.empty()) return next(Status::Ok());
         self->read_snapshot_file(self->snapshot_id_,
                                  guarded(self->alive_, [st, next](Result<Snapshot> s) {
                                    if (!s.ok()) return next(s.status());
                                    st->state.snapshot = std::move(s).value();
                                    next(Status::Ok());
                                  }));
       },
       [self](Next next) { self->open_log(next); }, [self](Next next) { self->reconcile(next); },
       [self](Next next) { self->remove_old_snapshots(next); },
       [self, st](Next next) { self->read_entries(st, self->snapshot_id_.end_offset, next); },
       [self, st](Next next) { self->catch_up_epoch(st, next); }},
      std::move(done));
}

void RaftStorage::read_quorum_state(DoneFn done) {
  quorum_state_.read(guarded(alive_, [this, done](Result<log::CheckpointEntries> r) {
    if (r.code() == Errc::not_found) return done(Status::Ok());  // a new directory
    auto hs = r.ok() ? decode_hard_state(*r) : Result<HardState>(r.status());
    if (!hs.ok()) {
      return done(errorf(hs.code(), "{}: {}", quorum_state_.path(), hs.status().message()));
    }
    hard_state_ = *hs;
    done(Status::Ok());
  }));
}

// Snapshot files: unfinished writes (".part") go; the newest complete one is the snapshot.
void RaftStorage::find_snapshots(DoneFn done) {
  env_.disk.list(dir_, guarded(alive_, [this, done](Result<std::vector<std::string>> names) {
                   if (!names.ok()) return done(names.status());
                   std::vector<Step> removes;
                   for (const std::string& name : *names) {
                     if (auto id = parse_snapshot_file_name(name)) {
                       snapshot_ids_.insert(*id);
                     } else if (name.ends_with(kSnapshotTempSuffix)) {
                       std::string path = dir_ + "/" + name;
                       removes.push_back([this, path](Next n) { env_.disk.remove(path, n); });
                     }
                   }
                   if (!snapshot_ids_.empty()) snapshot_id_ = *snapshot_ids_.rbegin();
                   if (!removes.empty()) {
                     removes.push_back([this](Next n) { env_.disk.fsync_dir(dir_, n); });
                   }
                   run_steps(std::move(removes), done);
                 }));
}

// A crash between an apply's entries and its hard state leaves entries of an epoch the quorum
// state has not reached. As KRaft's QuorumState.initialize does, start unattached in the log's
// epoch: no vote in it was ever sent (nothing leaves before the Ready is durable). Written now, so
// that the epoch never goes back even if a later apply truncates those entries and a crash
// follows.
void RaftStorage::catch_up_epoch(std::shared_ptr<LoadState> st, DoneFn done) {
  const auto& entries = st->state.entries;
  int32_t last = entries.empty() ? snapshot_id_.epoch : entries.back().epoch;
  if (last <= hard_state_.epoch) {
    st->state.hard_state = hard_state_;
    return done(Status::Ok());
  }
  spdlog::warn("{}: quorum-state epoch {} is behind the log's epoch {}; unattached in {}", dir_,
               hard_state_.epoch, last, last);
  HardState hs{last, kNoNode, kNoNode};
  quorum_state_.write(
      encode_hard_state(hs), guarded(alive_, [this, st, hs, done](const Status& s) {
        if (!s.ok()) {
          return done(errorf(s.code(), "{}: {}", quorum_state_.path(), s.message()));
        }
        hard_state_ = hs;
        st->state.hard_state = hs;
        done(Status::Ok());
      }));
}

void RaftStorage::reconcile(DoneFn done) {
  int64_t s = snapshot_id_.end_offset;
  int64_t start = log_->log_start_offset();
  int64_t end = log_->log_end_offset();
  if (start > s) {
    return done(errorf(Errc::corrupt, "{}: the log starts at {}, past the newest snapshot at {}",
                       log_dir(), start, s));
  }
  if (end < s) {
    spdlog::warn("{}: the log ends at {}, below the snapshot at {}; restarting it there", log_dir(),
                 end, s);
    return restart_log_at(s, std::move(done));
  }
  if (start == s) return done(Status::Ok());
  epoch_before(s, guarded(alive_, [this, s, done](Result<int32_t> epoch) {
                 if (!epoch.ok()) {
                   return done(errorf(epoch.code(), "{}: reading offset {}: {}", log_dir(), s - 1,
                                      epoch.status().message()));
                 }
                 // Another epoch before the snapshot's end: the snapshot replaced a divergent
                 // log and the rewrite did not finish.
                 if (*epoch != snapshot_id_.epoch) {
                   spdlog::warn("{}: offset {} has epoch {}, the snapshot {}; restarting at {}",
                                log_dir(), s - 1, *epoch, snapshot_id_.epoch, s);
                   return restart_log_at(s, done);
                 }
                 log_->advance_log_start(s, done);
               }));
}

void RaftStorage::read_entries(std::shared_ptr<LoadState> st, int64_t from, DoneFn done) {
  if (from >= log_->log_end_offset()) return done(Status::Ok());
  log_->read(
      from, kMetadataReadBytesMax,
      guarded(alive_, [this, st, from, done](Result<log::ReadResult> r) {
        if (!r.ok()) {
          return done(
              errorf(r.code(), "{}: reading offset {}: {}", log_dir(), from, r.status().message()));
        }
        std::vector<Entry>& entries = st->state.entries;
        int64_t next = from;
        log::BatchIterator it(r->batches);
        while (auto batch = it.next()) {
          auto e = decode_entry(*batch);
          if (!e.ok()) {
            return done(errorf(Errc::corrupt, "{}: {}", log_dir(), e.status().message()));
          }
          if (e->offset < next) continue;  // a batch before the one asked for
          int32_t prev = entries.empty() ? snapshot_id_.epoch : entries.back().epoch;
          if (e->offset != next || e->epoch < prev) {
            return done(errorf(Errc::corrupt,
                               "{}: entry {}@{} follows offset {} of epoch {} (offsets must be "
                               "contiguous, epochs non-decreasing)",
                               log_dir(), e->offset, e->epoch, next - 1, prev));
          }
          entries.push_back(std::move(e).value());
          next++;
        }
        if (next == from) {
          return done(errorf(Errc::corrupt, "{}: no entry at offset {} (log end {})", log_dir(),
                             from, log_->log_end_offset()));
        }
        read_entries(st, next, done);
      }));
}

}  // namespace gregor::raft
