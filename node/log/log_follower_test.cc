// Proves the follower append (Log::append_as_follower): batches a leader wrote, fetched and
// appended to a follower, read back byte for byte with the same log end, epoch cache and producer
// state; a batch that does not start at the log end (gap or overlap) is refused with out_of_range
// and nothing after it is written; a trailing partial batch is ignored, a corrupt one refused; a
// follower that becomes leader deduplicates a producer's retry; the flush policy applies and what
// was fsynced survives a power loss; truncate_to then a different history yields that history,
// its epochs and its producers, also after a crash.
#include <gtest/gtest.h>

#include "node/log/log.h"
#include "node/log/log_test_util.h"

namespace gregor::log {
namespace {

using testing::LogHarness;
using testing::make_batch;

constexpr size_t kFetchBytes = 500;  // small fetches: several batches each, split mid-log

LogConfig small_segments() {
  LogConfig c;
  c.segment_bytes = 1024;
  c.index_interval_bytes = 128;
  return c;
}

// A leader history over three epochs, with two idempotent producers and plain batches.
void fill_leader(LogHarness& leader) {
  struct Write {
    int32_t epoch;
    int64_t producer_id;
    int32_t sequence;
    int count;
  };
  const Write writes[] = {{0, -1, -1, 3}, {0, 7, 0, 2},  {0, 7, 2, 4}, {2, 8, 0, 1},
                          {2, -1, -1, 5}, {2, 7, 6, 2},  {5, 8, 1, 3}, {5, -1, -1, 2},
                          {5, 7, 8, 1},   {5, -1, -1, 4}};
  int tag = 0;
  for (const Write& w : writes) {
    int16_t producer_epoch = w.producer_id >= 0 ? 0 : -1;
    ++tag;
    auto a = leader.append(
        make_batch(tag, w.count, 1000 + tag, 40, w.producer_id, producer_epoch, w.sequence),
        w.epoch);
    ASSERT_TRUE(a.info.ok()) << a.info.status();
  }
}

// Fetches from `leader` from the follower's log end until it caught up, as a replica fetcher does.
void replicate(LogHarness& leader, LogHarness& follower) {
  while (follower.log().log_end_offset() < leader.log().log_end_offset()) {
    int64_t from = follower.log().log_end_offset();
    auto r = leader.read(from, kFetchBytes);
    ASSERT_TRUE(r.ok()) << r.status();
    auto a = follower.append_as_follower(Bytes(r->batches.begin(), r->batches.end()));
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(a->first_offset, from);
    EXPECT_EQ(a->last_offset, follower.log().log_end_offset() - 1);
  }
}

void expect_same_log(LogHarness& a, LogHarness& b) {
  EXPECT_EQ(a.log().log_end_offset(), b.log().log_end_offset());
  EXPECT_EQ(a.read_all(0), b.read_all(0));
  EXPECT_EQ(a.log().epochs().entries(), b.log().epochs().entries());
  EXPECT_EQ(a.log().producers().producers(), b.log().producers().producers());
}

// Byte offsets of each whole batch in `records`.
std::vector<std::pair<size_t, size_t>> batch_spans(const Bytes& records) {
  std::vector<std::pair<size_t, size_t>> spans;
  BatchIterator it(records);
  size_t at = 0;
  while (auto b = it.next()) {
    spans.emplace_back(at, b->size());
    at += b->size();
  }
  return spans;
}

TEST(LogFollower, CopiesTheLeaderByteForByte) {
  LogHarness leader(small_segments());
  LogHarness follower(small_segments(), /*seed=*/2);
  ASSERT_TRUE(leader.open().ok());
  ASSERT_TRUE(follower.open().ok());
  fill_leader(leader);
  replicate(leader, follower);
  expect_same_log(leader, follower);
  ASSERT_EQ(follower.log().epochs().entries().size(), 3u);
  EXPECT_GT(follower.log().segment_count(), 1u) << "the follower rolled its own segments";
  EXPECT_EQ(follower.log().end_offset_for(2),
            (LeaderEpochCache::EpochEnd{2, follower.log().epochs().entries()[2].start_offset}));
  EXPECT_EQ(follower.log().end_offset_for(5),
            (LeaderEpochCache::EpochEnd{5, follower.log().log_end_offset()}));
  // A restart rebuilds the same state from the follower's own files.
  ASSERT_TRUE(follower.crash_and_reopen(false).ok());
  expect_same_log(leader, follower);
}

TEST(LogFollower, EmptyRecordsWriteNothing) {
  LogHarness h(LogConfig{});
  ASSERT_TRUE(h.open().ok());
  auto a = h.append_as_follower(Bytes{});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->first_offset, -1);
  EXPECT_EQ(a->last_offset, -1);
  EXPECT_EQ(h.log().log_end_offset(), 0);
}

TEST(LogFollower, GapOrOverlapIsRefusedAndNothingAfterItWritten) {
  LogHarness leader(LogConfig{});
  ASSERT_TRUE(leader.open().ok());
  fill_leader(leader);
  Bytes all = leader.read_all(0);
  auto spans = batch_spans(all);
  ASSERT_GE(spans.size(), 4u);
  auto slice = [&](size_t from, size_t to) {  // batches [from, to)
    return Bytes(all.begin() + static_cast<ptrdiff_t>(spans[from].first),
                 all.begin() + static_cast<ptrdiff_t>(spans[to - 1].first + spans[to - 1].second));
  };
  LogHarness follower(LogConfig{});
  ASSERT_TRUE(follower.open().ok());
  // Batch 1 without batch 0: a gap.
  auto gap = follower.append_as_follower(slice(1, 2));
  EXPECT_EQ(gap.code(), Errc::out_of_range) << gap.status();
  EXPECT_EQ(follower.log().log_end_offset(), 0);
  // Batch 0 then batch 2: batch 0 stays, batch 2 and what follows are not written.
  Bytes skip = slice(0, 1);
  Bytes rest = slice(2, 4);
  skip.insert(skip.end(), rest.begin(), rest.end());
  auto partial = follower.append_as_follower(skip);
  EXPECT_EQ(partial.code(), Errc::out_of_range) << partial.status();
  int64_t after_first = parse_batch_header(slice(0, 1)).value().last_offset() + 1;
  EXPECT_EQ(follower.log().log_end_offset(), after_first);
  // Batches 0 and 1 again: batch 0 overlaps the log end.
  auto overlap = follower.append_as_follower(slice(0, 2));
  EXPECT_EQ(overlap.code(), Errc::out_of_range) << overlap.status();
  EXPECT_EQ(follower.log().log_end_offset(), after_first);
  EXPECT_EQ(follower.read_all(0), slice(0, 1));
  EXPECT_EQ(follower.log().counters().append_errors, 3u);
  // The log is unharmed: the right fetch continues it.
  auto ok = follower.append_as_follower(slice(1, spans.size()));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(follower.read_all(0), all);
}

TEST(LogFollower, TrailingPartialBatchIsIgnored) {
  LogHarness leader(LogConfig{});
  ASSERT_TRUE(leader.open().ok());
  fill_leader(leader);
  Bytes all = leader.read_all(0);
  auto spans = batch_spans(all);
  ASSERT_GE(spans.size(), 3u);
  Bytes cut(all.begin(), all.begin() + static_cast<ptrdiff_t>(spans[2].first + 20));
  LogHarness follower(LogConfig{});
  ASSERT_TRUE(follower.open().ok());
  auto a = follower.append_as_follower(cut);
  ASSERT_TRUE(a.ok()) << a.status();
  int64_t end = parse_batch_header(ByteView(all).subspan(spans[1].first)).value().last_offset();
  EXPECT_EQ(a->first_offset, 0);
  EXPECT_EQ(a->last_offset, end);
  EXPECT_EQ(follower.log().log_end_offset(), end + 1);
  // Only a partial batch: success, nothing written.
  auto none = follower.append_as_follower(
      Bytes(all.begin() + static_cast<ptrdiff_t>(spans[2].first),
            all.begin() + static_cast<ptrdiff_t>(spans[2].first + spans[2].second - 1)));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->first_offset, -1);
  EXPECT_EQ(none->last_offset, -1);
  EXPECT_EQ(follower.log().log_end_offset(), end + 1);
}

