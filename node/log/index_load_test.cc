// Proves that recovery loads the index files of sealed, flushed segments instead of scanning
// them, and that it never trusts a bad one: a damaged (CRC), missing, or stale-but-well-formed
// index is detected, the segment is scanned and its indexes rewritten, and reads, timestamp
// lookups and idempotent-producer state come out the same as before the restart.
#include <gtest/gtest.h>

#include "node/log/log.h"
#include "node/log/log_test_util.h"

namespace gregor::log {
namespace {

using testing::LogHarness;
using testing::make_batch;
using testing::values_of;

constexpr int kBatches = 60;

LogConfig small_segments() {
  LogConfig c;
  c.segment_bytes = 2048;
  c.index_interval_bytes = 256;
  return c;
}

// kBatches batches of 2 records, batch i stamped 1000 + 10 i; flushed and closed cleanly.
void fill(LogHarness& h) {
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < kBatches; ++i) {
    ASSERT_TRUE(h.append(make_batch(i, 2, 1000 + 10 * i)).info.ok());
  }
  ASSERT_TRUE(h.close().ok());
}

std::string file(const LogHarness& h, int64_t base, std::string_view suffix) {
  return segment_file(h.dir(), base, suffix);
}

Result<ReadBuffer> read_file(LogHarness& h, const std::string& path) {
  std::optional<Result<ReadBuffer>> got;
  h.disk().open(path, disk::OpenMode::open_existing, [&](Result<disk::FilePtr> f) {
    if (!f.ok()) return got.emplace(f.status()), void();
    disk::FilePtr file = *f;
    file->pread(0, file->size(), [&, file](Result<ReadBuffer> b) { got.emplace(std::move(b)); });
  });
  h.world().run_until([&] { return got.has_value(); }, h.world().now() + seconds(5));
  return got ? std::move(*got) : Result<ReadBuffer>(error(Errc::timed_out, "read"));
}

Status write_file(LogHarness& h, const std::string& path, Bytes bytes) {
  return h.wait_status([&](auto cb) {
    h.disk().open(path, disk::OpenMode::open_or_create, [&, cb](Result<disk::FilePtr> f) {
      if (!f.ok()) return cb(f.status());
      disk::FilePtr file = *f;
      file->truncate(0, [&, file, cb](const Status&) {
        file->pwrite(0, bytes, [file, cb](const Status& s) {
          if (!s.ok()) return cb(s);
          file->fsync(cb);
        });
      });
    });
  });
}

Status remove_file(LogHarness& h, const std::string& path) {
  return h.wait_status([&](auto cb) { h.disk().remove(path, cb); });
}

// Every offset reads back with its own value, and timestamp lookups give the first batch at or
// after each time.
void expect_contents(LogHarness& h) {
  auto all = h.read(0, 1 << 20);
  ASSERT_TRUE(all.ok()) << all.status();
  int64_t next = 0;
  while (next < 2 * kBatches) {
    auto r = h.read(next, 300);
    ASSERT_TRUE(r.ok()) << r.status();
    for (auto& [offset, value] : values_of(r->batches)) {
      if (offset < next) continue;
      ASSERT_EQ(offset, next);
      EXPECT_EQ(value.substr(0, value.find('.')),
                std::to_string(offset / 2) + ":" + std::to_string(offset % 2));
      ++next;
    }
  }
  for (int i = 0; i < kBatches; i += 7) {
    std::optional<Result<std::optional<TimestampOffset>>> got;
    h.log().offset_for_timestamp(1000 + 10 * i, [&](auto r) { got.emplace(std::move(r)); });
    h.world().run_until([&] { return got.has_value(); }, h.world().now() + seconds(5));
    ASSERT_TRUE(got && got->ok());
    EXPECT_EQ(**got, (TimestampOffset{1000 + 10 * i, 2 * i})) << "timestamp of batch " << i;
  }
}

TEST(IndexLoad, SealedSegmentsLoadTheirIndexesInsteadOfScanning) {
  LogHarness h(small_segments());
  fill(h);
  ASSERT_TRUE(h.crash_and_reopen(false).ok());
  const RecoveryReport& report = h.log().recovery_report();
  size_t segments = h.log().segment_count();
  ASSERT_GE(segments, 3u);
  EXPECT_EQ(report.indexes_loaded, segments - 1);
  EXPECT_EQ(report.indexes_rebuilt, 1u) << "only the active segment is scanned whole";
  EXPECT_LT(report.batches_scanned, static_cast<uint64_t>(kBatches) / 2);
  expect_contents(h);
  // Appends continue at the right offset after a loaded recovery.
  auto a = h.append(make_batch(kBatches, 2, 5000));
  ASSERT_TRUE(a.info.ok());
  EXPECT_EQ(a.info->first_offset, 2 * kBatches);
}

// Time retention needs each segment's max timestamp, which a loaded segment takes from its time
// index (plus the tail scan): hour-old segments go, the one holding fresh batches stays.
TEST(IndexLoad, TimeRetentionSeesTheSegmentMaxTimestampFromALoadedIndex) {
  LogConfig c = small_segments();
  c.retention_ms = 60'000;
  LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  int64_t now_ms = to_ms(h.clock().wall_now());
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(h.append(make_batch(i, 2, now_ms - 3'600'000)).info.ok());
  }
  for (int i = 30; i < 60; ++i) ASSERT_TRUE(h.append(make_batch(i, 2, now_ms)).info.ok());
  ASSERT_TRUE(h.close().ok());
  ASSERT_TRUE(h.crash_and_reopen(false).ok());
  ASSERT_GE(h.log().recovery_report().indexes_loaded, 3u);
  ASSERT_TRUE(h.retention().ok());
  EXPECT_GT(h.log().log_start_offset(), 0);
  EXPECT_LE(h.log().log_start_offset(), 60);
  auto fresh = h.read(60);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(values_of(fresh->batches).front().first, 60);
}

