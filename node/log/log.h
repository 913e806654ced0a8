// The partition log: ordered segments of record batches on the Disk seam, with Kafka's offset
// semantics. One Log per partition replica; it runs unchanged on POSIX files and on SimDisk.
//
// Concurrency: single-threaded, asynchronous. Mutations (append, truncate, roll, retention,
// checkpoints) run one at a time in submission order; reads run alongside them and never see a
// batch whose append has not completed.
//
// Durability: appended batches are durable once flushed (fsync). The flush policy is Kafka's
// (flush.messages, flush.ms); the recovery point is the offset below which everything was
// flushed, and recovery on open validates every batch from there on.
//
// Files in the partition directory:
//   <base>.log / <base>.index / <base>.timeindex   segments and their indexes (20-digit names)
//   <offset>.snapshot                               producer state snapshots
//   partition.checkpoint                            high watermark, recovery point, log start
//   leader-epoch-checkpoint                         epoch -> start offset
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "base/env.h"
#include "node/kafka/error_code.h"
#include "node/log/checkpoint_file.h"
#include "node/log/leader_epoch_cache.h"
#include "node/log/log_config.h"
#include "node/log/producer_state.h"
#include "node/log/segment.h"

namespace gregor::log {

// How soon after a flush-policy fsync the checkpoints (recovery point, high watermark, log start,
// epochs) follow. Kafka writes recovery points every log.flush.offset.checkpoint.interval.ms
// (60 s) and high watermarks every replica.high.watermark.checkpoint.interval.ms (5 s).
inline constexpr Duration kCheckpointInterval = seconds(5);

struct AppendInfo {
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  int64_t log_append_time = -1;  // set for LogAppendTime topics
  bool duplicate = false;        // an idempotent retry: offsets are the original ones
};

// An append failure: the Kafka error for the producer, and the detail.
struct AppendError {
  kafka::ErrorCode code;
  Status status;
};

struct TimestampOffset {
  int64_t timestamp = -1;
  int64_t offset = -1;
  bool operator==(const TimestampOffset&) const = default;
};

struct ReadResult {
  ReadBuffer batches;  // whole batches; may hold offsets below the one asked for (in its batch)
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
};

struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t batches_scanned = 0;
  uint64_t truncated_bytes = 0;  // torn or corrupt tail cut at recovery
  int64_t truncated_from_offset = -1;
  uint64_t segments_deleted = 0;   // past a corruption
  uint64_t indexes_rebuilt = 0;    // segments scanned to rebuild their indexes
  uint64_t indexes_loaded = 0;     // sealed segments recovered from their index files
  std::vector<std::string> notes;  // what was cut or rebuilt, with file names
};

struct LogCounters {
  uint64_t appends = 0;
  uint64_t duplicates = 0;
  uint64_t append_errors = 0;
  uint64_t flushes = 0;
  uint64_t rolls = 0;
  uint64_t segments_deleted = 0;
  uint64_t read_corruptions = 0;  // batches refused on read for a bad CRC
  uint64_t compactions = 0;
  uint64_t compaction_records_removed = 0;
};

class Log {
 public:
  using OpenFn = std::function<void(Result<std::unique_ptr<Log>>)>;

  // Opens the partition directory `dir` (created if missing) and recovers it. Fails with a
  // message naming the file for foreign files or unreadable data it cannot recover.
  static void load(Env& env, std::string dir, LogConfig config, OpenFn done);
  ~Log();

