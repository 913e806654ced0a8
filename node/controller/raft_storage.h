// RaftStorage: the durable side of a Raft node (raft.h) on the Disk seam, laid out as KRaft lays
// out its metadata directory. The host loads it at start (the PersistentState the Raft
// constructor takes), then hands it every Ready; apply() reports once the Ready's persistent
// parts are durable, and only then may the host expose the high watermark and send the messages.
//
// Files under the metadata directory `dir`:
//   quorum-state                        the hard state (epoch, voted-for, leader): a
//                                       log::CheckpointFile (CRC-checked, replaced atomically by
//                                       temp file + fsync + rename + directory fsync) with the keys
//                                       data_version (0), leader_epoch, voted_id, leader_id.
//   <end_offset>-<epoch>.checkpoint     snapshots (20 and 10 digits, KRaft's names), written as
//                                       "<name>.part" then fsync + rename + directory fsync. Kept
//                                       here rather than in the partition directory, whose Log
//                                       refuses files it does not know. Format below.
//   __cluster_metadata-0/               the metadata log: a node/log Log (segments, indexes,
//                                       leader-epoch-checkpoint). Each entry is one record batch
//                                       at the entry's offset whose partition leader epoch is the
//                                       entry's epoch, so the Log's leader-epoch cache answers
//                                       KIP-279 questions (end_offset_for_epoch). kData: a normal
//                                       batch with one record, null key, value = payload.
//                                       kLeaderChange: a control batch with one record, key =
//                                       Kafka's control key (version 0, type 2 LEADER_CHANGE),
//                                       value = the payload (the Raft core sends none yet; Kafka
//                                       puts a LeaderChangeMessage there).
//
// Snapshot file format (ours; KRaft's snapshots are record batches): "GRSNAP01", end_offset
// int64, epoch int32, data length uint32, data, then CRC32C (uint32) of every byte before it; all
// big-endian. The name must agree with the header.
//
// Durability of apply(), in the order of the Ready contract (raft_types.h):
//   1. snapshot to install: its file is written (durable), then the log restarts empty at its end
//      offset (see "Installing" below), then older snapshot files are removed;
//   2. truncate_to: Log::truncate_to, which fsyncs the cut segment (and the directory);
//   3. entries: Log::append with flush.messages = 1, so each append completes fsynced;
//   4. log_start_offset: needs the snapshot at that offset written by save_snapshot() first;
//      Log::advance_log_start deletes the whole segments below it (the active segment stays:
//      entries below the log start there are ignored), then older snapshot files are removed;
//   5. hard_state: quorum-state replaced atomically.
// Every step is durable when it completes, so done(ok) means all of the Ready is.
//
// Installing a snapshot past the log: node/log's Log cannot restart at an offset past its end
// through its API (its restart_at is private), so RaftStorage closes the Log, removes the
// partition directory's files (the highest first, each removal synced), writes the Log's own
// partition.checkpoint with log start = the snapshot's end, and reopens the Log, whose recovery
// then restarts it empty there ("a log start past the recovered end restarts the log empty at its
// start", node/log/README.md). It checks the reopened Log starts and ends there, so a change of
// that format fails loudly instead of silently.
//
// Load reconciles what a crash in the middle of an apply can leave (snapshot S = the newest
// snapshot file, [LS, LE) = the Log):
//   - LS > S: nothing of ours does this: Errc::corrupt;
//   - LE < S, or the entry at S - 1 has another epoch than S (an install whose log rewrite did not
//     finish): the log restarts empty at S;
//   - LS < S (a log start advance that did not finish, or an install that found the entry at
//     S - 1 already of the snapshot's epoch: the same epoch at the same offset means the same log
//     up to there, so the entries after S are kept): the log start advances to S.
// Snapshot files other than the newest, and unfinished ".part" files, are removed.
// Then the entries [S, LE) are read and checked: one record per batch, offsets contiguous from S,
// epochs non-decreasing and not below the snapshot's. Any failure is a Status naming the file.
// Finally, a log epoch past the quorum state's (the entries of an apply were durable, its hard
// state not yet) makes the loaded hard state {that epoch, no vote, no leader}, as KRaft's
// QuorumState.initialize does, and is written at once (so the epoch never goes back).
//
// Operations (apply, save_snapshot) run one at a time in submission order. After any failure the
// storage is failed for good (a failed fsync may have dropped data the page cache held): every
// later operation fails with that status; the host reloads (restarts) to recover what is durable.
// Callbacks run from the event loop, never inside the call that registered them, and never after
// the RaftStorage is destroyed.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/env.h"
#include "node/controller/raft_types.h"
#include "node/log/checkpoint_file.h"
#include "node/log/log.h"

namespace gregor::raft {

inline constexpr std::string_view kQuorumStateFileName = "quorum-state";
inline constexpr std::string_view kMetadataLogDirName = "__cluster_metadata-0";
inline constexpr std::string_view kSnapshotSuffix = ".checkpoint";
inline constexpr std::string_view kSnapshotTempSuffix = ".checkpoint.part";
// Named limits: the largest snapshot file, one read of the log at load, and the operations
// waiting their turn (more fail with Errc::limit_exceeded; the storage is not failed by it).
inline constexpr size_t kSnapshotBytesMax = size_t{256} << 20;
inline constexpr size_t kMetadataReadBytesMax = size_t{1} << 20;
inline constexpr size_t kStorageQueuedOpsMax = 1024;

struct RaftStorageOptions {
  uint64_t segment_bytes = uint64_t{1} << 30;  // KRaft's metadata.log.segment.bytes
};

class RaftStorage {
 public:
  using DoneFn = std::function<void(const Status&)>;
  struct Loaded {
    std::unique_ptr<RaftStorage> storage;
    PersistentState state;  // for the Raft constructor
  };
  using LoadFn = std::function<void(Result<Loaded>)>;

