// Proves the partition log's contract on the simulated disk: appends get contiguous offsets and
// read back as whole batches (at least one even past max_bytes, across segment rolls); truncation,
// log start advances and retention remove exactly what they should; timestamp lookup finds the
// first record at or after a time; idempotent retries are answered with their original offsets;
// flushed data survives power loss; recovery cuts a torn or corrupt tail and reports it, never
// serves a batch whose CRC fails, and refuses a directory with a foreign file, naming it.
#include "node/log/log.h"

#include <gtest/gtest.h>

#include "node/log/log_test_util.h"

namespace gregor::log {
namespace {

using testing::LogHarness;
using testing::make_batch;
using testing::values_of;

LogConfig small_segments() {
  LogConfig c;
  c.segment_bytes = 2048;
  c.index_interval_bytes = 256;
  return c;
}

TEST(Log, AppendAssignsContiguousOffsetsAndReadsBack) {
  LogHarness h(LogConfig{});
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 10; ++i) {
    auto a = h.append(make_batch(i, 3));
    ASSERT_TRUE(a.info.ok()) << a.info.status();
    EXPECT_EQ(a.info->first_offset, i * 3);
    EXPECT_EQ(a.info->last_offset, i * 3 + 2);
  }
  EXPECT_EQ(h.log().log_end_offset(), 30);
  auto r = h.read(7);
  ASSERT_TRUE(r.ok()) << r.status();
  auto values = values_of(r->batches);
  ASSERT_FALSE(values.empty());
  EXPECT_EQ(values.front().first, 6);  // the whole batch holding offset 7
  EXPECT_EQ(values.back().first, 29);
  EXPECT_EQ(values[1].second.substr(0, 3), "2:1");
  EXPECT_TRUE(h.read(30)->batches.empty());
  EXPECT_EQ(h.read(31).code(), Errc::out_of_range);
}

TEST(Log, ReadReturnsAtLeastOneBatchEvenPastMaxBytes) {
  LogHarness h(LogConfig{});
  ASSERT_TRUE(h.open().ok());
  ASSERT_TRUE(h.append(make_batch(1, 50, 1000, 2000)).info.ok());  // ~100 KB batch
  ASSERT_TRUE(h.append(make_batch(2, 1)).info.ok());
  auto r = h.read(0, 100);
  ASSERT_TRUE(r.ok()) << r.status();
  auto values = values_of(r->batches);
  EXPECT_EQ(values.size(), 50u);  // exactly the first batch
}

TEST(Log, RollsSegmentsAndReadsAcrossThem) {
  LogHarness h(small_segments());
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(h.append(make_batch(i, 2)).info.ok());
  EXPECT_GE(h.log().segment_count(), 3u);  // ~6.6 KB in 2 KB segments
  int64_t next = 0;
  while (next < h.log().log_end_offset()) {
    auto r = h.read(next, 300);
    ASSERT_TRUE(r.ok()) << r.status();
    auto values = values_of(r->batches);
    ASSERT_FALSE(values.empty());
    for (auto& [offset, value] : values) {
      if (offset < next) continue;
      EXPECT_EQ(offset, next);
      EXPECT_EQ(value.substr(0, value.find('.')),
                std::to_string(offset / 2) + ":" + std::to_string(offset % 2));
      ++next;
    }
  }
}

TEST(Log, TruncateToRemovesLaterBatchesAndSegments) {
  LogHarness h(small_segments());
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(h.append(make_batch(i, 2)).info.ok());
  size_t segments = h.log().segment_count();
  ASSERT_TRUE(h.truncate_to(11).ok());
  EXPECT_EQ(h.log().log_end_offset(), 10);  // the batch 10-11 straddles 11 and goes whole
  EXPECT_LT(h.log().segment_count(), segments);
  EXPECT_EQ(h.read(11).code(), Errc::out_of_range);
  auto a = h.append(make_batch(99, 1));
  ASSERT_TRUE(a.info.ok());
  EXPECT_EQ(a.info->first_offset, 10);
  ASSERT_TRUE(h.crash_and_reopen(false).ok());
  EXPECT_EQ(h.log().log_end_offset(), 11);
  auto values = values_of(h.read(10)->batches);
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0].second.substr(0, 4), "99:0");
}