TEST(LogFollower, CorruptBatchIsRefused) {
  LogHarness leader(LogConfig{});
  ASSERT_TRUE(leader.open().ok());
  fill_leader(leader);
  Bytes all = leader.read_all(0);
  auto spans = batch_spans(all);
  ASSERT_GE(spans.size(), 3u);
  Bytes bad = all;
  bad[spans[1].first + spans[1].second - 3] ^= 0x04;  // a record byte of batch 1
  LogHarness follower(LogConfig{});
  ASSERT_TRUE(follower.open().ok());
  auto a = follower.append_as_follower(bad);
  EXPECT_EQ(a.code(), Errc::corrupt) << a.status();
  EXPECT_EQ(follower.read_all(0), Bytes(all.begin(), all.begin() + spans[0].second));
  // A length field no batch can have ends the records as corrupt, too.
  Bytes junk(all.begin() + static_cast<ptrdiff_t>(spans[1].first), all.end());
  junk[8] = 0x7f;  // batchLength far past kBatchBytesMax
  EXPECT_EQ(follower.append_as_follower(junk).code(), Errc::corrupt);
  EXPECT_EQ(follower.log().log_end_offset(), static_cast<int64_t>(3));
}

TEST(LogFollower, FollowerTurnedLeaderDeduplicatesARetry) {
  LogHarness leader(LogConfig{});
  ASSERT_TRUE(leader.open().ok());
  auto first = leader.append(make_batch(1, 3, 1000, 16, /*pid=*/7, /*epoch=*/0, /*seq=*/0), 0);
  ASSERT_TRUE(first.info.ok());
  ASSERT_TRUE(leader.append(make_batch(2, 2, 1000, 16, 7, 0, 3), 0).info.ok());
  LogHarness follower(LogConfig{});
  ASSERT_TRUE(follower.open().ok());
  replicate(leader, follower);
  // The leader fails; the follower leads epoch 1 and the producer retries its first batch.
  auto retry = follower.append(make_batch(1, 3, 1000, 16, 7, 0, 0), /*epoch=*/1);
  ASSERT_TRUE(retry.info.ok()) << retry.info.status();
  EXPECT_TRUE(retry.info->duplicate);
  EXPECT_EQ(retry.info->first_offset, first.info->first_offset);
  EXPECT_EQ(retry.info->last_offset, first.info->last_offset);
  auto next = follower.append(make_batch(3, 1, 1000, 16, 7, 0, 5), 1);
  ASSERT_TRUE(next.info.ok());
  EXPECT_FALSE(next.info->duplicate);
  EXPECT_EQ(next.info->first_offset, 5);
  auto gap = follower.append(make_batch(4, 1, 1000, 16, 7, 0, 9), 1);
  ASSERT_TRUE(gap.error.has_value());
  EXPECT_EQ(gap.error->code, kafka::ErrorCode::out_of_order_sequence_number);
  EXPECT_EQ(follower.log().epochs().entries(), (std::vector<EpochEntry>{{0, 0}, {1, 5}}));
}