  // Opens (creating if missing) the metadata directory `dir`, reconciles and validates it (see
  // above). Errc::corrupt with the file's name for damaged or inconsistent contents.
  static void load(Env& env, std::string dir, LoadFn done, RaftStorageOptions options = {});
  ~RaftStorage();
  RaftStorage(const RaftStorage&) = delete;
  RaftStorage& operator=(const RaftStorage&) = delete;

  // Persists the snapshot, truncation, entries, log start and hard state of `ready`, in that
  // order (its high watermark and messages are the host's); done(ok) once all of it is durable.
  // A Ready that breaks the Raft contract (an entry not at the log end, a truncation below the
  // snapshot, a log start without its snapshot) is a bug of the caller: asserted.
  void apply(const Ready& ready, DoneFn done);
  // Writes a local snapshot of committed state (the host does this before
  // Raft::create_snapshot, whose Ready then advances the log start to it). Requires
  // log start < end_offset <= log end.
  void save_snapshot(Snapshot snapshot, DoneFn done);

  // Not ok once an operation failed; then every operation fails with it.
  const Status& failed() const { return failed_; }
  const HardState& hard_state() const { return hard_state_; }
  SnapshotId snapshot_id() const { return snapshot_id_; }
  // The first offset held as an entry (the newest snapshot's end) and the next offset.
  int64_t log_start_offset() const { return snapshot_id_.end_offset; }
  int64_t log_end_offset() const { return log_ ? log_->log_end_offset() : snapshot_id_.end_offset; }
  // KIP-279 from the Log's leader-epoch cache: the largest epoch <= `epoch` and where it ends;
  // nullopt when `epoch` is older than the snapshot.
  std::optional<OffsetAndEpoch> end_offset_for_epoch(int32_t epoch) const;
  // The metadata log. Requires failed().ok(): a failed install may leave no log open.
  const log::Log& log() const { return *log_; }
  const std::string& dir() const { return dir_; }

  // Codecs and names, exposed for tests and tools; decoders never assert.
  static std::string snapshot_file_name(SnapshotId id);
  static std::optional<SnapshotId> parse_snapshot_file_name(std::string_view name);
  static Bytes encode_snapshot(const Snapshot& snapshot);
  static Result<Snapshot> decode_snapshot(ByteView bytes);
  // The entry codec of raft_entry_codec.h (shared with the Fetch wire mapping).
  static Bytes encode_entry(const Entry& entry, int64_t timestamp_ms);
  static Result<Entry> decode_entry(ByteView batch);
  static log::CheckpointEntries encode_hard_state(const HardState& hs);
  static Result<HardState> decode_hard_state(const log::CheckpointEntries& entries);

 private:
  struct LoadState;
  struct Work;

  RaftStorage(Env& env, std::string dir, RaftStorageOptions options);
  std::string log_dir() const { return dir_ + "/" + std::string(kMetadataLogDirName); }
  std::string snapshot_path(SnapshotId id) const { return dir_ + "/" + snapshot_file_name(id); }

  // raft_storage.cc: the operation queue and apply's steps.
  void enqueue(std::function<void(DoneFn finish)> run, DoneFn done);
  void run_next();
  void run_work(std::shared_ptr<Work> work, DoneFn finish);
  void append_from(std::shared_ptr<Work> work, size_t i, DoneFn done);
  void set_failed(const Status& s);

  // raft_storage_load.cc: load and reconcile.
  static void load_steps(std::shared_ptr<LoadState> st, DoneFn done);
  void read_quorum_state(DoneFn done);
  void find_snapshots(DoneFn done);
  void reconcile(DoneFn done);
  void catch_up_epoch(std::shared_ptr<LoadState> st, DoneFn done);
  void read_entries(std::shared_ptr<LoadState> st, int64_t from, DoneFn done);

  // raft_storage_files.cc: files.
  void open_log(DoneFn done);
  void write_snapshot_file(std::shared_ptr<Snapshot> snapshot, DoneFn done);
  void read_snapshot_file(SnapshotId id, std::function<void(Result<Snapshot>)> done);
  // Removes every snapshot file but the newest (each removal synced).
  void remove_old_snapshots(DoneFn done);
  // Closes the Log, empties its directory and reopens it empty at `offset`.
  void restart_log_at(int64_t offset, DoneFn done);
  void restart_empty_log_at(int64_t offset, DoneFn done);
  void epoch_before(int64_t offset, std::function<void(Result<int32_t>)> done);

  Env& env_;
  std::string dir_;
  RaftStorageOptions options_;
  std::unique_ptr<log::Log> log_;
  log::CheckpointFile quorum_state_;
  std::unique_ptr<log::CheckpointFile> partition_checkpoint_;  // only while restarting the Log
  HardState hard_state_;
  SnapshotId snapshot_id_;  // the newest snapshot on disk ({0, 0}: none)
  // Every snapshot file on disk, oldest first.
  std::set<SnapshotId, bool (*)(const SnapshotId&, const SnapshotId&)> snapshot_ids_{
      [](const SnapshotId& a, const SnapshotId& b) {
        return a.end_offset != b.end_offset ? a.end_offset < b.end_offset : a.epoch < b.epoch;
      }};
  struct Op {
    std::function<void(DoneFn finish)> run;
    DoneFn done;
  };
  std::deque<Op> ops_;
  bool op_running_ = false;
  Status failed_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::raft