TEST(Log, RetentionBySizeDeletesOldSegmentsAndAdvancesStart) {
  LogConfig c = small_segments();
  c.retention_bytes = 4096;
  LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 80; ++i) ASSERT_TRUE(h.append(make_batch(i, 2)).info.ok());
  uint64_t before = h.log().size_bytes();
  ASSERT_TRUE(h.retention().ok());
  EXPECT_LE(h.log().size_bytes(), 4096u + c.segment_bytes);
  EXPECT_LT(h.log().size_bytes(), before);
  EXPECT_GT(h.log().log_start_offset(), 0);
  EXPECT_EQ(h.read(0).code(), Errc::out_of_range);
  EXPECT_TRUE(h.read(h.log().log_start_offset()).ok());
}

TEST(Log, RetentionByTimeUsesBatchMaxTimestamps) {
  LogConfig c = small_segments();
  c.retention_ms = 60'000;
  LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  int64_t now_ms = to_ms(h.clock().wall_now());
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(h.append(make_batch(i, 2, now_ms - 3'600'000)).info.ok());
  for (int i = 30; i < 40; ++i) ASSERT_TRUE(h.append(make_batch(i, 2, now_ms)).info.ok());
  ASSERT_TRUE(h.retention().ok());
  // Every segment holding only hour-old batches is gone; the fresh ones stay.
  EXPECT_GT(h.log().log_start_offset(), 0);
  EXPECT_LE(h.log().log_start_offset(), 60);
  EXPECT_TRUE(h.read(60).ok());
}

TEST(Log, AdvanceLogStartHidesEarlierOffsets) {
  LogHarness h(small_segments());
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(h.append(make_batch(i, 2)).info.ok());
  h.log().set_high_watermark(80);
  ASSERT_TRUE(h.advance_start(33).ok());
  EXPECT_EQ(h.log().log_start_offset(), 33);
  EXPECT_EQ(h.read(32).code(), Errc::out_of_range);
  EXPECT_TRUE(h.read(33).ok());
  ASSERT_TRUE(h.crash_and_reopen(false).ok());
  EXPECT_EQ(h.log().log_start_offset(), 33);
}

TEST(Log, OffsetForTimestampFindsFirstRecordAtOrAfter) {
  LogHarness h(small_segments());
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(h.append(make_batch(i, 2, 1000 + i * 10)).info.ok());
  auto at = [&](int64_t ts) {
    std::optional<Result<std::optional<TimestampOffset>>> got;
    h.log().offset_for_timestamp(ts, [&](auto r) { got = std::move(r); });
    h.world().run_until([&] { return got.has_value(); }, h.world().now() + seconds(10));
    auto found = got->value();
    return found ? std::optional<int64_t>(found->offset) : std::nullopt;
  };
  std::optional<Result<std::optional<TimestampOffset>>> exact;
  h.log().offset_for_timestamp(1002, [&](auto r) { exact = std::move(r); });
  h.world().run_until([&] { return exact.has_value(); }, h.world().now() + seconds(10));
  ASSERT_TRUE(exact && exact->ok() && exact->value());
  EXPECT_EQ(*exact->value(), (TimestampOffset{1010, 2})) << "the found record's own timestamp";
  EXPECT_EQ(at(0), 0);
  EXPECT_EQ(at(1000), 0);
  EXPECT_EQ(at(1001), 1);   // batch 0 holds timestamps 1000 and 1001
  EXPECT_EQ(at(1002), 2);   // the next batch starts at 1010
  EXPECT_EQ(at(1150), 30);  // batch 15 = 1150
  EXPECT_EQ(at(99999), std::nullopt);
}