TEST(IndexLoad, DamagedIndexIsRebuiltAndRewritten) {
  LogHarness h(small_segments());
  fill(h);
  h.crash(false);
  ASSERT_TRUE(h.flip_byte(file(h, 0, ".index"), 3).ok());
  ASSERT_TRUE(h.open().ok());
  size_t segments = h.log().segment_count();
  const RecoveryReport& report = h.log().recovery_report();
  EXPECT_EQ(report.indexes_loaded, segments - 2);
  bool noted = false;
  for (auto& n : report.notes) noted |= n.find("00000000000000000000.index") != std::string::npos;
  EXPECT_TRUE(noted) << "the note names the damaged file";
  expect_contents(h);
  ASSERT_TRUE(h.crash_and_reopen(false).ok());
  EXPECT_EQ(h.log().recovery_report().indexes_loaded, segments - 1) << "rewritten at recovery";
}

TEST(IndexLoad, MissingTimeIndexIsRebuilt) {
  LogHarness h(small_segments());
  fill(h);
  h.crash(false);
  ASSERT_TRUE(remove_file(h, file(h, 0, ".timeindex")).ok());
  ASSERT_TRUE(h.open().ok());
  EXPECT_EQ(h.log().recovery_report().indexes_loaded, h.log().segment_count() - 2);
  expect_contents(h);
}

// An index with a valid trailer whose entries name the wrong offsets (a stale file from other
// data) must not be used: the tail check finds the batch at the last entry's position does not
// start at the entry's offset.
TEST(IndexLoad, StaleButWellFormedIndexIsDetected) {
  LogHarness h(small_segments());
  fill(h);
  h.crash(false);
  auto real = read_file(h, file(h, 0, ".index"));
  ASSERT_TRUE(real.ok());
  auto index = OffsetIndex::decode(0, *real, UINT32_MAX);
  ASSERT_TRUE(index.ok() && !index->empty());
  OffsetIndex shifted(0);
  for (size_t i = 0; i < index->entries(); ++i) {
    shifted.append(index->entry(i).offset + 2, index->entry(i).position);  // one batch off
  }
  ASSERT_TRUE(write_file(h, file(h, 0, ".index"), shifted.encode()).ok());
  ASSERT_TRUE(h.open().ok());
  EXPECT_EQ(h.log().recovery_report().indexes_loaded, h.log().segment_count() - 2);
  expect_contents(h);
}

// Producer state comes from snapshots; with none left, recovery replays the whole log, including
// the segments it did not scan.
TEST(IndexLoad, ProducerStateIsRebuiltWithoutSnapshots) {
  LogHarness h(small_segments());
  ASSERT_TRUE(h.open().ok());
  for (int seq = 0; seq < 80; ++seq) {
    ASSERT_TRUE(h.append(make_batch(seq, 1, 1000, 16, /*pid=*/9, /*epoch=*/0, seq)).info.ok());
  }
  ASSERT_GE(h.log().segment_count(), 3u);
  ASSERT_TRUE(h.close().ok());
  h.crash(false);
  std::optional<Result<std::vector<std::string>>> names;
  h.disk().list(h.dir(), [&](auto r) { names.emplace(std::move(r)); });
  h.world().run_until([&] { return names.has_value(); }, h.world().now() + seconds(5));
  ASSERT_TRUE(names && names->ok());
  for (auto& n : **names) {
    if (n.ends_with(".snapshot")) {
      ASSERT_TRUE(remove_file(h, h.dir() + "/" + n).ok());
    }
  }
  ASSERT_TRUE(h.open().ok());
  ASSERT_GT(h.log().recovery_report().indexes_loaded, 0u);
  auto retry = h.append(make_batch(76, 1, 1000, 16, 9, 0, 76));
  ASSERT_TRUE(retry.info.ok());
  EXPECT_TRUE(retry.info->duplicate);
  EXPECT_EQ(retry.info->first_offset, 76);
  auto next = h.append(make_batch(80, 1, 1000, 16, 9, 0, 80));
  ASSERT_TRUE(next.info.ok());
  EXPECT_FALSE(next.info->duplicate);
}

}  // namespace
}  // namespace gregor::log
