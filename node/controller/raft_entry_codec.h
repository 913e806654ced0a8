// One Raft entry (raft_types.h) as one Kafka record batch v2, the form the metadata log has both
// on disk (RaftStorage's __cluster_metadata-0) and on the wire (a Fetch response's records are
// these batches concatenated, raft_wire.h), as in KRaft:
//   - the batch's base offset is the entry's offset and its partition leader epoch the entry's
//     epoch (so the partition log's leader-epoch cache answers KIP-279 questions);
//   - kData: a normal batch with one record, null key, value = the payload;
//   - kLeaderChange: a control batch with one record whose key is Kafka's control key (version 0,
//     type 2 LEADER_CHANGE) and whose value is the payload (the Raft core sends none yet; Kafka
//     puts a LeaderChangeMessage there).
// Decoders never assert: bytes come from disk or from a peer. Errors are Errc::corrupt (framing,
// CRC, a batch that is not exactly one entry) or Errc::invalid_argument (well-formed batches that
// do not make a log: offsets not contiguous, epochs decreasing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "node/controller/raft_types.h"

namespace gregor::raft {

// Kafka's RecordBatch.NO_TIMESTAMP: entries carry no time of their own, so a batch built without
// a clock (a Fetch answer) says "none".
inline constexpr int64_t kEntryNoTimestamp = -1;

// The batch of one entry. Asserts the entry fits a batch (the host bounds payloads).
Bytes encode_entry_batch(const Entry& entry, int64_t timestamp_ms);
// Exactly one batch holding exactly one entry.
Result<Entry> decode_entry_batch(ByteView batch);

// Entries as concatenated batches (a Fetch response's records field).
Bytes encode_entry_batches(const std::vector<Entry>& entries, int64_t timestamp_ms);
// Decodes concatenated batches, every byte of them (a trailing partial batch is corrupt). The
// entries must be contiguous from `first_offset` with non-decreasing epochs.
Result<std::vector<Entry>> decode_entry_batches(ByteView bytes, int64_t first_offset);

}  // namespace gregor::raft