  // Appends one producer batch: validates it, applies the idempotent-producer rules, assigns
  // offsets from the log end and stamps `leader_epoch`, writes it, and flushes per policy.
  void append(Bytes batch, int32_t leader_epoch,
              std::function<void(Result<AppendInfo>, std::optional<AppendError>)> done);
  // A follower replica's append (Kafka's appendAsFollower): `records` is the records field of a
  // Fetch response, whole batches back to back as the leader stored them; a partial batch at the
  // end is dropped (it is fetched again). Each batch is written as it is: no offsets assigned,
  // no epoch stamped, no idempotence check and no max.message.bytes (the leader did all that);
  // producer state and the epoch cache are updated as for append, and segments roll and the
  // flush policy applies as for append. Each batch must start at the log end at that point,
  // else Errc::out_of_range (OFFSET_OUT_OF_RANGE: a stale response or a bug); a batch failing
  // validation gives Errc::corrupt or Errc::invalid_argument. On failure the batches before the
  // failing one stay written. first/last_offset span the batches written; {-1, -1} (success)
  // when `records` held no whole batch. One mutation: ordered with appends and truncations.
  void append_as_follower(Bytes records, std::function<void(Result<AppendInfo>)> done);
  // A new leader's epoch starts at the log end (Kafka's Partition.makeLeader assigns it there),
  // so OffsetsForLeaderEpoch can answer for it before anything is appended in it. Ordered after
  // the mutations already queued (a follower append in flight lands first); ignored unless
  // `epoch` is above every cached one. Persisted with the next checkpoints.
  void assign_leader_epoch(int32_t epoch);
  // OffsetsForLeaderEpoch for this replica: the epoch cache's answer at the current log end.
  LeaderEpochCache::EpochEnd end_offset_for(int32_t epoch) const {
    return epochs_.end_offset_for(epoch, log_end_offset_);
  }
  // Whole batches from `offset`, up to max_bytes but at least one batch. Errc::out_of_range
  // (OFFSET_OUT_OF_RANGE) below the log start or past the log end; Errc::corrupt for a batch
  // whose CRC fails (never served).
  void read(int64_t offset, size_t max_bytes, std::function<void(Result<ReadResult>)> done);
  // ListOffsets by timestamp: the first record whose timestamp >= ts (its offset and timestamp),
  // or nullopt when there is none.
  void offset_for_timestamp(int64_t timestamp,
                            std::function<void(Result<std::optional<TimestampOffset>>)> done);
  // Removes every batch at or above `offset` (segments, index entries, producer state and
  // snapshots past the new end, epochs); the epoch and partition checkpoints are written before
  // `done`, so a follower truncating on divergence keeps the cut across a crash.
  void truncate_to(int64_t offset, std::function<void(const Status&)> done);
  // Advances the log start (DeleteRecords); whole segments below it go.
  void advance_log_start(int64_t offset, std::function<void(const Status&)> done);
  // Deletes segments past retention.ms / retention.bytes; advances the log start.
  void enforce_retention(std::function<void(const Status&)> done);
  // One compaction pass (cleanup.policy=compact): keeps the latest record per key among the
  // sealed segments below the high watermark, drops tombstones older than delete.retention.ms,
  // preserves offsets. Runs in bounded memory and in steps; appends proceed meanwhile.
  // Swap protocol (crash-safe; recovery completes or discards it): the cleaned data of segments
  // [A, B) is written to "<A>.log.cleaned" and fsynced; renamed to "<A>.log.swap" (the commit
  // point) and the directory fsynced; the old segment files of [A, B) are deleted; the swap is
  // renamed to "<A>.log" and the directory fsynced.
  void compact(std::function<void(const Status&)> done);
  // fsyncs everything appended, then writes the checkpoints.
  void flush(std::function<void(const Status&)> done);
  // The high watermark is the replication layer's; the log only persists it.
  void set_high_watermark(int64_t offset);
  // Writes indexes of the active segment and the checkpoints (clean shutdown).
  void close(std::function<void(const Status&)> done);

  int64_t log_start_offset() const { return log_start_offset_; }
  int64_t log_end_offset() const { return log_end_offset_; }
  int64_t high_watermark() const { return high_watermark_; }
  int64_t recovery_point() const { return recovery_point_; }
  uint64_t size_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  const RecoveryReport& recovery_report() const { return recovery_; }
  const LogCounters& counters() const { return counters_; }
  Env& env() const { return env_; }
  // Called once when the log goes offline (a failed fsync: what the page cache holds can no
  // longer be trusted to match the disk), after appends and reads start failing.
  void set_on_offline(std::function<void(const Status&)> f) { on_offline_ = std::move(f); }
  const LeaderEpochCache& epochs() const { return epochs_; }
  const ProducerStateManager& producers() const { return producers_; }
  const std::string& dir() const { return dir_; }
  // After a failed fsync the log refuses appends (KAFKA_STORAGE_ERROR) and reads (io_error)
  // until it is reopened: the page cache may have dropped data it acknowledged as written.
  bool offline() const { return !offline_.ok(); }

