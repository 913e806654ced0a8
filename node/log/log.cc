// The partition log: open, append, read, roll, flush and checkpoints. Recovery lives in
// log_recovery.cc, retention and truncation in log_retention.cc.
#include "node/log/log.h"

#include <spdlog/spdlog.h>

#include "base/fault_points.h"
#include "base/guarded.h"
#include "base/steps.h"

namespace gregor::log {

namespace {
constexpr const char* kPartitionCheckpoint = "partition.checkpoint";
constexpr const char* kEpochCheckpoint = "leader-epoch-checkpoint";
}  // namespace

Log::Log(Env& env, std::string dir, LogConfig config)
    : env_(env),
      dir_(std::move(dir)),
      config_(config),
      partition_checkpoint_(env.disk, dir_ + "/" + kPartitionCheckpoint),
      epoch_checkpoint_(env.disk, dir_ + "/" + kEpochCheckpoint) {
  last_flush_ = env_.clock.now();
}

Log::~Log() {
  *alive_ = false;
  env_.clock.cancel(flush_timer_);
  env_.clock.cancel(checkpoint_timer_);
}

Status validate_config(const LogConfig& c) {
  // Positions in the offset index are 32-bit, as in Kafka (segment.bytes is an int there).
  if (c.segment_bytes < 14 || c.segment_bytes > INT32_MAX) {
    return errorf(Errc::invalid_argument, "segment.bytes {} outside [14, {}]", c.segment_bytes,
                  INT32_MAX);
  }
  if (c.segment_ms <= Duration::zero()) {
    return error(Errc::invalid_argument, "segment.ms must be positive");
  }
  if (c.index_interval_bytes == 0) {
    return error(Errc::invalid_argument, "index.interval.bytes must be positive");
  }
  if (c.retention_ms < -1) return error(Errc::invalid_argument, "retention.ms must be >= -1");
  if (c.retention_bytes < -1) {
    return error(Errc::invalid_argument, "retention.bytes must be >= -1");
  }
  if (c.flush_messages == 0) return error(Errc::invalid_argument, "flush.messages must be >= 1");
  if (c.flush_ms <= Duration::zero()) {
    return error(Errc::invalid_argument, "flush.ms must be positive");
  }
  if (c.max_message_bytes == 0 || c.max_message_bytes > kBatchBytesMax) {
    return errorf(Errc::invalid_argument, "max.message.bytes {} outside [1, {}]",
                  c.max_message_bytes, kBatchBytesMax);
  }
  if (c.delete_retention_ms < 0) {
    return error(Errc::invalid_argument, "delete.retention.ms must be >= 0");
  }
  if (!c.cleanup_delete && !c.cleanup_compact) {
    return error(Errc::invalid_argument, "cleanup.policy must be delete, compact or both");
  }
  return Status::Ok();
}

void Log::load(Env& env, std::string dir, LogConfig config, OpenFn done) {
  if (Status s = validate_config(config); !s.ok()) return done(s);
  std::unique_ptr<Log> log(new Log(env, std::move(dir), config));
  Log* raw = log.get();
  auto holder = std::make_shared<std::unique_ptr<Log>>(std::move(log));
  raw->recover([holder, done = std::move(done)](const Status& s) {
    if (!s.ok()) return done(s);
    done(std::move(*holder));
  });
}

uint64_t Log::size_bytes() const {
  uint64_t total = 0;
  for (auto& [base, seg] : segments_) total += seg->size;
  return total;
}

void Log::enqueue(std::function<void(std::function<void()> finished)> run) {
  ops_.push_back(Op{std::move(run)});
  run_next_op();
}

void Log::run_next_op() {
  if (op_running_ || ops_.empty()) return;
  op_running_ = true;
  Op op = std::move(ops_.front());
  ops_.pop_front();
  op.run(guarded(alive_, [this] {
    op_running_ = false;
    run_next_op();
  }));
}

void Log::append(Bytes batch, int32_t leader_epoch,
                 std::function<void(Result<AppendInfo>, std::optional<AppendError>)> done) {
  auto shared = std::make_shared<Bytes>(std::move(batch));
  enqueue([this, shared, leader_epoch, done = std::move(done)](std::function<void()> finished) {
    do_append(std::move(*shared), leader_epoch, done, std::move(finished));
  });
}

namespace {
constexpr uint64_t kEarlyRollBytesMin = 16 << 10;  // BUGGIFY log_roll_early: smallest segment

// Fails an append with a Kafka error, keeping the detail.
void fail_append(const std::function<void(Result<AppendInfo>, std::optional<AppendError>)>& done,
                 kafka::ErrorCode code, Status status) {
  done(status, AppendError{code, status});
}

// A write the disk refused (full, EIO) left nothing in the log (the file is cut back): Kafka's
// KAFKA_STORAGE_ERROR, which producers retry. Anything else is the broker's own failure.
kafka::ErrorCode append_error_code(const Status& s) {
  return s.code() == Errc::no_space || s.code() == Errc::io_error
             ? kafka::ErrorCode::kafka_storage_error
             : kafka::ErrorCode::unknown_server_error;
}
}  // namespace

void Log::do_append(Bytes batch, int32_t leader_epoch,
                    std::function<void(Result<AppendInfo>, std::optional<AppendError>)> done,
                    std::function<void()> finished) {
  auto fail = [&](kafka::ErrorCode code, Status s) {
    ++counters_.append_errors;
    fail_append(done, code, std::move(s));
    finished();
  };
  if (!offline_.ok()) return fail(kafka::ErrorCode::kafka_storage_error, offline_);
  if (batch.size() > config_.max_message_bytes + kBatchLogOverhead) {
    return fail(kafka::ErrorCode::message_too_large,
                errorf(Errc::limit_exceeded, "batch of {} bytes over max.message.bytes {}",
                       batch.size(), config_.max_message_bytes));
  }
  Status valid =
      validate_batch(batch, config_.strict_validation ? Validation::strict : Validation::shallow);
  if (!valid.ok()) return fail(to_kafka_error(valid), valid);
  BatchHeader h = parse_batch_header(batch).value();
  auto check =
      producers_.check(h.producer_id, h.producer_epoch, h.base_sequence, h.last_sequence());
  if (!check.ok()) {
    if (check.code() == Errc::out_of_range) GREGOR_PROBE(env_, log_append_out_of_order);
    return fail(producer_error_code(check.status()), check.status());
  }
  if (check->kind == ProducerCheck::Kind::duplicate) {
    ++counters_.duplicates;
    GREGOR_PROBE(env_, log_append_duplicate);
    AppendInfo info{check->original->first_offset, check->original->last_offset, -1, true};
    done(info, std::nullopt);
    return finished();
  }
  int64_t base = log_end_offset_;
  assign_offsets(batch, base, leader_epoch);
  AppendInfo info{base, base + h.last_offset_delta, -1, false};
  if (config_.message_timestamp_type == TimestampType::log_append_time) {
    info.log_append_time = to_ms(env_.clock.wall_now());
    set_log_append_time(batch, info.log_append_time);
  }
  // The header is all that is needed after the write, so the batch itself is moved into the
  // file append rather than copied (a 1 MiB copy per append showed in the log benchmark).
  BatchHeader stamped = parse_batch_header(batch).value();
  write_batch(std::make_shared<Bytes>(std::move(batch)), stamped,
              guarded(alive_, [this, info, done, finished](const Status& s) {
                if (!s.ok()) {
                  ++counters_.append_errors;
                  fail_append(done, append_error_code(s), s);
                  return finished();
                }
                flush_per_policy(guarded(alive_, [info, done, finished](const Status& s) {
                  if (!s.ok()) {
                    // The batch is in the log but may not be durable: the caller must treat it as
                    // failed (and a replica restart will recover what is really on disk).
                    fail_append(done, kafka::ErrorCode::kafka_storage_error, s);
                  } else {
                    done(info, std::nullopt);
                  }
                  finished();
                }));
              }));
}

// One append_as_follower call: the fetched records and how far it got. `batches` walks
// `records`, which the struct owns, so the views it returns stay valid for the whole call.
struct Log::FollowerAppend {
  Bytes records;
  BatchIterator batches{ByteView{}};
  AppendInfo info;
  std::function<void(Result<AppendInfo>)> done;
  std::function<void()> finished;
};

void Log::append_as_follower(Bytes records, std::function<void(Result<AppendInfo>)> done) {
  auto op = std::make_shared<FollowerAppend>();
  op->records = std::move(records);
  op->batches = BatchIterator(op->records);
  op->done = std::move(done);
  enqueue([this, op](std::function<void()> finished) {
    op->finished = std::move(finished);
    if (!offline_.ok()) return finish_follower_append(op, offline_);
    append_next_follower_batch(op);
  });
}

// Kafka's follower append skips what the leader already decided (offsets, epochs, idempotence,
// max.message.bytes) but still checks what the network or a bug could have broken: the CRC and
// framing, and that the batch continues this log exactly.
void Log::append_next_follower_batch(std::shared_ptr<FollowerAppend> op) {
  std::optional<ByteView> batch = op->batches.next();
  // The end, or a partial batch a size-limited fetch cut (fetched again from the new log end);
  // a length field no batch can have is corrupt.
  if (!batch) return finish_follower_append(op, op->batches.status());
  // Stored rather than shallow: a compacted leader log holds batches with offset gaps or no
  // records at all, and the follower must copy them as they are.
  Status valid = validate_batch(*batch, Validation::stored);
  if (!valid.ok()) return finish_follower_append(op, valid);
  BatchHeader h = parse_batch_header(*batch).value();
  if (h.base_offset != log_end_offset_) {
    return finish_follower_append(
        op, errorf(Errc::out_of_range, "{}: fetched batch at offsets {}..{} is not at log end {}",
                   dir_, h.base_offset, h.last_offset(), log_end_offset_));
  }
  // A copy: the file takes ownership of what it writes, and the fetched buffer holds several
  // batches.
  write_batch(std::make_shared<Bytes>(batch->begin(), batch->end()), h,
              guarded(alive_, [this, op, h](const Status& s) {
                if (!s.ok()) return finish_follower_append(op, s);
                if (op->info.first_offset < 0) op->info.first_offset = h.base_offset;
                op->info.last_offset = h.last_offset();
                append_next_follower_batch(op);
              }));
}

// What was written stays under the flush policy even when a later batch failed, as the batches
// of separate appends would.
void Log::finish_follower_append(std::shared_ptr<FollowerAppend> op, Status failure) {
  auto complete = [this, op, failure](const Status& flushed) {
    // The batch's own failure says more than a flush failure (which took the log offline).
    Status s = failure.ok() ? flushed : failure;
    if (s.ok()) {
      op->done(op->info);
    } else {
      ++counters_.append_errors;
      op->done(s);
    }
    op->finished();
  };
  if (op->info.first_offset < 0) return complete(Status::Ok());
  flush_per_policy(guarded(alive_, complete));
}

void Log::write_batch(std::shared_ptr<Bytes> data, BatchHeader h,
                      std::function<void(const Status&)> done) {
  maybe_roll(
      h.base_offset, data->size(), guarded(alive_, [this, data, h, done](const Status& s) {
        if (!s.ok()) return done(s);
        Segment& seg = active();
        uint64_t position = seg.size;
        seg.file->append(
            std::move(*data), guarded(alive_, [this, h, position, done](Result<uint64_t> at) {
              if (!at.ok()) {
                // The file may hold part of the batch: cut it back so the next append
                // lands cleanly. If even that fails the file's tail is unknown: stop
                // serving until recovery.
                active().file->truncate(position, guarded(alive_, [this](const Status& t) {
                                          if (!t.ok()) go_offline(t);
                                        }));
                return done(at.status());
              }
              active().on_batch(h, position, config_.index_interval_bytes);
              log_end_offset_ = h.last_offset() + 1;
              // Epochs and producer state go to disk with the checkpoints and snapshots;
              // recovery rebuilds them from the batches above the recovery point.
              note_epoch(h);
              if (h.producer_id >= 0) {
                producers_.update(h.producer_id, h.producer_epoch,
                                  ProducerBatch{h.base_sequence, h.last_sequence(), h.base_offset,
                                                h.last_offset(), h.max_timestamp});
              }
              ++counters_.appends;
              unflushed_messages_ += static_cast<uint64_t>(h.record_count);
              done(Status::Ok());
            }));
      }));
}

void Log::flush_per_policy(std::function<void(const Status&)> done) {
  bool flush_now =
      unflushed_messages_ >= config_.flush_messages ||
      (config_.flush_ms != Duration::max() && env_.clock.now() - last_flush_ >= config_.flush_ms);
  // BUGGIFY: flushing sooner than the policy asks only makes more durable; it moves the recovery
  // point, so recovery takes its index-loading path more often.
  flush_now = flush_now || GREGOR_BUGGIFY(env_, log_flush_early);
  if (!flush_now) {
    schedule_flush_timer();
    return done(Status::Ok());
  }
  // The policy's fsync makes the batch durable; the checkpoints (the recovery point among them)
  // follow on their own timer, as Kafka's LogManager writes them, so an fsync per append does
  // not cost three more writes and fsyncs.
  schedule_checkpoint();
  do_flush(/*checkpoint=*/false, std::move(done));
}

void Log::maybe_roll(int64_t next_offset, size_t batch_bytes,
                     std::function<void(const Status&)> done) {
  Segment& seg = active();
  bool full = seg.size > 0 && seg.size + batch_bytes > config_.segment_bytes;
  // Relative offsets in the index are 32-bit: roll before one would not fit (Kafka does too).
  full |= !seg.empty() && !seg.index.can_index(next_offset + INT32_MAX / 2);
  bool old = !seg.empty() && env_.clock.now() - seg.created >= config_.segment_ms;
  // BUGGIFY: where segments end is the log's own business, and rolling early reaches what the
  // default 1 GiB segments rarely do in a test: reads across segments, retention and compaction
  // of sealed segments, recovery from index files, producer snapshots. Never an empty segment: a
  // roll at its own base offset would replace it; and never below kEarlyRollBytesMin, so that a
  // simulated run with small batches does not spend its time creating segment files.
  bool early =
      !full && !old && seg.size >= kEarlyRollBytesMin && GREGOR_BUGGIFY(env_, log_roll_early);
  if (!full && !old && !early) return done(Status::Ok());
  roll(next_offset, std::move(done));
}

// Seals the active segment (its indexes go to disk) and starts a new one at `base`.
void Log::roll(int64_t base, std::function<void(const Status&)> done) {
  Segment& sealed = active();
  auto file = std::make_shared<disk::FilePtr>();
  run_steps({
                [this, &sealed](Next next) { write_indexes(sealed, next); },
                [this, base](Next next) { write_snapshot(base, next); },
                [this, base, file](Next next) {
                  env_.disk.open(segment_file(dir_, base, ".log"), disk::OpenMode::open_or_create,
                                 guarded(alive_, [file, next](Result<disk::FilePtr> f) {
                                   if (!f.ok()) return next(f.status());
                                   *file = std::move(f).value();
                                   next(Status::Ok());
                                 }));
                },
                [this](Next next) { env_.disk.fsync_dir(dir_, next); },
            },
            guarded(alive_, [this, base, file, done](const Status& s) {
              if (!s.ok()) return done(s);
              segments_[base] = std::make_unique<Segment>(base, *file, env_.clock.now());
              ++counters_.rolls;
              env_.tracer.event("log.roll", TraceFields().add("dir", dir_).add("base", base));
              done(Status::Ok());
            }));
}

void Log::write_indexes(Segment& seg, std::function<void(const Status&)> done) {
  struct Files {
    Bytes index, time_index;
  };
  auto bytes = std::make_shared<Files>(Files{seg.index.encode(), seg.time_index.encode()});
  int64_t base = seg.base_offset;
  auto write = [this](std::string path, std::shared_ptr<Files> b, bool time) -> Step {
    return [this, path, b, time](Next next) {
      env_.disk.open(path, disk::OpenMode::open_or_create,
                     guarded(alive_, [b, time, next](Result<disk::FilePtr> f) {
                       if (!f.ok()) return next(f.status());
                       disk::FilePtr file = std::move(f).value();
                       file->truncate(0, [file, b, time, next](const Status& s) {
                         if (!s.ok()) return next(s);
                         file->pwrite(0, time ? b->time_index : b->index,
                                      [file, next](const Status& s) {
                                        if (!s.ok()) return next(s);
                                        file->fsync(next);
                                      });
                       });
                     }));
    };
  };
  // Synced, so that recovery can load a sealed segment's indexes instead of scanning it; a
  // missing or damaged one (a crash while writing) is rebuilt by a scan.
  run_steps({write(segment_file(dir_, base, ".index"), bytes, false),
             write(segment_file(dir_, base, ".timeindex"), bytes, true)},
            std::move(done));
}

// flush.ms: unflushed data is flushed within flush_ms even if no further append comes.
void Log::schedule_flush_timer() {
  if (config_.flush_ms == Duration::max() || flush_timer_ != kNoTimer) return;
  Duration wait = std::max(Duration::zero(), last_flush_ + config_.flush_ms - env_.clock.now());
  flush_timer_ = env_.clock.schedule(wait, guarded(alive_, [this] {
                                       flush_timer_ = kNoTimer;
                                       if (unflushed_messages_ == 0) return;
                                       flush([](const Status& s) {
                                         if (!s.ok())
                                           spdlog::warn("log: periodic flush failed: {}", s);
                                       });
                                     }));
}

// A lagging recovery point is safe: recovery scans from it, so a later checkpoint only means less
// to scan. The epoch checkpoint goes first (write_checkpoints), so it never lags the recovery
// point.
void Log::schedule_checkpoint() {
  if (checkpoint_timer_ != kNoTimer) return;
  checkpoint_timer_ =
      env_.clock.schedule(kCheckpointInterval, guarded(alive_, [this] {
                            checkpoint_timer_ = kNoTimer;
                            enqueue([this](std::function<void()> finished) {
                              if (!offline_.ok()) return finished();
                              write_checkpoints(guarded(alive_, [finished](const Status& s) {
                                if (!s.ok()) spdlog::warn("log: periodic checkpoint failed: {}", s);
                                finished();
                              }));
                            });
                          }));
}

// A failed fsync may have dropped dirty pages (the fsyncgate lesson): what the log holds in
// memory may no longer be what is on disk, so it stops serving, as Kafka takes a failed log
// directory offline. Recovery at the next open finds what really is durable.
void Log::go_offline(const Status& cause) {
  if (!offline_.ok()) return;
  offline_ = errorf(Errc::io_error, "{} is offline after a failed fsync ({}); restart to recover",
                    dir_, cause.message());
  spdlog::error("{}", offline_.message());
  GREGOR_PROBE(env_, log_offline);
  env_.tracer.event("log.offline", TraceFields().add("dir", dir_).add("cause", cause.message()));
  if (on_offline_) on_offline_(offline_);
}

void Log::flush(std::function<void(const Status&)> done) {
  enqueue([this, done = std::move(done)](std::function<void()> finished) {
    do_flush(/*checkpoint=*/true, guarded(alive_, [done, finished](const Status& s) {
               done(s);
               finished();
             }));
  });
}

void Log::do_flush(bool checkpoint, std::function<void(const Status&)> done) {
  int64_t flushed_to = log_end_offset_;
  std::vector<Step> steps;
  for (auto& [base, seg] : segments_) {
    if (seg->next_offset <= recovery_point_) continue;  // already durable
    disk::FilePtr file = seg->file;
    steps.push_back([file](Next next) { file->fsync(next); });
  }
  // No directory fsync here: every segment file's entry was synced when it was created (roll,
  // restart_at, recovery), so a flush only needs the data.
  run_steps(std::move(steps),
            guarded(alive_, [this, flushed_to, checkpoint, done](const Status& s) {
              if (!s.ok()) {
                go_offline(s);
                return done(s);
              }
              recovery_point_ = std::max(recovery_point_, flushed_to);
              unflushed_messages_ = 0;
              last_flush_ = env_.clock.now();
              ++counters_.flushes;
              if (!checkpoint) return done(Status::Ok());
              write_checkpoints(done);
            }));
}

void Log::write_checkpoints(std::function<void(const Status&)> done) {
  std::vector<std::pair<std::string, int64_t>> entries = {
      {"high_watermark", high_watermark_},
      {"recovery_point", recovery_point_},
      {"log_start_offset", log_start_offset_},
  };
  // Epochs first: recovery trusts the epoch checkpoint for every batch below the recovery point
  // (it does not scan them), so it must never lag the partition checkpoint.
  run_steps({[this](Next next) { epochs_.write_to(epoch_checkpoint_, next); },
             [this, entries](Next next) { partition_checkpoint_.write(entries, next); }},
            std::move(done));
}

void Log::assign_leader_epoch(int32_t epoch) {
  enqueue([this, epoch](std::function<void()> finished) {
    auto latest = epochs_.latest_epoch();
    if (epoch >= 0 && (!latest || epoch > *latest)) {
      epochs_.assign(epoch, log_end_offset_);
      schedule_checkpoint();
    }
    finished();
  });
}

void Log::set_high_watermark(int64_t offset) {
  high_watermark_ = std::clamp(offset, log_start_offset_, log_end_offset_);
}

void Log::close(std::function<void(const Status&)> done) {
  enqueue([this, done = std::move(done)](std::function<void()> finished) {
    run_steps({[this](Next next) { write_indexes(active(), next); },
               [this](Next next) { write_snapshot(log_end_offset_, next); },
               [this](Next next) { do_flush(/*checkpoint=*/true, next); }},
              guarded(alive_, [done, finished](const Status& s) {
                done(s);
                finished();
              }));
  });
}

}  // namespace gregor::log