TEST(LogFollower, FlushMessagesMakesEachFetchDurable) {
  LogConfig c = small_segments();
  c.flush_messages = 1;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    LogHarness leader(small_segments(), seed);
    LogHarness follower(c, seed);
    ASSERT_TRUE(leader.open().ok());
    ASSERT_TRUE(follower.open().ok());
    fill_leader(leader);
    replicate(leader, follower);
    EXPECT_EQ(follower.log().recovery_point(), follower.log().log_end_offset());
    ASSERT_TRUE(follower.crash_and_reopen(true).ok());
    expect_same_log(leader, follower);
    EXPECT_EQ(follower.log().recovery_report().truncated_bytes, 0u) << "seed " << seed;
  }
}

TEST(LogFollower, PowerLossKeepsWhatWasFlushed) {
  uint64_t lost = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    LogHarness leader(small_segments(), seed);
    LogHarness follower(small_segments(), seed);  // flush.messages: never by count
    ASSERT_TRUE(leader.open().ok());
    ASSERT_TRUE(follower.open().ok());
    fill_leader(leader);
    auto r = leader.read(0, kFetchBytes);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(follower.append_as_follower(Bytes(r->batches.begin(), r->batches.end())).ok());
    ASSERT_TRUE(follower.flush().ok());
    int64_t flushed = follower.log().log_end_offset();
    replicate(leader, follower);
    ASSERT_TRUE(follower.crash_and_reopen(true).ok());
    int64_t end = follower.log().log_end_offset();
    EXPECT_GE(end, flushed) << "seed " << seed;
    lost += static_cast<uint64_t>(leader.log().log_end_offset() - end);
    // What survived is a prefix of the leader's log, with the epochs of that prefix.
    Bytes kept = follower.read_all(0);
    Bytes all = leader.read_all(0);
    ASSERT_LE(kept.size(), all.size());
    EXPECT_TRUE(std::equal(kept.begin(), kept.end(), all.begin())) << "seed " << seed;
    for (const EpochEntry& e : follower.log().epochs().entries()) {
      EXPECT_LT(e.start_offset, end);
      EXPECT_EQ(leader.log().epochs().start_offset(e.epoch), e.start_offset);
    }
    // Fetching again from the recovered end completes the copy.
    replicate(leader, follower);
    expect_same_log(leader, follower);
  }
  EXPECT_GT(lost, 0u) << "no seed lost unflushed data: the test shows nothing";
}

