// Proves the partition Log runs unchanged on POSIX files through the production backends
// (EventLoop, PosixDisk, RealClock): batches of every codec go in and come back byte for byte;
// a closed log reopens (recovery from real files) with the same content; a small segment_bytes
// rolls real segment files; truncation holds across a reopen; and a torn tail appended to the
// last segment file behind the log's back is cut at reopen and reported in recovery_report().
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/trace.h"
#include "disk/posix_disk.h"
#include "net/event_loop.h"
#include "net/tcp_network.h"
#include "node/log/log.h"

namespace gregor::log {
namespace {

namespace fs = std::filesystem;
constexpr Duration kTimeout = seconds(30);
constexpr const char* kPartition = "topic-0";

// A batch of `count` records whose values name (tag, i), `value_bytes` long, in `codec`.
Bytes make_batch(int tag, int count, Compression codec = Compression::none,
                 size_t value_bytes = 24) {
  BatchBuilder::Options o;
  o.compression = codec;
  BatchBuilder b(o);
  for (int i = 0; i < count; ++i) {
    std::string v = std::to_string(tag) + ":" + std::to_string(i);
    v.resize(std::max(v.size(), value_bytes), '.');
    std::string k = "k" + std::to_string(i % 5);
    b.add(1000 + i, as_bytes(k), as_bytes(v));
  }
  return b.build().value();
}

// Every record value in the batches, in order, with its offset.
std::vector<std::pair<int64_t, std::string>> values_of(ByteView batches) {
  std::vector<std::pair<int64_t, std::string>> out;
  BatchIterator it(batches);
  while (auto b = it.next()) {
    auto records = decode_records(*b);
    EXPECT_TRUE(records.ok()) << records.status();
    if (!records.ok()) break;
    for (auto& r : *records) {
      out.emplace_back(r.offset, r.value ? std::string(as_chars(*r.value)) : "<null>");
    }
  }
  return out;
}

class LogPosix : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = std::move(net::EventLoop::create()).value();
    clock_ = std::make_unique<net::RealClock>(*loop_);
    network_ = std::make_unique<net::TcpNetwork>(*loop_);
    random_ = std::make_unique<Random>(net::os_random_seed());
    char tmpl[] = "/tmp/gregor-log-posix-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    disk_ = std::move(disk::PosixDisk::create(*loop_, root_)).value();
    env_ = std::make_unique<Env>(Env{*clock_, *random_, *network_, *disk_, tracer_, "n1"});
  }
  void TearDown() override {
    log_.reset();
    loop_->run_until([] { return false; }, milliseconds(10));  // let posted completions drain
    disk_.reset();
    std::filesystem::remove_all(root_);
  }

