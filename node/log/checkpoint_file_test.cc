// Proves CheckpointFile (checkpoint_file.h):
//  - the codec: Kafka's text layout plus our crc32c line, exact bytes; round trips (RapidCheck);
//    every single-bit flip, every truncation and every malformed body is Errc::corrupt; arbitrary
//    bytes never crash;
//  - on SimDisk: write then read; a missing file is not_found; a bit flip at rest is corrupt; an
//    fsync EIO fails the write and leaves the old contents; writes issued together are
//    serialized and coalesced (the later one wins) and every caller is answered; a destroyed
//    CheckpointFile never calls back;
//  - ATOMICITY: a power loss after any number k of disk events of a write leaves a file that
//    reads as exactly the old contents or exactly the new ones (never a mixture, never garbage),
//    and the new ones whenever the write had reported ok. Exhaustive over k for a set of seeds,
//    and a RapidCheck property over seeds, crash points and contents;
//  - the same write and read on the production PosixDisk in a temporary directory.
#include "node/log/checkpoint_file.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <stdlib.h>

#include <cctype>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/crc32c.h"
#include "disk/posix_disk.h"
#include "net/event_loop.h"
#include "sim/sim_disk.h"
#include "sim/sim_disk_test_util.h"

namespace gregor::log {
namespace {

using sim::testing::DiskHarness;

const CheckpointEntries kOld = {{"high_watermark", 100}, {"recovery_point", 90}};
const CheckpointEntries kNew = {
    {"high_watermark", 250}, {"recovery_point", 240}, {"log_start_offset", 7}};
constexpr const char* kPath = "p/partition.checkpoint";

Bytes with_crc(std::string_view body) {
  return to_bytes(fmt::format("{}crc32c {:08x}\n", body, crc32c(as_bytes(body))));
}

Errc decode_code(std::string_view body) {
  return CheckpointFile::decode(with_crc(body)).code();
}

// A harness whose directory "p" exists durably, as the log's partition directory would.
struct Fixture {
  explicit Fixture(uint64_t seed) : h(seed) {
    EXPECT_TRUE(h.mkdir("p").ok());
    EXPECT_TRUE(h.fsync_dir("").ok());
  }
  Status write(CheckpointFile& f, const CheckpointEntries& entries) {
    return h.await<Status>([&](auto cb) { f.write(entries, cb); });
  }
  Result<CheckpointEntries> read(CheckpointFile& f) {
    return h.await<Result<CheckpointEntries>>([&](auto cb) { f.read(cb); });
  }
  Result<CheckpointEntries> read_fresh() {
    CheckpointFile f(*h.disk, kPath);
    return read(f);
  }
  DiskHarness h;
};

// ---------------------------------------------------------------------------------------------
// Codec

TEST(CheckpointCodec, ExactTextLayout) {
  Bytes bytes = CheckpointFile::encode({{"high_watermark", 42}, {"log_start_offset", -1}});
  std::string body = "0\n2\nhigh_watermark 42\nlog_start_offset -1\n";
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()),
            body + fmt::format("crc32c {:08x}\n", crc32c(as_bytes(body))));
  Bytes empty = CheckpointFile::encode({});
  EXPECT_EQ(as_chars(empty).substr(0, 4), "0\n0\n");
  auto decoded = CheckpointFile::decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, (CheckpointEntries{{"high_watermark", 42}, {"log_start_offset", -1}}));
}

