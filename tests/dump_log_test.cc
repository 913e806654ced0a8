// Proves the gregor binary's file-level commands work on what the production Log writes:
// `gregor dump-log` prints one valid line per batch of a partition directory written by the Log
// on POSIX files, --print-data-log prints every record's payload, a corrupted record byte makes
// its batch (and only it) isvalid: false with exit status 1, and a missing path exits 2 with a
// message. Also a smoke test that `gregor bench log --json` runs and prints one JSON object with
// the documented keys.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/trace.h"
#include "disk/posix_disk.h"
#include "net/event_loop.h"
#include "net/tcp_network.h"
#include "node/log/log.h"

#ifndef GREGOR_BINARY
#error "GREGOR_BINARY must name the gregor executable"
#endif

namespace gregor {
namespace {

namespace fs = std::filesystem;
constexpr Duration kTimeout = seconds(30);
constexpr int kBatches = 4;
constexpr int kRecordsPerBatch = 3;

struct CliRun {
  int exit_status = -1;
  std::string out;
};

// Runs `gregor <args>`, capturing stdout (and stderr when merge_stderr).
CliRun run_gregor(const std::string& args, bool merge_stderr = true) {
  std::string cmd = std::string(GREGOR_BINARY) + " " + args + (merge_stderr ? " 2>&1" : "");
  CliRun r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  int status = ::pclose(pipe);
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  }
  return out;
}

std::string payload(int batch, int record) {
  return "payload-" + std::to_string(batch) + "-" + std::to_string(record);
}

// Writes kBatches batches with the production Log (EventLoop + PosixDisk) into root/dir.
void write_partition(const std::string& root, const std::string& dir) {
  auto loop = std::move(net::EventLoop::create()).value();
  net::RealClock clock(*loop);
  net::TcpNetwork network(*loop);
  Random random(net::os_random_seed());
  NullTracer tracer;
  auto disk = std::move(disk::PosixDisk::create(*loop, root)).value();
  Env env{clock, random, network, *disk, tracer, "n1"};
  std::optional<Result<std::unique_ptr<log::Log>>> opened;
  log::Log::load(env, dir, log::LogConfig{}, [&](auto r) { opened = std::move(r); });
  ASSERT_TRUE(loop->run_until([&] { return opened.has_value(); }, kTimeout));
  ASSERT_TRUE(opened->ok()) << opened->status();
  std::unique_ptr<log::Log> lg = std::move(*opened).value();
  for (int b = 0; b < kBatches; ++b) {
    log::BatchBuilder builder(log::BatchBuilder::Options{});
    for (int i = 0; i < kRecordsPerBatch; ++i) {
      std::string key = "key" + std::to_string(i), value = payload(b, i);
      builder.add(1000 + b, as_bytes(key), as_bytes(value));
    }
    bool appended = false;
    lg->append(builder.build().value(), 3, [&](Result<log::AppendInfo> r, auto) {
      EXPECT_TRUE(r.ok()) << r.status();
      appended = true;
    });
    ASSERT_TRUE(loop->run_until([&] { return appended; }, kTimeout));
  }
  std::optional<Status> closed;
  lg->close([&](const Status& s) { closed = s; });
  ASSERT_TRUE(loop->run_until([&] { return closed.has_value(); }, kTimeout));
  ASSERT_TRUE(closed->ok()) << *closed;
  lg.reset();
  loop->run_until([] { return false; }, milliseconds(10));
}

class GregorCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gregor-dump-log-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string partition() const { return root_ + "/topic-0"; }
  fs::path segment() const { return fs::path(partition()) / "00000000000000000000.log"; }

  std::string root_;
};

TEST_F(GregorCli, DumpLogPrintsEveryBatchOfAPartitionWrittenByTheLog) {
  ASSERT_NO_FATAL_FAILURE(write_partition(root_, "topic-0"));
  CliRun r = run_gregor("dump-log " + partition());
  EXPECT_EQ(r.exit_status, 0) << r.out;
  auto batches = lines_starting(r.out, "baseOffset:");
  ASSERT_EQ(batches.size(), static_cast<size_t>(kBatches)) << r.out;
  for (int b = 0; b < kBatches; ++b) {
    int64_t base = b * kRecordsPerBatch;
    std::string prefix = "baseOffset: " + std::to_string(base) +
                         " lastOffset: " + std::to_string(base + kRecordsPerBatch - 1) +
                         " count: 3 ";
    EXPECT_EQ(batches[b].rfind(prefix, 0), 0u) << batches[b];
    EXPECT_NE(batches[b].find("partitionLeaderEpoch: 3 "), std::string::npos) << batches[b];
    EXPECT_NE(batches[b].find("isvalid: true"), std::string::npos) << batches[b];
  }
  EXPECT_TRUE(lines_starting(r.out, "| offset:").empty());
  EXPECT_NE(r.out.find("Dumping " + partition() + "/partition.checkpoint"), std::string::npos);
}