  template <typename T>
  T wait(std::optional<T>& got) {
    bool done = loop_->run_until([&] { return got.has_value(); }, kTimeout);
    EXPECT_TRUE(done) << "never completed";
    return std::move(*got);
  }
  Status open(LogConfig config = {}) {
    log_.reset();
    std::optional<Result<std::unique_ptr<Log>>> got;
    Log::load(*env_, kPartition, config,
              [&](Result<std::unique_ptr<Log>> r) { got = std::move(r); });
    if (!loop_->run_until([&] { return got.has_value(); }, kTimeout)) {
      return error(Errc::timed_out, "open");
    }
    if (!got->ok()) return got->status();
    log_ = std::move(*got).value();
    return Status::Ok();
  }
  Result<AppendInfo> append(Bytes batch, int32_t epoch = 0) {
    std::optional<Result<AppendInfo>> got;
    log_->append(std::move(batch), epoch,
                 [&](Result<AppendInfo> r, std::optional<AppendError>) { got = std::move(r); });
    if (!loop_->run_until([&] { return got.has_value(); }, kTimeout)) {
      return error(Errc::timed_out, "append");
    }
    return std::move(*got);
  }
  Result<ReadResult> read(int64_t offset, size_t max_bytes = 1 << 20) {
    std::optional<Result<ReadResult>> got;
    log_->read(offset, max_bytes, [&](Result<ReadResult> r) { got = std::move(r); });
    if (!loop_->run_until([&] { return got.has_value(); }, kTimeout)) {
      return error(Errc::timed_out, "read");
    }
    return std::move(*got);
  }
  // Every record from offset 0 to the log end, one fetch of max_bytes at a time.
  std::vector<std::pair<int64_t, std::string>> read_all(size_t max_bytes = 1 << 20) {
    std::vector<std::pair<int64_t, std::string>> out;
    int64_t offset = log_->log_start_offset();
    while (offset < log_->log_end_offset()) {
      auto r = read(offset, max_bytes);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok() || r->batches.empty()) break;
      for (auto& v : values_of(r->batches)) {
        if (v.first >= offset) out.push_back(v);
      }
      offset = out.empty() ? offset + 1 : out.back().first + 1;
    }
    return out;
  }
  template <typename Call>
  Status call(Call c) {
    std::optional<Status> got;
    c([&](const Status& s) { got = s; });
    if (!loop_->run_until([&] { return got.has_value(); }, kTimeout)) {
      return error(Errc::timed_out, "never completed");
    }
    return *got;
  }
  Status close() {
    return call([&](auto cb) { log_->close(cb); });
  }
  // The segment files of the partition, sorted by name (= base offset).
  std::vector<fs::path> segment_files() const {
    std::vector<fs::path> out;
    for (auto& e : fs::directory_iterator(fs::path(root_) / kPartition)) {
      if (e.path().extension() == ".log") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<net::EventLoop> loop_;
  std::unique_ptr<net::RealClock> clock_;
  std::unique_ptr<net::TcpNetwork> network_;
  std::unique_ptr<Random> random_;
  NullTracer tracer_;
  std::string root_;
  std::unique_ptr<disk::PosixDisk> disk_;
  std::unique_ptr<Env> env_;
  std::unique_ptr<Log> log_;
};

// Expected values of make_batch(tag, count), at offsets from `base`.
void expect_batch_values(std::vector<std::pair<int64_t, std::string>>& want, int64_t base, int tag,
                         int count) {
  for (int i = 0; i < count; ++i) {
    std::string v = std::to_string(tag) + ":" + std::to_string(i);
    v.resize(std::max<size_t>(v.size(), 24), '.');
    want.emplace_back(base + i, v);
  }
}

TEST_F(LogPosix, EveryCodecRoundTripsAndSurvivesReopen) {
  ASSERT_TRUE(open().ok());
  const Compression codecs[] = {Compression::none, Compression::gzip, Compression::snappy,
                                Compression::lz4, Compression::zstd};
  std::vector<std::pair<int64_t, std::string>> want;
  std::vector<Bytes> appended;
  int64_t next = 0;
  for (int round = 0; round < 2; ++round) {
    for (size_t c = 0; c < std::size(codecs); ++c) {
      int tag = round * 10 + static_cast<int>(c), count = 3 + tag % 4;
      Bytes batch = make_batch(tag, count, codecs[c]);
      auto info = append(batch);
      ASSERT_TRUE(info.ok()) << info.status();
      EXPECT_EQ(info->first_offset, next);
      EXPECT_EQ(info->last_offset, next + count - 1);
      assign_offsets(batch, next, 0);  // the stored form: offsets and epoch stamped by the log
      appended.push_back(batch);
      expect_batch_values(want, next, tag, count);
      next += count;
    }
  }
  EXPECT_EQ(log_->log_end_offset(), next);
  EXPECT_EQ(read_all(), want);
  // Byte for byte: what the log serves is what it was given, with offsets assigned.
  auto whole = read(0, 16 << 20);
  ASSERT_TRUE(whole.ok());
  Bytes expected;
  for (auto& b : appended) expected.insert(expected.end(), b.begin(), b.end());
  EXPECT_EQ(Bytes(whole->batches.begin(), whole->batches.end()), expected);

  ASSERT_TRUE(close().ok());
  ASSERT_TRUE(open().ok());
  EXPECT_EQ(log_->log_end_offset(), next);
  EXPECT_EQ(log_->recovery_report().truncated_bytes, 0u);
  EXPECT_EQ(read_all(), want);
  auto again = read(0, 16 << 20);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Bytes(again->batches.begin(), again->batches.end()), expected);
  // The log keeps going after recovery.
  ASSERT_TRUE(append(make_batch(99, 2, Compression::zstd)).ok());
  expect_batch_values(want, next, 99, 2);
  EXPECT_EQ(read_all(), want);
  EXPECT_TRUE(fs::exists(fs::path(root_) / kPartition / "partition.checkpoint"));
}