TEST(LogFollower, FlushMsFlushesAFollowerToo) {
  LogConfig c;
  c.flush_ms = milliseconds(500);
  LogHarness leader(LogConfig{});
  LogHarness follower(c);
  ASSERT_TRUE(leader.open().ok());
  ASSERT_TRUE(follower.open().ok());
  fill_leader(leader);
  replicate(leader, follower);
  EXPECT_LT(follower.log().recovery_point(), follower.log().log_end_offset());
  follower.world().run_for(seconds(1));  // no append: the flush.ms timer fsyncs
  EXPECT_EQ(follower.log().recovery_point(), follower.log().log_end_offset());
  ASSERT_TRUE(follower.crash_and_reopen(true).ok());
  expect_same_log(leader, follower);
}

// The follower diverged: its tail came from an old leader. It truncates to where the new
// leader's history differs and fetches that history.
TEST(LogFollower, TruncateThenANewHistory) {
  LogHarness old_leader(small_segments());
  LogHarness new_leader(small_segments(), 3);
  LogHarness follower(small_segments(), 4);
  ASSERT_TRUE(old_leader.open().ok());
  ASSERT_TRUE(new_leader.open().ok());
  ASSERT_TRUE(follower.open().ok());
  fill_leader(old_leader);
  replicate(old_leader, follower);
  ASSERT_TRUE(follower.flush().ok());  // the old epochs are checkpointed
  // The new leader has the old history up to epoch 5, then leads epoch 6.
  auto five = old_leader.log().epochs().start_offset(5);
  ASSERT_TRUE(five.has_value());
  while (new_leader.log().log_end_offset() < *five) {
    auto r = old_leader.read(new_leader.log().log_end_offset(), 1);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(new_leader.append_as_follower(Bytes(r->batches.begin(), r->batches.end())).ok());
  }
  auto shared_producers = new_leader.log().producers().producers();
  ASSERT_TRUE(new_leader.append(make_batch(50, 6, 5000, 40, /*pid=*/9, 0, 0), 6).info.ok());
  ASSERT_TRUE(new_leader.append(make_batch(51, 2, 5000), 6).info.ok());
  // OffsetsForLeaderEpoch(5) on the new leader says where epoch 5 ends there.
  LeaderEpochCache::EpochEnd diverge = new_leader.log().end_offset_for(5);
  EXPECT_EQ(diverge, (LeaderEpochCache::EpochEnd{2, *five}));
  ASSERT_TRUE(follower.truncate_to(diverge.end_offset).ok());
  // Epochs 0 and 2 remain (epoch 5 started at the cut); epoch 6 is yet to be fetched.
  std::vector<EpochEntry> shared = new_leader.log().epochs().entries();
  shared.pop_back();
  EXPECT_EQ(follower.log().log_end_offset(), *five);
  EXPECT_EQ(follower.log().epochs().entries(), shared);
  EXPECT_EQ(follower.log().producers().producers(), shared_producers);
  // The truncation is durable: a power loss now keeps it, epochs included.
  ASSERT_TRUE(follower.crash_and_reopen(true).ok());
  EXPECT_EQ(follower.log().log_end_offset(), *five);
  EXPECT_EQ(follower.log().epochs().entries(), shared);
  replicate(new_leader, follower);
  expect_same_log(new_leader, follower);
  ASSERT_EQ(follower.log().epochs().latest_entry(), (EpochEntry{6, *five}));
  ASSERT_TRUE(follower.crash_and_reopen(false).ok());
  expect_same_log(new_leader, follower);
}