TEST(Log, IdempotentRetryGetsOriginalOffsets) {
  LogHarness h(LogConfig{});
  ASSERT_TRUE(h.open().ok());
  auto first = h.append(make_batch(1, 3, 1000, 16, /*pid=*/7, /*epoch=*/0, /*seq=*/0));
  ASSERT_TRUE(first.info.ok());
  ASSERT_TRUE(h.append(make_batch(2, 2, 1000, 16, 7, 0, 3)).info.ok());
  auto retry = h.append(make_batch(1, 3, 1000, 16, 7, 0, 0));
  ASSERT_TRUE(retry.info.ok());
  EXPECT_TRUE(retry.info->duplicate);
  EXPECT_EQ(retry.info->first_offset, 0);
  EXPECT_EQ(h.log().log_end_offset(), 5);
  auto gap = h.append(make_batch(3, 1, 1000, 16, 7, 0, 9));
  ASSERT_TRUE(gap.error.has_value());
  EXPECT_EQ(gap.error->code, kafka::ErrorCode::out_of_order_sequence_number);
  // Producer state is rebuilt on recovery: the retry is still a duplicate after a restart.
  ASSERT_TRUE(h.crash_and_reopen(false).ok());
  auto again = h.append(make_batch(2, 2, 1000, 16, 7, 0, 3));
  ASSERT_TRUE(again.info.ok());
  EXPECT_TRUE(again.info->duplicate);
  EXPECT_EQ(again.info->first_offset, 3);
}

// Kafka forgets a producer whose last batch falls below the log start; what a snapshot keeps is
// the dedupe window: after the segments holding a producer's older batches are deleted, a retry
// of one of them is still recognised as a duplicate after a restart.
TEST(Log, SnapshotKeepsDedupeWindowPastDeletedSegments) {
  LogConfig c;
  c.segment_bytes = 100;  // one batch per segment
  LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  for (int seq = 0; seq < 5; ++seq) {
    ASSERT_TRUE(h.append(make_batch(seq, 1, 1000, 16, /*pid=*/7, /*epoch=*/0, seq)).info.ok());
  }
  h.log().set_high_watermark(5);
  ASSERT_TRUE(h.advance_start(4).ok());  // segments of sequences 0..3 are deleted
  ASSERT_EQ(h.log().segment_count(), 1u);
  ASSERT_TRUE(h.close().ok());
  ASSERT_TRUE(h.crash_and_reopen(false).ok());
  auto retry = h.append(make_batch(1, 1, 1000, 16, 7, 0, 1));
  ASSERT_TRUE(retry.info.ok()) << (retry.error ? kafka::error_name(retry.error->code) : "");
  EXPECT_TRUE(retry.info->duplicate) << "the window came back from the snapshot";
  EXPECT_EQ(retry.info->first_offset, 1);
  auto next = h.append(make_batch(5, 1, 1000, 16, 7, 0, 5));
  ASSERT_TRUE(next.info.ok());
  EXPECT_FALSE(next.info->duplicate);
}

TEST(Log, DamagedSnapshotFallsBackToTheLog) {
  LogHarness h(LogConfig{});
  ASSERT_TRUE(h.open().ok());
  ASSERT_TRUE(h.append(make_batch(1, 3, 1000, 16, 7, 0, 0)).info.ok());
  ASSERT_TRUE(h.close().ok());  // writes 00000000000000000003.snapshot
  h.crash(false);
  ASSERT_TRUE(h.flip_byte(h.dir() + "/00000000000000000003.snapshot", 9).ok());
  ASSERT_TRUE(h.open().ok());
  bool noted = false;
  for (auto& n : h.log().recovery_report().notes) noted |= n.find(".snapshot") != std::string::npos;
  EXPECT_TRUE(noted);
  auto retry = h.append(make_batch(1, 3, 1000, 16, 7, 0, 0));  // rebuilt from the log
  ASSERT_TRUE(retry.info.ok());
  EXPECT_TRUE(retry.info->duplicate);
}