TEST_F(LogPosix, SmallSegmentsRollIntoRealFilesAndReopen) {
  LogConfig config;
  config.segment_bytes = 2048;
  ASSERT_TRUE(open(config).ok());
  std::vector<std::pair<int64_t, std::string>> want;
  int64_t next = 0;
  for (int tag = 0; tag < 30; ++tag) {
    Compression codec = tag % 3 == 0 ? Compression::lz4 : Compression::none;
    ASSERT_TRUE(append(make_batch(tag, 8, codec)).ok());
    expect_batch_values(want, next, tag, 8);
    next += 8;
  }
  size_t segments = log_->segment_count();
  EXPECT_GT(segments, 3u);
  EXPECT_EQ(segment_files().size(), segments);
  for (auto& f : segment_files()) EXPECT_LE(fs::file_size(f), 2048u) << f;
  EXPECT_EQ(read_all(1024), want);  // small fetches cross segment boundaries

  ASSERT_TRUE(close().ok());
  ASSERT_TRUE(open(config).ok());
  EXPECT_EQ(log_->segment_count(), segments);
  EXPECT_EQ(log_->recovery_report().segments, segments);
  EXPECT_EQ(log_->log_end_offset(), next);
  EXPECT_EQ(read_all(1024), want);
}

TEST_F(LogPosix, TruncateHoldsAcrossReopen) {
  LogConfig config;
  config.segment_bytes = 2048;
  ASSERT_TRUE(open(config).ok());
  std::vector<std::pair<int64_t, std::string>> want;
  for (int tag = 0; tag < 20; ++tag) {
    ASSERT_TRUE(append(make_batch(tag, 5)).ok());
    if (tag < 7) expect_batch_values(want, tag * 5, tag, 5);
  }
  size_t before = log_->segment_count();
  ASSERT_TRUE(call([&](auto cb) { log_->truncate_to(35, cb); }).ok());
  EXPECT_EQ(log_->log_end_offset(), 35);
  EXPECT_LT(log_->segment_count(), before);
  EXPECT_EQ(read_all(), want);
  EXPECT_EQ(segment_files().size(), log_->segment_count());

  ASSERT_TRUE(close().ok());
  ASSERT_TRUE(open(config).ok());
  EXPECT_EQ(log_->log_end_offset(), 35);
  EXPECT_EQ(read_all(), want);
  auto info = append(make_batch(50, 3));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->first_offset, 35);
}

TEST_F(LogPosix, TornTailWrittenBehindTheLogIsCutAtReopen) {
  ASSERT_TRUE(open().ok());
  std::vector<std::pair<int64_t, std::string>> want;
  for (int tag = 0; tag < 4; ++tag) {
    ASSERT_TRUE(append(make_batch(tag, 6, Compression::snappy)).ok());
    expect_batch_values(want, tag * 6, tag, 6);
  }
  ASSERT_TRUE(close().ok());
  log_.reset();
  auto files = segment_files();
  ASSERT_EQ(files.size(), 1u);
  uint64_t good_size = fs::file_size(files.back());
  // A torn write: half a batch header's worth of garbage at the end of the segment.
  constexpr size_t kGarbage = 37;
  {
    std::ofstream out(files.back(), std::ios::binary | std::ios::app);
    for (size_t i = 0; i < kGarbage; ++i) out.put(static_cast<char>(0xA5 ^ i));
  }
  ASSERT_EQ(fs::file_size(files.back()), good_size + kGarbage);

  ASSERT_TRUE(open().ok());
  const RecoveryReport& report = log_->recovery_report();
  EXPECT_EQ(report.truncated_bytes, kGarbage);
  EXPECT_EQ(report.truncated_from_offset, 24);
  EXPECT_FALSE(report.notes.empty());
  EXPECT_EQ(log_->log_end_offset(), 24);
  EXPECT_EQ(fs::file_size(files.back()), good_size);
  EXPECT_EQ(read_all(), want);
  auto info = append(make_batch(9, 2));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->first_offset, 24);
}

}  // namespace
}  // namespace gregor::log
