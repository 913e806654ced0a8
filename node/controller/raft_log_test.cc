// RaftLog: the KIP-279 end-offset lookup that both sides of a fetch rely on, across a snapshot.
#include "node/controller/raft_log.h"

#include <gtest/gtest.h>

namespace gregor::raft {
namespace {

RaftLog log_with_epochs(const std::vector<int32_t>& epochs) {
  RaftLog log;
  for (int32_t e : epochs) log.append(Entry{log.end_offset(), e, EntryKind::kData, {}});
  return log;
}

TEST(RaftLog, EndOffsetForEpoch) {
  RaftLog log = log_with_epochs({1, 1, 3, 3, 3, 6});  // epoch 1 at [0,2), 3 at [2,5), 6 at [5,6)
  EXPECT_EQ(log.end_offset_for_epoch(0), (OffsetAndEpoch{0, 0}));
  EXPECT_EQ(log.end_offset_for_epoch(1), (OffsetAndEpoch{2, 1}));
  EXPECT_EQ(log.end_offset_for_epoch(2), (OffsetAndEpoch{2, 1}));  // never had 2: 1's end
  EXPECT_EQ(log.end_offset_for_epoch(3), (OffsetAndEpoch{5, 3}));
  EXPECT_EQ(log.end_offset_for_epoch(5), (OffsetAndEpoch{5, 3}));
  EXPECT_EQ(log.end_offset_for_epoch(6), (OffsetAndEpoch{6, 6}));
  EXPECT_EQ(log.end_offset_for_epoch(9), (OffsetAndEpoch{6, 6}));
}

TEST(RaftLog, CompactKeepsTheLookupAboveTheSnapshot) {
  RaftLog log = log_with_epochs({1, 1, 3, 3, 3, 6});
  log.compact(Snapshot{{3, 3}, to_bytes("state")});
  EXPECT_EQ(log.start_offset(), 3);
  EXPECT_EQ(log.end_offset(), 6);
  EXPECT_EQ(log.epoch_at(2), 3);                         // the snapshot's epoch
  EXPECT_EQ(log.end_offset_for_epoch(1), std::nullopt);  // older than the snapshot
  EXPECT_EQ(log.end_offset_for_epoch(3), (OffsetAndEpoch{5, 3}));
  EXPECT_EQ(log.read(3, 2).size(), 2u);
  log.truncate_to(3);
  EXPECT_EQ(log.last_epoch(), 3);
  EXPECT_EQ(log.end_offset_for_epoch(4), (OffsetAndEpoch{3, 3}));
}

TEST(RaftLog, InstallReplacesEverything) {
  RaftLog log = log_with_epochs({1, 2});
  log.install(Snapshot{{10, 4}, {}});
  EXPECT_EQ(log.start_offset(), 10);
  EXPECT_EQ(log.end_offset(), 10);
  EXPECT_EQ(log.last_epoch(), 4);
  log.append(Entry{10, 5, EntryKind::kData, {}});
  EXPECT_EQ(log.end_offset_for_epoch(4), (OffsetAndEpoch{10, 4}));
}

}  // namespace
}  // namespace gregor::raft