TEST(CheckpointCodec, MalformedBodiesAreCorrupt) {
  EXPECT_EQ(decode_code("0\n1\nk 5\n"), Errc::ok);
  EXPECT_EQ(decode_code("0\n2\nk 5\nk 6\n"), Errc::ok);  // duplicate keys are allowed
  EXPECT_EQ(decode_code("1\n1\nk 5\n"), Errc::corrupt);  // unknown version
  EXPECT_EQ(decode_code("0\n2\nk 5\n"), Errc::corrupt);  // fewer entries than the count
  EXPECT_EQ(decode_code("0\n0\nk 5\n"), Errc::corrupt);  // more
  EXPECT_EQ(decode_code("0\n-1\n"), Errc::corrupt);
  EXPECT_EQ(decode_code("0\n99999999999\nk 5\n"), Errc::corrupt);
  EXPECT_EQ(decode_code("0\n01\nk 5\n"), Errc::corrupt);  // non-canonical number
  for (std::string_view value : {"+5", "05", "-0", "5 ", " 5", "", "5x", "1.5",
                                 "9223372036854775808", "-9223372036854775809"}) {
    EXPECT_EQ(decode_code(fmt::format("0\n1\nk {}\n", value)), Errc::corrupt) << value;
  }
  EXPECT_EQ(decode_code("0\n1\nk -9223372036854775808\n"), Errc::ok);
  EXPECT_EQ(decode_code("0\n1\nk\n"), Errc::corrupt);       // no value
  EXPECT_EQ(decode_code("0\n1\n 5\n"), Errc::corrupt);      // empty key
  EXPECT_EQ(decode_code("0\n1\nk\t1 5\n"), Errc::corrupt);  // control character in the key
  EXPECT_EQ(decode_code("0\n1\nk 5"), Errc::corrupt);       // last entry without newline
  EXPECT_EQ(decode_code(""), Errc::corrupt);
  // Trailer damage with a body that is otherwise fine.
  auto raw = [](std::string_view s) { return CheckpointFile::decode(to_bytes(s)).code(); };
  EXPECT_EQ(raw(""), Errc::corrupt);
  EXPECT_EQ(raw("\n"), Errc::corrupt);
  EXPECT_EQ(raw("0\n0\n"), Errc::corrupt);  // no crc line at all
  std::string good(as_chars(CheckpointFile::encode({{"k", 5}})));
  EXPECT_EQ(raw(good), Errc::ok);
  EXPECT_EQ(raw(good + "\n"), Errc::corrupt);  // a line after the crc line
  EXPECT_EQ(raw(good.substr(0, good.size() - 1)), Errc::corrupt);
  std::string upper = good;
  for (size_t i = upper.size() - 9; i < upper.size() - 1; ++i) {
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
  }
  if (upper != good) {
    EXPECT_EQ(raw(upper), Errc::corrupt);  // the hex is lower-case only
  }
}

TEST(CheckpointCodec, EverySingleBitFlipAndTruncationIsCorrupt) {
  for (const CheckpointEntries& entries : {kOld, kNew, CheckpointEntries{}}) {
    Bytes good = CheckpointFile::encode(entries);
    for (size_t bit = 0; bit < good.size() * 8; ++bit) {
      Bytes bad = good;
      bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      EXPECT_EQ(CheckpointFile::decode(bad).code(), Errc::corrupt) << "bit " << bit;
    }
    for (size_t len = 0; len < good.size(); ++len) {
      EXPECT_EQ(CheckpointFile::decode(ByteView(good).first(len)).code(), Errc::corrupt);
    }
  }
}

rc::Gen<CheckpointEntries> entries_gen() {
  auto key = rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::inRange<char>(0x21, 0x7f)));
  return rc::gen::container<CheckpointEntries>(rc::gen::pair(key, rc::gen::arbitrary<int64_t>()));
}

RC_GTEST_PROP(CheckpointCodec, RoundTrips, ()) {
  CheckpointEntries entries = *entries_gen();
  auto decoded = CheckpointFile::decode(CheckpointFile::encode(entries));
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == entries);
}

RC_GTEST_PROP(CheckpointCodec, ArbitraryBytesNeverCrash, (std::string junk, bool add_crc)) {
  Bytes bytes = add_crc ? with_crc(junk) : to_bytes(junk);
  auto decoded = CheckpointFile::decode(bytes);
  if (decoded.ok()) {
    RC_ASSERT(CheckpointFile::encode(*decoded) == bytes);
  } else {
    RC_ASSERT(decoded.code() == Errc::corrupt);
  }
}