 private:
  Log(Env& env, std::string dir, LogConfig config);
  struct Op {
    std::function<void(std::function<void()> finished)> run;
  };
  // Runs mutations one at a time.
  void enqueue(std::function<void(std::function<void()> finished)> run);
  void run_next_op();

  // log_recovery.cc
  void recover(std::function<void(const Status&)> done);
  void load_files(std::vector<std::string> names, std::function<void(const Status&)> done);
  void complete_swaps(std::vector<int64_t> swaps, std::vector<int64_t> segment_bases,
                      std::function<void(const Status&)> done);
  void recover_segment(std::map<int64_t, disk::FilePtr>::iterator it,
                       std::shared_ptr<std::map<int64_t, disk::FilePtr>> files,
                       std::function<void(const Status&)> done);
  void scan_recovered_segment(std::map<int64_t, disk::FilePtr>::iterator it,
                              std::shared_ptr<std::map<int64_t, disk::FilePtr>> files,
                              std::function<void(const Status&)> done);
  void note_epoch(const BatchHeader& h);
  void write_rebuilt_indexes(std::function<void(const Status&)> done);
  void cut_after_scan(std::map<int64_t, disk::FilePtr>::iterator it,
                      std::shared_ptr<std::map<int64_t, disk::FilePtr>> files, Segment* raw,
                      const ScanResult& r, std::function<void(const Status&)> done);
  void delete_recovered_from(std::map<int64_t, disk::FilePtr>::iterator from,
                             std::shared_ptr<std::map<int64_t, disk::FilePtr>> files,
                             const std::string& why, std::function<void(const Status&)> done);
  void finish_recovery(std::function<void(const Status&)> done);

  // log_index_load.cc
  void load_segment_index(Segment& seg, int64_t next_base, std::function<void(const Status&)> done);
  void scan_tail(Segment& seg, int64_t next_base, uint64_t file_size,
                 std::function<void(const Status&)> done);

  // log.cc
  void do_append(Bytes batch, int32_t leader_epoch,
                 std::function<void(Result<AppendInfo>, std::optional<AppendError>)> done,
                 std::function<void()> finished);
  // Rolls per policy, writes one batch whose offsets and epoch are final at the log end, and
  // does the bookkeeping (indexes, log end, epochs, producer state, unflushed count). A failed
  // write is cut back out of the file; the log is unchanged then.
  void write_batch(std::shared_ptr<Bytes> batch, BatchHeader h,
                   std::function<void(const Status&)> done);
  // After a write: fsyncs if flush.messages or flush.ms says so (scheduling the checkpoints),
  // else arms the flush.ms timer. A failed fsync takes the log offline.
  void flush_per_policy(std::function<void(const Status&)> done);
  struct FollowerAppend;
  void append_next_follower_batch(std::shared_ptr<FollowerAppend> op);
  void finish_follower_append(std::shared_ptr<FollowerAppend> op, Status failure);
  void maybe_roll(int64_t next_offset, size_t batch_bytes, std::function<void(const Status&)> done);
  void roll(int64_t base, std::function<void(const Status&)> done);
  void write_indexes(Segment& segment, std::function<void(const Status&)> done);
  // fsyncs what the recovery point does not cover; then writes the checkpoints if `checkpoint`.
  void do_flush(bool checkpoint, std::function<void(const Status&)> done);
  void schedule_flush_timer();
  void schedule_checkpoint();
  void write_checkpoints(std::function<void(const Status&)> done);
  void go_offline(const Status& cause);
  void read_from(int64_t offset, size_t max_bytes, std::function<void(Result<ReadResult>)> done);
  void scan_for_timestamp(int64_t at, int64_t timestamp,
                          std::function<void(Result<std::optional<TimestampOffset>>)> done);

