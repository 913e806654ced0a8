// LeaderEpochCache: the (leader epoch -> start offset) history of one partition replica, as
// Kafka's LeaderEpochFileCache: the start offset of an epoch is the offset of the first record
// written in it. Followers use it to find where their log diverges from the leader's
// (OffsetsForLeaderEpoch, KIP-101 / KIP-279) instead of truncating to the high watermark.
//
// Invariant: entries are sorted with epochs and start offsets both strictly increasing.
//
// Persistence is explicit: Kafka rewrites its checkpoint on every change; here the owner calls
// write_to() when the cache changed (the mutators return whether it did) and must wait for its
// completion before relying on it after a crash. File contents: CheckpointFile entries
// "<epoch> <start_offset>" (key = the epoch in decimal), Kafka's leader-epoch-checkpoint lines.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "base/status.h"
#include "disk/disk.h"
#include "node/log/checkpoint_file.h"

namespace gregor::log {

// Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET (OffsetsForLeaderEpoch).
inline constexpr int32_t kUndefinedEpoch = -1;
inline constexpr int64_t kUndefinedEpochOffset = -1;

struct EpochEntry {
  int32_t epoch;
  int64_t start_offset;
  bool operator==(const EpochEntry&) const = default;
};

class LeaderEpochCache {
 public:
  struct EpochEnd {
    int32_t epoch;
    int64_t end_offset;
    bool operator==(const EpochEnd&) const = default;
  };

  LeaderEpochCache() = default;

  // Records that `epoch` starts at `start_offset`, with Kafka's rules (LeaderEpochFileCache
  // .assign, Kafka 2.1+):
  //  - same epoch as the latest and start_offset >= its start: ignored (the epoch already
  //    started earlier; this is every later batch of the current epoch);
  //  - otherwise every entry at the end with epoch >= `epoch` or start offset >= `start_offset`
  //    is removed (they conflict with the new entry and would break the invariant), and the new
  //    entry is appended. So a lower epoch or a lower offset does not get ignored: it truncates
  //    the conflicting tail, as Kafka does.
  // epoch >= 0 and start_offset >= 0 are asserted (Kafka throws IllegalArgumentException):
  // callers skip batches without an epoch (kUndefinedEpoch). Returns whether the cache changed.
  bool assign(int32_t epoch, int64_t start_offset);

  bool empty() const { return entries_.empty(); }
  const std::vector<EpochEntry>& entries() const { return entries_; }
  std::optional<EpochEntry> latest_entry() const;
  std::optional<EpochEntry> earliest_entry() const;
  std::optional<int32_t> latest_epoch() const;
  // The start offset of exactly this epoch, if cached.
  std::optional<int64_t> start_offset(int32_t epoch) const;
  // The epoch the record at `offset` was written in: that of the last entry whose start offset
  // is <= offset; nullopt if offset is below the first entry (or the cache is empty).
  std::optional<int32_t> epoch_for_offset(int64_t offset) const;

  // OffsetsForLeaderEpoch (KIP-279), as Kafka's endOffsetFor:
  //  - requested == kUndefinedEpoch, or above every cached epoch (includes an empty cache):
  //    {kUndefinedEpoch, kUndefinedEpochOffset};
  //  - requested == the latest epoch: {requested, log_end_offset};
  //  - otherwise, with F the largest cached epoch <= requested and H the smallest > requested:
  //    {F.epoch, H.start_offset};
  //  - requested below the first cached epoch (no F): {requested, first entry's start offset}.
  //    NOTE: Kafka's doc comment says UNDEFINED here, but its code (since KIP-279, 2.0) answers
  //    this; we follow the code: the follower truncates to the leader's earliest epoch start.
  EpochEnd end_offset_for(int32_t requested_epoch, int64_t log_end_offset) const;

  // The log was truncated to end_offset: removes every entry with start offset >= end_offset.
  // end_offset < 0 is ignored. Returns whether the cache changed. As Kafka's truncateFromEnd.
  bool truncate_from_end(int64_t end_offset);
  // The log start moved to start_offset: removes every entry with start offset <= start_offset
  // and, if any was removed, re-adds the last removed epoch starting at start_offset (an entry
  // starting exactly at start_offset is kept as it is). Returns whether the cache changed. As
  // Kafka's truncateFromStart.
  bool truncate_from_start(int64_t start_offset);
  void clear() { entries_.clear(); }

  // Persistence.
  CheckpointEntries to_checkpoint() const;
  // Errc::corrupt unless every key is a canonical int32 epoch >= 0, every start offset >= 0,
  // and both strictly increase.
  static Result<LeaderEpochCache> from_checkpoint(const CheckpointEntries& entries);
  // Writes the current entries through `file` (see CheckpointFile::write for done's Status).
  void write_to(CheckpointFile& file, disk::StatusFn done) const;
  // Reads a cache through `file`: not_found if the file does not exist (a new replica: start
  // empty), corrupt if it is damaged, other disk errors as reported.
  static void read_from(CheckpointFile& file, std::function<void(Result<LeaderEpochCache>)> done);

 private:
  std::vector<EpochEntry> entries_;
};

}  // namespace gregor::log