// ---------------------------------------------------------------------------------------------
// On SimDisk

TEST(CheckpointFile, WriteThenReadAndOverwrite) {
  Fixture t(1);
  CheckpointFile f(*t.h.disk, kPath);
  EXPECT_EQ(f.temp_path(), std::string(kPath) + ".tmp");
  ASSERT_TRUE(t.write(f, kOld).ok());
  EXPECT_FALSE(f.writing());
  EXPECT_EQ(t.read(f).value(), kOld);
  ASSERT_TRUE(t.write(f, kNew).ok());
  EXPECT_EQ(t.read(f).value(), kNew);
  EXPECT_EQ(t.read_fresh().value(), kNew);
  // Durable: exactly what a crash that kept nothing unsynced would leave.
  EXPECT_EQ(t.h.disk->durable_contents(kPath), CheckpointFile::encode(kNew));
  // The temp file was renamed away.
  EXPECT_EQ(t.h.disk->paths(true), (std::vector<std::string>{"p/", kPath}));
}

TEST(CheckpointFile, MissingIsNotFound) {
  Fixture t(2);
  CheckpointFile f(*t.h.disk, kPath);
  EXPECT_EQ(t.read(f).code(), Errc::not_found);
  CheckpointFile nodir(*t.h.disk, "nodir/x");
  EXPECT_EQ(t.read(nodir).code(), Errc::not_found);
  EXPECT_EQ(t.write(nodir, kOld).code(), Errc::not_found);  // the directory must exist
}

TEST(CheckpointFile, BitFlipAtRestIsCorrupt) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Fixture t(seed);
    CheckpointFile f(*t.h.disk, kPath);
    ASSERT_TRUE(t.write(f, kNew).ok());
    ASSERT_TRUE(t.h.disk->flip_random_bit());  // the only file with data is the checkpoint
    EXPECT_EQ(t.read(f).code(), Errc::corrupt) << "seed " << seed;
  }
}

TEST(CheckpointFile, FsyncErrorFailsTheWriteAndKeepsTheOldContents) {
  Fixture t(3);
  CheckpointFile f(*t.h.disk, kPath);
  ASSERT_TRUE(t.write(f, kOld).ok());
  t.h.disk->fail_next_fsync();
  EXPECT_EQ(t.write(f, kNew).code(), Errc::io_error);
  EXPECT_EQ(t.read(f).value(), kOld);
  t.h.crash();
  EXPECT_EQ(t.read_fresh().value(), kOld);
  CheckpointFile g(*t.h.disk, kPath);  // after a failure, the next write settles it
  ASSERT_TRUE(t.write(g, kNew).ok());
  EXPECT_EQ(t.read_fresh().value(), kNew);
}

TEST(CheckpointFile, OversizedWriteIsRefusedAsACompletion) {
  Fixture t(4);
  CheckpointFile f(*t.h.disk, kPath);
  ASSERT_TRUE(t.write(f, kOld).ok());
  CheckpointEntries huge = {{std::string(kCheckpointBytesMax, 'k'), 1}};
  bool called = false;
  Status result;
  f.write(huge, [&](const Status& s) {
    called = true;
    result = s;
  });
  EXPECT_FALSE(called);  // never inside the call
  t.h.world.run_for(seconds(10));
  EXPECT_TRUE(called);
  EXPECT_EQ(result.code(), Errc::limit_exceeded);
  EXPECT_EQ(t.read(f).value(), kOld);
}