TEST(Log, LogAppendTimeRewritesTheBatchTimestamp) {
  LogConfig c;
  c.message_timestamp_type = TimestampType::log_append_time;
  LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  auto a = h.append(make_batch(1, 3, /*timestamp=*/5));
  ASSERT_TRUE(a.info.ok());
  int64_t now_ms = to_ms(h.clock().wall_now());
  EXPECT_GT(a.info->log_append_time, 0);
  EXPECT_LE(a.info->log_append_time, now_ms);
  auto r = h.read(0);
  ASSERT_TRUE(r.ok());
  auto header = parse_batch_header(r->batches).value();
  EXPECT_EQ(header.timestamp_type(), TimestampType::log_append_time);
  EXPECT_EQ(header.max_timestamp, a.info->log_append_time);
  EXPECT_TRUE(validate_batch(r->batches, Validation::stored).ok()) << "CRC recomputed";
}

TEST(Log, FlushMsFlushesWithoutFurtherAppends) {
  LogConfig c;
  c.flush_ms = milliseconds(500);
  LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  h.world().run_for(seconds(1));  // the last flush was long ago: the first append flushes
  ASSERT_TRUE(h.append(make_batch(1, 2)).info.ok());
  ASSERT_TRUE(h.append(make_batch(2, 2)).info.ok());  // within flush.ms: not flushed yet
  EXPECT_EQ(h.log().recovery_point(), 2);
  h.world().run_for(seconds(1));  // no append: the timer flushes
  EXPECT_EQ(h.log().recovery_point(), 4);
  ASSERT_TRUE(h.crash_and_reopen(true).ok());
  EXPECT_EQ(h.log().log_end_offset(), 4);
}

TEST(Log, BadConfigIsRefusedWithTheKafkaKey) {
  LogConfig c;
  c.segment_bytes = uint64_t{1} << 40;
  LogHarness h(c);
  Status s = h.open();
  EXPECT_EQ(s.code(), Errc::invalid_argument);
  EXPECT_NE(s.message().find("segment.bytes"), std::string::npos) << s;
  LogConfig d;
  d.cleanup_delete = false;
  LogHarness h2(d);
  EXPECT_NE(h2.open().message().find("cleanup.policy"), std::string::npos);
}

TEST(Log, MalformedBatchIsTypedErrorNotCrash) {
  LogHarness h(LogConfig{});
  ASSERT_TRUE(h.open().ok());
  Bytes b = make_batch(1, 3);
  b[40] ^= 0x10;  // inside the CRC-covered region
  auto a = h.append(b);
  ASSERT_TRUE(a.error.has_value());
  EXPECT_EQ(a.error->code, kafka::ErrorCode::corrupt_message);
  auto junk = h.append(Bytes{1, 2, 3});
  ASSERT_TRUE(junk.error.has_value());
  EXPECT_EQ(junk.error->code, kafka::ErrorCode::corrupt_message);
  EXPECT_EQ(h.log().log_end_offset(), 0);
}

TEST(Log, FlushedDataSurvivesPowerLoss) {
  LogConfig c = small_segments();
  c.flush_messages = 1;  // fsync every append
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    LogHarness h(c, seed);
    ASSERT_TRUE(h.open().ok());
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(h.append(make_batch(i, 2)).info.ok());
    ASSERT_TRUE(h.crash_and_reopen(true).ok());
    EXPECT_EQ(h.log().log_end_offset(), 60) << "seed " << seed;
    EXPECT_EQ(h.log().recovery_report().truncated_bytes, 0u);
  }
}

