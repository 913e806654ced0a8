// Start-up, recovery and persistence of the counter's log.
#include <spdlog/spdlog.h>

#include "base/crc32c.h"
#include "sim/demo/counter_internal.h"

namespace gregor::demo {

void CounterNode::start() {
  auto listener = env_.network.listen(
      config_.nodes[config_.self],
      guarded(alive_, [this](net::ConnectionPtr c) { on_accept(std::move(c)); }));
  if (!listener.ok()) {
    start_status_ = listener.status();
    spdlog::error("counter: cannot listen: {}", start_status_);
    return;
  }
  listener_ = std::move(listener).value();
  env_.disk.mkdir(kLogDir, guarded(alive_, [this](const Status& s) {
                    if (!s.ok() && s.code() != Errc::already_exists) {
                      spdlog::warn("counter: mkdir failed: {}; retrying", s);
                      env_.clock.schedule(config_.tick_interval,
                                          guarded(alive_, [this] { start(); }));
                      listener_.reset();
                      return;
                    }
                    // The directory entry must be durable before files inside it can be.
                    env_.disk.fsync_dir("", guarded(alive_, [this](const Status&) { open_log(); }));
                  }));
  tick_timer_ = env_.clock.schedule(config_.tick_interval, guarded(alive_, [this] { tick(); }));
}

void CounterNode::open_log() {
  env_.disk.open(
      kLogPath, disk::OpenMode::open_or_create, guarded(alive_, [this](Result<disk::FilePtr> file) {
        if (!file.ok()) {
          spdlog::warn("counter: open log failed: {}; retrying", file.status());
          env_.clock.schedule(config_.tick_interval, guarded(alive_, [this] { open_log(); }));
          return;
        }
        log_ = std::move(file).value();
        // The file's directory entry must be durable too, or a crash could make it vanish.
        env_.disk.fsync_dir(kLogDir, guarded(alive_, [this](const Status&) { read_log(); }));
      }));
}

void CounterNode::read_log() {
  {
    size_t len = static_cast<size_t>(std::min<uint64_t>(log_->size(), kLogBytesMax));
    log_->pread(
        0, len, guarded(alive_, [this](Result<ReadBuffer> data) {
          if (!data.ok()) {
            // A latent sector error: treat the whole log as lost and rebuild it from the peers.
            spdlog::warn("counter: log unreadable ({}); recovering from peers", data.status());
            env_.tracer.event("counter.log_damaged", TraceFields().add("reason", "read_error"));
            replay(Bytes());
            return;
          }
          replay(Bytes(data->begin(), data->end()));
        }));
  }
}

// Replays whole valid records; truncates the log after the last one. Decides whether the peers
// must be consulted before serving.
void CounterNode::replay(Bytes data) {
  uint64_t good = 0;
  bool damaged = false;
  for (size_t pos = 0; pos + kRecordBytes <= data.size(); pos += kRecordBytes, ++good) {
    Reader r(ByteView(data).subspan(pos, kRecordBytes));
    uint32_t crc = r.be<uint32_t>();
    uint32_t slot = r.be<uint32_t>();
    uint64_t count = r.be<uint64_t>();
    uint64_t index = r.be<uint64_t>();
    if (crc != crc32c(ByteView(data).subspan(pos + 4, kRecordBytes - 4)) || index != good ||
        slot >= counts_.size()) {
      damaged = true;
      break;
    }
    counts_[slot] = std::max(counts_[slot], count);
  }
  bool torn = !damaged && data.size() % kRecordBytes != 0;
  bool unreadable = data.empty() && log_->size() > 0;
  damaged |= unreadable;
  if (damaged) {
    // Keep the invariant "the log is this node's complete history, or empty": a valid prefix of
    // a damaged log would look complete to the next restart (seed 1603). Start from nothing and
    // take the union from every peer.
    good = 0;
    std::fill(counts_.begin(), counts_.end(), 0);
  }
  log_records_ = good;
  env_.tracer.event("counter.replay", TraceFields()
                                          .add("records", good)
                                          .add("damaged", damaged)
                                          .add("torn_tail", torn)
                                          .add("total", total()));
  log_busy_ = true;
  log_->truncate(good * kRecordBytes, guarded(alive_, [this, damaged, good](const Status& s) {
                   log_busy_ = false;
                   if (!s.ok()) spdlog::warn("counter: truncate failed: {}", s);
                   if (!damaged && good > 0) {
                     ready_ = true;
                     env_.tracer.event("counter.ready", TraceFields().add("from", "log"));
                     run_next_persist();
                     return;
                   }
                   // Empty or damaged: what this node lost is on some peer, but we cannot know
                   // which one.
                   recover_view_ = counts_;
                   send_to_peers(Bytes{static_cast<uint8_t>(CounterMsg::recover)});
                   run_next_persist();
                 }));
}

void CounterNode::finish_recovery_from_peers() {
  // Every peer has answered: adopt the union, make it durable in one atomic rewrite, then serve.
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] = std::max(counts_[i], recover_view_[i]);
  compact(guarded(alive_, [this](const Status& s) {
    if (!s.ok()) {
      spdlog::warn("counter: rewrite after recovery failed: {}; asking peers again", s);
      recover_replies_.clear();
      return;
    }
    ready_ = true;
    env_.tracer.event("counter.ready", TraceFields().add("from", "peers").add("total", total()));
  }));
}