TEST(CheckpointFile, ConcurrentWritesAreSerializedAndTheLaterOneWins) {
  Fixture t(5);
  CheckpointFile f(*t.h.disk, kPath);
  std::vector<std::pair<int, std::optional<Bytes>>> answers;  // (write, file when answered)
  auto answer = [&](int i) {
    return [&, i](const Status& s) {
      EXPECT_TRUE(s.ok()) << s;
      answers.emplace_back(i, t.h.disk->current_contents(kPath));
    };
  };
  const CheckpointEntries middle = {{"high_watermark", 111}};
  f.write(kOld, answer(1));
  f.write(middle, answer(2));  // superseded while waiting: never written on its own
  f.write(kNew, answer(3));
  EXPECT_TRUE(f.writing());
  t.h.world.run_for(seconds(10));
  EXPECT_FALSE(f.writing());
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].first, 1);
  EXPECT_TRUE(answers[0].second == CheckpointFile::encode(kOld));
  EXPECT_EQ(answers[1].first, 2);  // answered by the write of kNew, which covers it
  EXPECT_TRUE(answers[1].second == CheckpointFile::encode(kNew));
  EXPECT_EQ(answers[2].first, 3);
  EXPECT_TRUE(answers[2].second == CheckpointFile::encode(kNew));
  EXPECT_EQ(t.h.disk->counters().fsyncs, 2u);  // two writes ran, not three
}

TEST(CheckpointFile, WriteFromInsideACallbackQueuesBehind) {
  Fixture t(6);
  CheckpointFile f(*t.h.disk, kPath);
  int done = 0;
  f.write(kOld, [&](const Status& s) {
    ASSERT_TRUE(s.ok());
    ++done;
    f.write(kNew, [&](const Status& s2) {
      ASSERT_TRUE(s2.ok());
      ++done;
    });
  });
  t.h.world.run_for(seconds(10));
  EXPECT_EQ(done, 2);
  EXPECT_EQ(t.read(f).value(), kNew);
}

TEST(CheckpointFile, DestroyedFileNeverCallsBack) {
  for (int steps = 0; steps < 12; ++steps) {
    Fixture t(7);
    bool destroyed = false;
    bool called_after = false;
    {
      CheckpointFile f(*t.h.disk, kPath);
      ASSERT_TRUE(t.write(f, kOld).ok());
      f.write(kNew, [&](const Status&) { called_after |= destroyed; });
      f.read([&](Result<CheckpointEntries>) { called_after |= destroyed; });
      for (int i = 0; i < steps; ++i) t.h.world.step();
    }
    destroyed = true;
    t.h.world.run_for(seconds(10));
    EXPECT_FALSE(called_after) << "steps " << steps;
    auto r = t.read_fresh();
    EXPECT_TRUE(r.ok() && (*r == kOld || *r == kNew)) << r.status();
  }
}

// ---------------------------------------------------------------------------------------------
// Atomicity under power loss

enum class Outcome { not_found, old_contents, new_contents };

struct CrashResult {
  Outcome outcome = Outcome::not_found;
  std::string failure;  // empty when the state after the crash is allowed
};

// Writes `old` durably (unless it is nullopt), starts writing `fresh`, lets the world run
// `k` events, cuts the power, and reads the file back with a new CheckpointFile, as a restarted
// broker would. Anything but exactly the old or the new state is a failure, and so is the old
// state after the write was acknowledged.
CrashResult crash_during_write(uint64_t seed, size_t k, const std::optional<CheckpointEntries>& old,
                               const CheckpointEntries& fresh) {
  Fixture t(seed);
  CheckpointFile f(*t.h.disk, kPath);
  if (old && !t.write(f, *old).ok()) return {Outcome::not_found, "setup write failed"};
  bool acked = false;
  f.write(fresh, [&](const Status& s) { acked = s.ok(); });
  for (size_t i = 0; i < k && t.h.world.step(); ++i) {
  }
  t.h.crash();
  auto r = t.read_fresh();
  std::string where = fmt::format(" (seed {}, k {}, acked {})", seed, k, acked);
  if (!r.ok()) {
    if (r.code() != Errc::not_found) return {Outcome::not_found, r.status().to_string() + where};
    if (old) return {Outcome::not_found, "the old file vanished" + where};
    if (acked) return {Outcome::not_found, "acknowledged write lost" + where};
    return {Outcome::not_found, ""};
  }
  if (*r == fresh) return {Outcome::new_contents, ""};
  if (!old || *r != *old) return {Outcome::old_contents, "neither old nor new" + where};
  if (acked) return {Outcome::old_contents, "acknowledged write lost" + where};
  return {Outcome::old_contents, ""};
}

