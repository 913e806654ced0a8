// RaftStorage's files: the codecs (entries as record batches, delegated to raft_entry_codec.h;
// snapshot files; the quorum state), snapshot files written atomically, and the restart of the
// metadata log at an offset past its end (raft_storage.h says why it goes through the Log's
// checkpoint file).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "base/crc32c.h"
#include "base/guarded.h"
#include "base/steps.h"
#include "node/controller/raft_entry_codec.h"
#include "node/controller/raft_storage.h"
#include "node/log/record_batch.h"

namespace gregor::raft {

namespace {

constexpr std::string_view kSnapshotMagic = "GRSNAP01";
constexpr size_t kSnapshotHeaderBytes = 8 + 8 + 4 + 4;
constexpr size_t kSnapshotCrcBytes = 4;

Status corrupt(std::string_view what) {
  return error(Errc::corrupt, std::string(what));
}

std::optional<int64_t> parse_digits(std::string_view s, size_t digits) {
  if (s.size() != digits) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

// ---- Codecs ----

std::string RaftStorage::snapshot_file_name(SnapshotId id) {
  return fmt::format("{:020}-{:010}{}", id.end_offset, id.epoch, kSnapshotSuffix);
}

std::optional<SnapshotId> RaftStorage::parse_snapshot_file_name(std::string_view name) {
  if (!name.ends_with(kSnapshotSuffix)) return std::nullopt;
  name.remove_suffix(kSnapshotSuffix.size());
  if (name.size() != 31 || name[20] != '-') return std::nullopt;
  auto end = parse_digits(name.substr(0, 20), 20);
  auto epoch = parse_digits(name.substr(21), 10);
  if (!end || !epoch || *epoch > INT32_MAX) return std::nullopt;
  return SnapshotId{*end, static_cast<int32_t>(*epoch)};
}

Bytes RaftStorage::encode_snapshot(const Snapshot& snapshot) {
  Bytes out;
  Writer w(out);
  w.str(kSnapshotMagic);
  w.be<int64_t>(snapshot.id.end_offset);
  w.be<int32_t>(snapshot.id.epoch);
  w.be<uint32_t>(static_cast<uint32_t>(snapshot.data.size()));
  w.bytes(snapshot.data);
  w.be<uint32_t>(crc32c(out));
  return out;
}

Result<Snapshot> RaftStorage::decode_snapshot(ByteView bytes) {
  if (bytes.size() < kSnapshotHeaderBytes + kSnapshotCrcBytes) return corrupt("snapshot: short");
  if (bytes.size() > kSnapshotBytesMax) return corrupt("snapshot: too large");
  ByteView body = bytes.first(bytes.size() - kSnapshotCrcBytes);
  if (crc32c(body) != load_be<uint32_t>(bytes.data() + body.size())) {
    return corrupt("snapshot: CRC mismatch");
  }
  Reader r(body);
  if (as_chars(r.bytes(kSnapshotMagic.size())) != kSnapshotMagic) {
    return corrupt("snapshot: bad magic");
  }
  Snapshot s;
  s.id.end_offset = r.be<int64_t>();
  s.id.epoch = r.be<int32_t>();
  uint32_t len = r.be<uint32_t>();
  if (!r.ok() || r.remaining() != len || s.id.end_offset < 0 || s.id.epoch < 0) {
    return corrupt("snapshot: bad header");
  }
  ByteView data = r.bytes(len);
  s.data.assign(data.begin(), data.end());
  return s;
}

// The codec is shared with the Fetch wire mapping (raft_entry_codec.h).
Bytes RaftStorage::encode_entry(const Entry& entry, int64_t timestamp_ms) {
  return encode_entry_batch(entry, timestamp_ms);
}

Result<Entry> RaftStorage::decode_entry(ByteView batch) {
  return decode_entry_batch(batch);
}

log::CheckpointEntries RaftStorage::encode_hard_state(const HardState& hs) {
  return {{"data_version", 0},
          {"leader_epoch", hs.epoch},
          {"voted_id", hs.voted_for},
          {"leader_id", hs.leader_id}};
}

Result<HardState> RaftStorage::decode_hard_state(const log::CheckpointEntries& entries) {
  if (entries.size() != 4 || entries[0] != std::pair<std::string, int64_t>{"data_version", 0} ||
      entries[1].first != "leader_epoch" || entries[2].first != "voted_id" ||
      entries[3].first != "leader_id") {
    return corrupt("quorum state: unexpected keys or version");
  }
  auto in_range = [](int64_t v, int64_t lo) { return v >= lo && v <= INT32_MAX; };
  if (!in_range(entries[1].second, 0) || !in_range(entries[2].second, kNoNode) ||
      !in_range(entries[3].second, kNoNode)) {
    return corrupt("quorum state: value out of range");
  }
  return HardState{static_cast<int32_t>(entries[1].second), static_cast<NodeId>(entries[2].second),
                   static_cast<NodeId>(entries[3].second)};
}

// ---- Files ----

void RaftStorage::open_log(DoneFn done) {
  log::LogConfig config;
  config.segment_bytes = options_.segment_bytes;
  config.flush_messages = 1;  // each append completes fsynced
  config.retention_ms = -1;   // the log start moves only with snapshots
  config.retention_bytes = -1;
  config.max_message_bytes = log::kBatchBytesMax;
  log_.reset();
  log::Log::load(
      env_, log_dir(), config, guarded(alive_, [this, done](Result<std::unique_ptr<log::Log>> r) {
        if (!r.ok()) {
          return done(errorf(r.code(), "{}: {}", log_dir(), r.status().message()));
        }
        log_ = std::move(r).value();
        log_->set_on_offline(guarded(alive_, [this](const Status& s) { set_failed(s); }));
        done(Status::Ok());
      }));
}

void RaftStorage::write_snapshot_file(std::shared_ptr<Snapshot> snapshot, DoneFn done) {
  std::string path = snapshot_path(snapshot->id);
  std::string temp = dir_ + "/" + snapshot_file_name(snapshot->id);
  temp.replace(temp.size() - kSnapshotSuffix.size(), kSnapshotSuffix.size(), kSnapshotTempSuffix);
  auto bytes = std::make_shared<Bytes>(encode_snapshot(*snapshot));
  if (bytes->size() > kSnapshotBytesMax) {
    return done(errorf(Errc::limit_exceeded, "{}: {} bytes is over the snapshot limit", path,
                       bytes->size()));
  }
  auto file = std::make_shared<disk::FilePtr>();
  run_steps({[this, temp, file](Next next) {
               env_.disk.open(temp, disk::OpenMode::open_or_create,
                              guarded(alive_, [file, next](Result<disk::FilePtr> f) {
                                if (!f.ok()) return next(f.status());
                                *file = std::move(f).value();
                                (*file)->truncate(0, next);
                              }));
             },
             [file, bytes](Next next) { (*file)->pwrite(0, *bytes, next); },
             [file](Next next) { (*file)->fsync(next); },
             [this, temp, path](Next next) { env_.disk.rename(temp, path, next); },
             [this](Next next) { env_.disk.fsync_dir(dir_, next); }},
            guarded(alive_, [this, snapshot, path, done](const Status& s) {
              if (!s.ok()) return done(errorf(s.code(), "{}: {}", path, s.message()));
              snapshot_ids_.insert(snapshot->id);
              if (snapshot->id.end_offset >= snapshot_id_.end_offset) snapshot_id_ = snapshot->id;
              done(Status::Ok());
            }));
}

void RaftStorage::read_snapshot_file(SnapshotId id, std::function<void(Result<Snapshot>)> done) {
  std::string path = snapshot_path(id);
  env_.disk.open(
      path, disk::OpenMode::open_existing,
      guarded(alive_, [this, id, path, done](Result<disk::FilePtr> f) {
        if (!f.ok()) return done(errorf(f.code(), "{}: {}", path, f.status().message()));
        disk::FilePtr file = std::move(f).value();
        if (file->size() > kSnapshotBytesMax) {
          return done(errorf(Errc::corrupt, "{}: {} bytes is too large", path, file->size()));
        }
        file->pread(0, static_cast<size_t>(file->size()),
                    guarded(alive_, [id, path, file, done](Result<ReadBuffer> data) {
                      if (!data.ok())
                        return done(errorf(data.code(), "{}: {}", path, data.status().message()));
                      auto s = decode_snapshot(*data);
                      if (!s.ok()) {
                        return done(errorf(Errc::corrupt, "{}: {}", path, s.status().message()));
                      }
                      if (s->id != id) {
                        return done(errorf(Errc::corrupt, "{}: holds snapshot {}-{}", path,
                                           s->id.end_offset, s->id.epoch));
                      }
                      done(std::move(s).value());
                    }));
      }));
}

void RaftStorage::remove_old_snapshots(DoneFn done) {
  std::vector<Step> steps;
  for (const SnapshotId& id : snapshot_ids_) {
    if (id == snapshot_id_) continue;
    steps.push_back([this, id](Next next) {
      env_.disk.remove(snapshot_path(id), guarded(alive_, [this, id, next](const Status& s) {
                         if (!s.ok() && s.code() != Errc::not_found) return next(s);
                         snapshot_ids_.erase(id);
                         env_.disk.fsync_dir(dir_, next);
                       }));
    });
  }
  run_steps(std::move(steps), std::move(done));
}

void RaftStorage::restart_log_at(int64_t offset, DoneFn done) {
  // Closed from the loop, not from inside one of the Log's own callbacks; no operation of ours
  // runs in it (operations are serialized).
  env_.clock.schedule(Duration::zero(), guarded(alive_, [this, offset, done] {
                        log_.reset();
                        restart_empty_log_at(offset, done);
                      }));
}

void RaftStorage::restart_empty_log_at(int64_t offset, DoneFn done) {
  auto names = std::make_shared<std::vector<std::string>>();
  std::string ldir = log_dir();
  std::vector<Step> steps;
  steps.push_back([this, ldir, names](Next next) {
    env_.disk.list(ldir, guarded(alive_, [names, next](auto list) {
                     if (!list.ok()) return next(list.status());
                     *names = std::move(list).value();
                     next(Status::Ok());
                   }));
  });
  // Highest names first: an interrupted removal leaves a prefix of the old log, which load
  // handles like any other interrupted install.
  steps.push_back([this, ldir, names](Next next) {
    std::vector<Step> removes;
    for (auto it = names->rbegin(); it != names->rend(); ++it) {
      std::string path = ldir + "/" + *it;
      removes.push_back([this, ldir, path](Next n) {
        env_.disk.remove(path, guarded(alive_, [this, ldir, n](const Status& s) {
                           if (!s.ok() && s.code() != Errc::not_found) return n(s);
                           env_.disk.fsync_dir(ldir, n);
                         }));
      });
    }
    run_steps(std::move(removes), next);
  });
  steps.push_back([this, ldir, offset](Next next) {
    partition_checkpoint_ =
        std::make_unique<log::CheckpointFile>(env_.disk, ldir + "/partition.checkpoint");
    partition_checkpoint_->write(
        {{"high_watermark", offset}, {"recovery_point", offset}, {"log_start_offset", offset}},
        guarded(alive_, [this, next](const Status& s) {
          partition_checkpoint_.reset();
          next(s);
        }));
  });
  steps.push_back([this](Next next) { open_log(next); });
  steps.push_back([this, offset](Next next) {
    if (log_->log_start_offset() != offset || log_->log_end_offset() != offset) {
      return next(errorf(Errc::corrupt, "{}: restarted at {} but holds [{}, {})", log_dir(), offset,
                         log_->log_start_offset(), log_->log_end_offset()));
    }
    next(Status::Ok());
  });
  run_steps(std::move(steps), std::move(done));
}

// The epoch of the entry at offset - 1 (which the log must hold).
void RaftStorage::epoch_before(int64_t offset, std::function<void(Result<int32_t>)> done) {
  log_->read(offset - 1, 1, guarded(alive_, [offset, done](Result<log::ReadResult> r) {
               if (!r.ok()) return done(r.status());
               log::BatchIterator it(r->batches);
               while (auto batch = it.next()) {
                 auto h = log::parse_batch_header(*batch);
                 if (!h.ok()) return done(h.status());
                 if (h->base_offset <= offset - 1 && h->last_offset() >= offset - 1) {
                   return done(h->partition_leader_epoch);
                 }
               }
               done(errorf(Errc::corrupt, "no batch holds offset {}", offset - 1));
             }));
}

}  // namespace gregor::raft