Bytes CounterNode::encode_records(const std::vector<std::pair<uint32_t, uint64_t>>& records,
                                  uint64_t first_index) const {
  Bytes out;
  Writer w(out);
  uint64_t index = first_index;
  for (auto [slot, count] : records) {
    size_t at = w.size();
    w.be<uint32_t>(0);
    w.be<uint32_t>(slot);
    w.be<uint64_t>(count);
    w.be<uint64_t>(index++);
    w.patch_be<uint32_t>(at, crc32c(ByteView(out).subspan(at + 4, kRecordBytes - 4)));
  }
  return out;
}

void CounterNode::persist(std::vector<std::pair<uint32_t, uint64_t>> records,
                          std::function<void(const Status&)> done) {
  persist_queue_.push_back(PersistJob{std::move(records), std::move(done)});
  run_next_persist();
}

// One job at a time: append, then fsync; only then does the caller update memory.
void CounterNode::run_next_persist() {
  if (log_busy_ || !log_ || persist_queue_.empty()) return;
  if (log_records_ >= config_.log_records_max && ready_) {
    compact(guarded(alive_, [](const Status&) {}));
    return;
  }
  log_busy_ = true;
  PersistJob job = std::move(persist_queue_.front());
  persist_queue_.pop_front();
  Bytes bytes = encode_records(job.records, log_records_);
  size_t n = job.records.size();
  auto done = std::make_shared<std::function<void(const Status&)>>(std::move(job.done));
  log_->append(std::move(bytes), guarded(alive_, [this, n, done](Result<uint64_t> at) {
                 if (!at.ok()) {
                   log_busy_ = false;
                   (*done)(at.status());
                   run_next_persist();
                   return;
                 }
                 log_->fsync(guarded(alive_, [this, n, done](const Status& s) {
                   if (s.ok()) {
                     log_busy_ = false;
                     log_records_ += n;
                     (*done)(s);
                     run_next_persist();
                     return;
                   }
                   // After EIO the records may or may not be on disk. Cut the file back to what we
                   // know is durable so the next record's index matches its position again.
                   log_->truncate(log_records_ * kRecordBytes,
                                  guarded(alive_, [this, done, s](const Status&) {
                                    log_busy_ = false;
                                    (*done)(s);
                                    run_next_persist();
                                  }));
                 }));
               }));
}

// Rewrites the log as one record per slot: temp file, fsync, rename, fsync of the directory, the
// textbook atomic replace. Each step is a function; a failure anywhere ends the job.
struct CounterNode::CompactJob {
  std::vector<std::pair<uint32_t, uint64_t>> records;
  disk::FilePtr file;
  std::function<void(const Status&)> done;
};

void CounterNode::compact(std::function<void(const Status&)> done) {
  log_busy_ = true;
  auto job = std::make_shared<CompactJob>();
  for (uint32_t i = 0; i < counts_.size(); ++i) job->records.emplace_back(i, counts_[i]);
  job->done = std::move(done);
  env_.disk.open(kLogTmpPath, disk::OpenMode::open_or_create,
                 guarded(alive_, [this, job](Result<disk::FilePtr> tmp) {
                   if (!tmp.ok()) return compact_finish(job, tmp.status());
                   job->file = std::move(tmp).value();
                   job->file->truncate(0, guarded(alive_, [this, job](const Status& s) {
                                         if (!s.ok()) return compact_finish(job, s);
                                         compact_write(job);
                                       }));
                 }));
}

void CounterNode::compact_write(std::shared_ptr<CompactJob> job) {
  job->file->pwrite(0, encode_records(job->records, 0),
                    guarded(alive_, [this, job](const Status& s) {
                      if (!s.ok()) return compact_finish(job, s);
                      job->file->fsync(guarded(alive_, [this, job](const Status& s) {
                        if (!s.ok()) return compact_finish(job, s);
                        compact_rename(job);
                      }));
                    }));
}

void CounterNode::compact_rename(std::shared_ptr<CompactJob> job) {
  env_.disk.rename(kLogTmpPath, kLogPath, guarded(alive_, [this, job](const Status& s) {
                     if (!s.ok()) return compact_finish(job, s);
                     // From here the new file is the log, durable or not.
                     log_ = job->file;
                     log_records_ = job->records.size();
                     env_.disk.fsync_dir(kLogDir, guarded(alive_, [this, job](const Status& s) {
                                           compact_finish(job, s);
                                         }));
                   }));
}

void CounterNode::compact_finish(std::shared_ptr<CompactJob> job, const Status& status) {
  log_busy_ = false;
  env_.tracer.event("counter.compact", TraceFields().add("ok", status.ok()));
  job->done(status);
  run_next_persist();
}

}  // namespace gregor::demo