TEST(Log, RecoveryCutsTornTailAndReportsIt) {
  uint64_t cut_seen = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    LogHarness h(LogConfig{}, seed);
    ASSERT_TRUE(h.open().ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.append(make_batch(i, 2)).info.ok());
    ASSERT_TRUE(h.flush().ok());
    for (int i = 10; i < 20; ++i) ASSERT_TRUE(h.append(make_batch(i, 2)).info.ok());
    ASSERT_TRUE(h.crash_and_reopen(true).ok());
    int64_t leo = h.log().log_end_offset();
    EXPECT_GE(leo, 20) << "flushed data lost, seed " << seed;
    EXPECT_LE(leo, 40);
    EXPECT_EQ(leo % 2, 0) << "a partial batch was kept";
    cut_seen += h.log().recovery_report().truncated_bytes;
    // Whatever survived reads back intact and in order.
    auto values = values_of(h.read(0)->batches);
    for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i].first, static_cast<int64_t>(i));
  }
  EXPECT_GT(cut_seen, 0u) << "no seed tore a write: the test shows nothing";
}

TEST(Log, CorruptBatchPastRecoveryPointIsCutAndReported) {
  LogHarness h(LogConfig{});
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.append(make_batch(i, 2)).info.ok());
  ASSERT_TRUE(h.flush().ok());  // recovery point = 20
  for (int i = 10; i < 20; ++i) ASSERT_TRUE(h.append(make_batch(i, 2)).info.ok());
  h.crash(false);  // page cache kept: every byte is still there
  std::string path = h.dir() + "/00000000000000000000.log";
  uint64_t size = h.disk().current_contents(path)->size();
  uint64_t batch = size / 20;                                   // batches are the same size
  ASSERT_TRUE(h.flip_byte(path, 15 * batch + batch - 5).ok());  // a record byte of batch 15
  ASSERT_TRUE(h.open().ok());
  EXPECT_EQ(h.log().log_end_offset(), 30);  // batches 15..19 are gone
  const RecoveryReport& report = h.log().recovery_report();
  EXPECT_EQ(report.truncated_bytes, 5 * batch);
  EXPECT_EQ(report.truncated_from_offset, 30);
  ASSERT_FALSE(report.notes.empty());
  EXPECT_NE(report.notes.back().find("00000000000000000000.log"), std::string::npos);
  EXPECT_EQ(values_of(h.read(0)->batches).size(), 30u);
}

TEST(Log, CorruptFlushedBatchIsNeverServed) {
  LogConfig c = small_segments();
  LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(h.append(make_batch(i, 2)).info.ok());
  ASSERT_TRUE(h.flush().ok());
  h.crash(false);
  // A record byte of the first batch of the first (flushed, sealed) segment flips at rest.
  ASSERT_TRUE(h.flip_byte(h.dir() + "/00000000000000000000.log", 70).ok());
  ASSERT_TRUE(h.open().ok());
  EXPECT_EQ(h.log().log_end_offset(), 60) << "flushed segments are not cut for a bad CRC";
  auto bad = h.read(0);
  EXPECT_EQ(bad.code(), Errc::corrupt) << "a batch whose CRC fails is never served";
  EXPECT_GT(h.log().counters().read_corruptions, 0u);
  auto good = h.read(2);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(values_of(good->batches).front().first, 2);
}

TEST(Log, ForeignFileIsRefusedByName) {
  LogHarness h(LogConfig{});
  ASSERT_TRUE(h.open().ok());
  ASSERT_TRUE(h.close().ok());
  std::optional<Status> made;
  h.disk().open(h.dir() + "/notes.txt", disk::OpenMode::create_new,
                [&](Result<disk::FilePtr> f) { made = f.status(); });
  h.world().run_until([&] { return made.has_value(); }, h.world().now() + seconds(5));
  ASSERT_TRUE(made && made->ok());
  Status s = h.crash_and_reopen(false);
  EXPECT_EQ(s.code(), Errc::invalid_argument);
  EXPECT_NE(s.message().find("notes.txt"), std::string::npos) << s;
}

}  // namespace
}  // namespace gregor::log