TEST_F(GregorCli, DumpLogPrintDataLogShowsEveryPayload) {
  ASSERT_NO_FATAL_FAILURE(write_partition(root_, "topic-0"));
  CliRun r = run_gregor("dump-log --print-data-log " + segment().string());
  EXPECT_EQ(r.exit_status, 0) << r.out;
  auto records = lines_starting(r.out, "| offset:");
  ASSERT_EQ(records.size(), static_cast<size_t>(kBatches * kRecordsPerBatch)) << r.out;
  for (int b = 0; b < kBatches; ++b) {
    for (int i = 0; i < kRecordsPerBatch; ++i) {
      const std::string& line = records[b * kRecordsPerBatch + i];
      EXPECT_EQ(line.rfind("| offset: " + std::to_string(b * kRecordsPerBatch + i) + " ", 0), 0u)
          << line;
      EXPECT_NE(line.find("key: key" + std::to_string(i) + " payload: " + payload(b, i)),
                std::string::npos)
          << line;
    }
  }
}

TEST_F(GregorCli, DumpLogFlagsACorruptedBatchAndExitsOne) {
  ASSERT_NO_FATAL_FAILURE(write_partition(root_, "topic-0"));
  CliRun clean = run_gregor("dump-log " + segment().string());
  auto before = lines_starting(clean.out, "baseOffset:");
  ASSERT_EQ(before.size(), static_cast<size_t>(kBatches));
  // Every batch has the same size here; flip a byte inside the first record of batch 2.
  uint64_t batch_size = fs::file_size(segment()) / kBatches;
  uint64_t position = 2 * batch_size + 61 + 12;
  {
    std::fstream f(segment(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(position));
    char c = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(position));
    f.put(static_cast<char>(c ^ 0x20));
  }
  CliRun r = run_gregor("dump-log --print-data-log " + segment().string());
  EXPECT_EQ(r.exit_status, 1) << r.out;
  auto batches = lines_starting(r.out, "baseOffset:");
  ASSERT_EQ(batches.size(), static_cast<size_t>(kBatches)) << r.out;
  for (int b = 0; b < kBatches; ++b) {
    bool valid = b != 2;
    EXPECT_NE(batches[b].find(valid ? "isvalid: true" : "isvalid: false"), std::string::npos)
        << batches[b];
  }
  // The records of the corrupt batch are not printed; the others are.
  EXPECT_EQ(lines_starting(r.out, "| offset:").size(),
            static_cast<size_t>((kBatches - 1) * kRecordsPerBatch));
}

TEST_F(GregorCli, DumpLogOfAMissingPathExitsTwo) {
  CliRun r = run_gregor("dump-log " + root_ + "/no-such-partition");
  EXPECT_EQ(r.exit_status, 2) << r.out;
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
}

TEST_F(GregorCli, BenchLogJsonRunsAndReportsEveryFigure) {
  CliRun r = run_gregor("bench log --json --mb 4 --dir " + root_, /*merge_stderr=*/false);
  ASSERT_EQ(r.exit_status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(j.is_object()) << r.out;
  for (const char* key : {"append_mb_s_16k", "append_mb_s_1m", "read_mb_s", "raw_write_mb_s",
                          "raw_read_mb_s", "append_ratio", "read_ratio", "bytes", "seconds"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j[key].is_number()) << key;
    EXPECT_GT(j[key].get<double>(), 0) << key;
  }
  EXPECT_GE(j["bytes"].get<uint64_t>(), 4u << 20);
  ASSERT_TRUE(j.contains("config"));
  EXPECT_EQ(j["config"]["mb"], 4);
  EXPECT_EQ(j["config"]["page_cache"], "warm");
  // The temporary directory inside --dir is gone.
  EXPECT_TRUE(fs::is_empty(root_));
}

}  // namespace
}  // namespace gregor