// Producer snapshots of the cut history must not describe the new one after a restart.
// A replica that led an epoch without appending in it keeps that epoch's entry at its log end.
// As a follower, its last epoch is then one the new leader never had, and every fetch would be
// answered a divergence at its log end (standard.toml seed 134: a follower stuck for the whole
// run). A truncation to the log end drops the entry, durably, as Kafka's truncateTo does.
TEST(LogFollower, TruncateToTheLogEndDropsAnEpochWithoutRecords) {
  LogHarness h(small_segments());
  ASSERT_TRUE(h.open().ok());
  ASSERT_TRUE(h.append(make_batch(1, 3, 1000), 2).info.ok());
  ASSERT_TRUE(h.flush().ok());
  ASSERT_EQ(h.log().epochs().latest_entry(), (EpochEntry{2, 0}));
  h.log().assign_leader_epoch(4);  // led epoch 4, appended nothing
  h.run_until([&] { return h.log().epochs().latest_epoch() == 4; });
  ASSERT_EQ(h.log().epochs().latest_entry(), (EpochEntry{4, 3}));
  ASSERT_TRUE(h.truncate_to(3).ok());
  EXPECT_EQ(h.log().log_end_offset(), 3);
  EXPECT_EQ(h.log().epochs().latest_entry(), (EpochEntry{2, 0}));
  ASSERT_TRUE(h.crash_and_reopen(true).ok());  // a power loss keeps the cut
  EXPECT_EQ(h.log().log_end_offset(), 3);
  EXPECT_EQ(h.log().epochs().latest_entry(), (EpochEntry{2, 0}));
}

TEST(LogFollower, TruncateDropsSnapshotsOfTheCutHistory) {
  LogConfig c;
  c.segment_bytes = 200;  // one batch per segment: a producer snapshot at every batch
  LogHarness old_leader(c);
  LogHarness new_leader(c, 3);
  LogHarness follower(c, 4);
  ASSERT_TRUE(old_leader.open().ok());
  ASSERT_TRUE(new_leader.open().ok());
  ASSERT_TRUE(follower.open().ok());
  for (int seq = 0; seq < 8; ++seq) {
    ASSERT_TRUE(old_leader.append(make_batch(seq, 1, 1000, 100, /*pid=*/7, 0, seq), 0).info.ok());
  }
  replicate(old_leader, follower);
  // The new leader kept two batches of producer 7, then producer 9 wrote 20 records in epoch 1:
  // one batch that reaches past the cut history's snapshots.
  auto head = old_leader.read(0, 1);
  ASSERT_TRUE(
      new_leader.append_as_follower(Bytes(head->batches.begin(), head->batches.end())).ok());
  head = old_leader.read(1, 1);
  ASSERT_TRUE(
      new_leader.append_as_follower(Bytes(head->batches.begin(), head->batches.end())).ok());
  ASSERT_TRUE(new_leader.append(make_batch(9, 20, 1000, 4, /*pid=*/9, 0, 0), 1).info.ok());
  ASSERT_TRUE(follower.truncate_to(2).ok());
  replicate(new_leader, follower);
  expect_same_log(new_leader, follower);
  ASSERT_TRUE(follower.crash_and_reopen(false).ok());
  expect_same_log(new_leader, follower);
  ASSERT_NE(follower.log().producers().find(9), nullptr);
  EXPECT_EQ(follower.log().producers().find(7)->batches.back().last_offset, 1);
}

}  // namespace
}  // namespace gregor::log