  // log_compaction.cc (helpers it needs are declared there as file-local functions or here)
  struct CompactionPass;
  void run_compaction(std::shared_ptr<CompactionPass> pass,
                      std::function<void(const Status&)> done);
  Status compaction_abandoned() const;
  bool snapshot_segments(CompactionPass& pass);
  void fill_map(std::shared_ptr<CompactionPass> pass, size_t i,
                std::function<void(const Status&)> done);
  Status map_chunk(CompactionPass& pass, ByteView chunk);
  void plan_groups(CompactionPass& pass);
  void clean_next_group(std::shared_ptr<CompactionPass> pass,
                        std::function<void(const Status&)> done);
  void write_cleaned_chunk(std::shared_ptr<CompactionPass> pass, size_t i, ByteView chunk,
                           std::function<void(const Status&)> next);
  Result<std::optional<Bytes>> filter_batch(CompactionPass& pass, size_t i, ByteView batch,
                                            const BatchHeader& h, bool group_end);
  bool producer_retains(const BatchHeader& h) const;
  bool compaction_group_current(const CompactionPass& pass) const;
  void swap_in(std::shared_ptr<CompactionPass> pass, std::function<void(const Status&)> done);
  void install_cleaned(CompactionPass& pass);
  void remove_compaction_files(const CompactionPass& pass, std::function<void(const Status&)> done);

  // log_snapshots.cc
  void write_snapshot(int64_t offset, std::function<void(const Status&)> done);
  void load_snapshot(std::function<void(const Status&)> done);
  void try_snapshot(int64_t offset, std::function<void(const Status&)> done);
  void replay_after_snapshot(ProducerStateManager state, int64_t offset,
                             std::function<void(const Status&)> done);
  void rebuild_producers_without_snapshot(std::function<void(const Status&)> done);

  // log_retention.cc
  void delete_segments_below(int64_t offset, std::function<void(const Status&)> done);
  void delete_segment(int64_t base, std::function<void(const Status&)> done);
  void restart_at(int64_t offset, std::function<void(const Status&)> done);
  void do_truncate(int64_t offset, std::function<void(const Status&)> done);
  void remove_snapshots_past_end(std::function<void(const Status&)> done);
  void reload_producers(std::function<void(const Status&)> done);

  Segment& active() { return *segments_.rbegin()->second; }

  Env& env_;
  std::function<void(const Status&)> on_offline_;
  std::string dir_;
  LogConfig config_;
  std::map<int64_t, std::unique_ptr<Segment>> segments_;  // by base offset
  int64_t log_start_offset_ = 0;
  int64_t log_end_offset_ = 0;
  int64_t recovery_point_ = 0;
  int64_t high_watermark_ = 0;
  uint64_t unflushed_messages_ = 0;
  MonoTime last_flush_{};
  TimerId flush_timer_ = kNoTimer;
  TimerId checkpoint_timer_ = kNoTimer;
  bool compacting_ = false;  // one compaction pass at a time
  LeaderEpochCache epochs_;
  ProducerStateManager producers_;
  std::set<int64_t> snapshots_;  // offsets of the producer snapshot files on disk
  CheckpointFile partition_checkpoint_;
  CheckpointFile epoch_checkpoint_;
  std::deque<Op> ops_;
  bool op_running_ = false;
  Status offline_;  // not ok once an fsync failed (go_offline)
  RecoveryReport recovery_;
  // Recovery only: segments whose .index and .timeindex both exist; segments rebuilt by a scan
  // (their index files are rewritten); whether producer state saw every batch (truncation
  // clears it too, to reload producer state from the whole log when no snapshot is left).
  std::set<int64_t> recovery_index_files_;
  std::set<int64_t> recovery_rebuilt_;
  bool producers_scanned_all_ = true;
  LogCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::log