// Disk events one write takes from start to completion on an idle disk.
size_t events_per_write() {
  Fixture t(1);
  CheckpointFile f(*t.h.disk, kPath);
  uint64_t before = t.h.world.counters().events_run;
  EXPECT_TRUE(t.write(f, kNew).ok());
  return static_cast<size_t>(t.h.world.counters().events_run - before);
}

TEST(CheckpointFileCrash, EveryCrashPointLeavesOldOrNew) {
  size_t n = events_per_write();
  EXPECT_GE(n, 6u);  // open, truncate, pwrite, fsync, rename, fsync_dir
  std::map<Outcome, int> seen;
  for (uint64_t seed = 1; seed <= 25; ++seed) {
    for (size_t k = 0; k <= n + 1; ++k) {
      for (bool with_old : {true, false}) {
        std::optional<CheckpointEntries> old;
        if (with_old) old = kOld;
        CrashResult r = crash_during_write(seed, k, old, kNew);
        EXPECT_EQ(r.failure, "");
        seen[r.outcome]++;
      }
    }
  }
  // Every outcome happens, so crashes do land both before and after the switch.
  EXPECT_GT(seen[Outcome::old_contents], 0);
  EXPECT_GT(seen[Outcome::new_contents], 0);
  EXPECT_GT(seen[Outcome::not_found], 0);
}

RC_GTEST_PROP(CheckpointFileCrash, AtomicUnderPowerLoss, ()) {
  auto seed = *rc::gen::inRange<uint64_t>(1, 1'000'000);
  auto k = *rc::gen::inRange<size_t>(0, 16);
  auto fresh = *entries_gen();
  std::optional<CheckpointEntries> old;
  if (*rc::gen::arbitrary<bool>()) old = *entries_gen();
  CrashResult r = crash_during_write(seed, k, old, fresh);
  if (!r.failure.empty()) RC_FAIL(r.failure);
}

// ---------------------------------------------------------------------------------------------
// On the production disk

TEST(CheckpointFilePosix, WriteThenRead) {
  char tmpl[] = "/tmp/gregor-checkpoint-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string root = tmpl;
  {
    auto loop = net::EventLoop::create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    auto disk = disk::PosixDisk::create(**loop, root);
    ASSERT_TRUE(disk.ok()) << disk.status();
    auto write = [&](CheckpointFile& f, const CheckpointEntries& entries) {
      std::optional<Status> out;
      f.write(entries, [&out](const Status& s) { out = s; });
      EXPECT_TRUE((*loop)->run_until([&] { return out.has_value(); }, seconds(10)));
      return out.value_or(error(Errc::timed_out, "no completion"));
    };
    auto read = [&](CheckpointFile& f) {
      std::optional<Result<CheckpointEntries>> out;
      f.read([&out](Result<CheckpointEntries> r) { out.emplace(std::move(r)); });
      EXPECT_TRUE((*loop)->run_until([&] { return out.has_value(); }, seconds(10)));
      return out.value_or(error(Errc::timed_out, "no completion"));
    };
    CheckpointFile f(**disk, "partition.checkpoint");
    EXPECT_EQ(read(f).code(), Errc::not_found);
    ASSERT_TRUE(write(f, kOld).ok());
    EXPECT_EQ(read(f).value(), kOld);
    ASSERT_TRUE(write(f, kNew).ok());
    CheckpointFile g(**disk, "partition.checkpoint");
    EXPECT_EQ(read(g).value(), kNew);
    EXPECT_FALSE(std::filesystem::exists(root + "/partition.checkpoint.tmp"));
  }
  std::error_code ignored;
  std::filesystem::remove_all(root, ignored);
}

}  // namespace
}  // namespace gregor::log
