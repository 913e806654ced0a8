// Unit tests of SimDisk: each seam operation and its typed errors, the page-cache durability
// model (fsync, fsync_dir, crash prefixes, torn writes, dead handles), the queue (order, no
// inline callbacks, stalls, killed incarnations), and each fault family, which must change what
// it claims to and be counted.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <set>

#include "sim/sim_disk.h"
#include "sim/sim_disk_test_util.h"

namespace gregor::sim {
namespace {

using disk::FilePtr;
using disk::OpenMode;
using testing::bytes_of;
using testing::DiskHarness;
using testing::text_of;

// Harness with a file "f" whose name is durable and whose contents `synced` are fsynced.
struct SyncedFile {
  explicit SyncedFile(uint64_t seed, const std::string& synced, SimDisk::Options options = {})
      : h(seed, std::move(options)) {
    file = h.open("f").value();
    if (!synced.empty()) {
      EXPECT_TRUE(h.append(file, bytes_of(synced)).ok());
    }
    EXPECT_TRUE(h.fsync(file).ok());
    EXPECT_TRUE(h.fsync_dir("").ok());
  }
  DiskHarness h;
  FilePtr file;
};

size_t bits_differing(const Bytes& a, const Bytes& b) {
  EXPECT_EQ(a.size(), b.size());
  size_t n = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    n += std::popcount<uint8_t>(a[i] ^ b[i]);
  return n;
}

TEST(SimDisk, WriteAppendReadRoundTrip) {
  DiskHarness h(1);
  FilePtr f = h.open("log", OpenMode::create_new).value();
  EXPECT_EQ(h.append(f, bytes_of("hello")).value(), 0u);
  EXPECT_EQ(h.append(f, bytes_of(" world")).value(), 5u);
  EXPECT_EQ(text_of(h.pread(f, 0, 100).value()), "hello world");
  EXPECT_EQ(text_of(h.pread(f, 6, 3).value()), "wor");
  EXPECT_TRUE(h.pread(f, 11, 10).value().empty());   // at end of file
  ASSERT_TRUE(h.pwrite(f, 14, bytes_of("!")).ok());  // leaves a hole of zeros
  EXPECT_EQ(f->size(), 15u);
  EXPECT_EQ(h.pread(f, 11, 4).value(), (Bytes{0, 0, 0, '!'}));
  ASSERT_TRUE(h.truncate(f, 5).ok());
  EXPECT_EQ(text_of(*h.disk->current_contents("log")), "hello");
  EXPECT_EQ(h.disk->counters().writes, 3u);
  EXPECT_EQ(h.disk->counters().truncates, 1u);
}

TEST(SimDisk, TypedErrors) {
  DiskHarness h(1);
  EXPECT_EQ(h.open("missing", OpenMode::open_existing).code(), Errc::not_found);
  ASSERT_TRUE(h.open("f", OpenMode::create_new).ok());
  EXPECT_EQ(h.open("f", OpenMode::create_new).code(), Errc::already_exists);
  EXPECT_TRUE(h.open("f", OpenMode::open_existing).ok());
  EXPECT_EQ(h.open("nodir/f").code(), Errc::not_found);
  EXPECT_EQ(h.open("/abs").code(), Errc::invalid_argument);
  EXPECT_EQ(h.open("a/../b").code(), Errc::invalid_argument);
  EXPECT_EQ(h.open("").code(), Errc::invalid_argument);
  ASSERT_TRUE(h.mkdir("d").ok());
  EXPECT_EQ(h.mkdir("d").code(), Errc::already_exists);
  EXPECT_EQ(h.open("d").code(), Errc::io_error);  // a directory is not a file
  EXPECT_EQ(h.list("f").code(), Errc::io_error);  // a file is not a directory
  EXPECT_EQ(h.open("f/x").code(), Errc::io_error);
  EXPECT_EQ(h.remove("nothing").code(), Errc::not_found);
  EXPECT_EQ(h.rename("nothing", "x").code(), Errc::not_found);
  EXPECT_EQ(h.fsync_dir("nodir").code(), Errc::not_found);
  EXPECT_EQ(h.rename("d", "f").code(), Errc::io_error);    // directory over file
  EXPECT_EQ(h.rename("d", "d/e").code(), Errc::io_error);  // into itself
  FilePtr f = h.open("f").value();
  EXPECT_EQ(h.pread(f, 0, size_t{1} << 30).code(), Errc::limit_exceeded);
}

TEST(SimDisk, DirectoriesListRenameRemove) {
  DiskHarness h(2);
  ASSERT_TRUE(h.mkdir("a").ok());
  ASSERT_TRUE(h.mkdir("a-b").ok());
  ASSERT_TRUE(h.open("a/x").ok());
  ASSERT_TRUE(h.open("a/y").ok());
  ASSERT_TRUE(h.open("top").ok());
  EXPECT_EQ(h.list("").value(), (std::vector<std::string>{"a-b/", "a/", "top"}));
  EXPECT_EQ(h.list("a").value(), (std::vector<std::string>{"x", "y"}));
  ASSERT_TRUE(h.rename("a/x", "a/z").ok());
  ASSERT_TRUE(h.rename("top", "a/y").ok());  // replaces a file
  EXPECT_EQ(h.list("a").value(), (std::vector<std::string>{"y", "z"}));
  EXPECT_EQ(h.remove("a").code(), Errc::io_error);  // not empty
  ASSERT_TRUE(h.remove("a/y").ok());
  ASSERT_TRUE(h.remove("a/z").ok());
  ASSERT_TRUE(h.rename("a", "a-b/moved").ok());
  EXPECT_EQ(h.list("a-b").value(), (std::vector<std::string>{"moved/"}));
  ASSERT_TRUE(h.remove("a-b/moved").ok());
  EXPECT_EQ(h.disk->paths(), (std::vector<std::string>{"a-b/"}));
}

TEST(SimDisk, RemovedOpenFileStaysUsable) {
  DiskHarness h(3);
  FilePtr f = h.open("f").value();
  ASSERT_TRUE(h.append(f, bytes_of("abc")).ok());
  ASSERT_TRUE(h.remove("f").ok());
  ASSERT_TRUE(h.fsync_dir("").ok());  // runs garbage collection; the handle pins the file
  ASSERT_TRUE(h.append(f, bytes_of("def")).ok());
  EXPECT_EQ(text_of(h.pread(f, 0, 10).value()), "abcdef");
  EXPECT_EQ(h.disk->current_bytes(), 6u);
  EXPECT_FALSE(h.disk->current_contents("f").has_value());
}

TEST(SimDisk, CompletionsInOrderAndNeverInline) {
  DiskHarness h(4);
  FilePtr f = h.open("f").value();
  std::vector<int> order;
  for (int i = 0; i < 20; ++i) {
    if (i % 5 == 4) {
      f->fsync([&order, i](const Status& s) {
        EXPECT_TRUE(s.ok());
        order.push_back(i);
      });
    } else {
      f->append(Bytes(10, static_cast<uint8_t>(i)), [&order, i](Result<uint64_t> r) {
        EXPECT_TRUE(r.ok());
        order.push_back(i);
      });
    }
  }
  EXPECT_TRUE(order.empty());  // nothing ran inside the calls
  EXPECT_EQ(h.disk->in_flight(), 20u);
  h.world.run_for(seconds(10));
  std::vector<int> expected(20);
  for (int i = 0; i < 20; ++i) expected[i] = i;
  EXPECT_EQ(order, expected);
}

TEST(SimDisk, FsyncSlowerThanWrites) {
  DiskHarness h(5);
  FilePtr f = h.open("f").value();
  Duration writes{}, fsyncs{};
  for (int i = 0; i < 50; ++i) {
    MonoTime t0 = h.world.now();
    ASSERT_TRUE(h.append(f, Bytes(100, 1)).ok());
    MonoTime t1 = h.world.now();
    ASSERT_TRUE(h.fsync(f).ok());
    writes += t1 - t0;
    fsyncs += h.world.now() - t1;
  }
  EXPECT_GT(writes, Duration::zero());
  EXPECT_GT(fsyncs, 5 * writes);
}

TEST(SimDisk, FsyncMakesDataDurable) {
  DiskHarness h(6);
  FilePtr f = h.open("f").value();
  ASSERT_TRUE(h.fsync_dir("").ok());
  ASSERT_TRUE(h.append(f, bytes_of("one")).ok());
  EXPECT_EQ(text_of(*h.disk->durable_contents("f")), "");
  EXPECT_EQ(text_of(*h.disk->current_contents("f")), "one");
  ASSERT_TRUE(h.fsync(f).ok());
  EXPECT_EQ(text_of(*h.disk->durable_contents("f")), "one");
}

TEST(SimDisk, CrashKeepsFsyncedDataAndAPrefixOfTheRest) {
  std::set<std::string> outcomes;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SyncedFile s(seed, "synced|");
    ASSERT_TRUE(s.h.append(s.file, bytes_of("A")).ok());
    ASSERT_TRUE(s.h.append(s.file, bytes_of("B")).ok());
    ASSERT_TRUE(s.h.truncate(s.file, 3).ok());
    s.h.crash();
    std::string after = text_of(*s.h.disk->current_contents("f"));
    EXPECT_TRUE(after == "synced|" || after == "synced|A" || after == "synced|AB" || after == "syn")
        << after;
    EXPECT_EQ(after, text_of(*s.h.disk->durable_contents("f")));
    EXPECT_EQ(s.h.disk->counters().crashes, 1u);
    outcomes.insert(after);
  }
  EXPECT_EQ(outcomes.size(), 4u);  // every prefix shows up over 40 seeds
}

TEST(SimDisk, CrashCountsLostUnsyncedData) {
  SimDisk::Options options;
  options.torn_write_probability = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SyncedFile s(seed, "", options);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(s.h.append(s.file, Bytes(100, 7)).ok());
    s.h.crash();
    uint64_t kept = s.h.disk->current_contents("f")->size();
    EXPECT_EQ(s.h.disk->counters().crash_lost_bytes, 400 - kept);
    EXPECT_EQ(s.h.disk->counters().crash_lost_ops, (400 - kept) / 100);
  }
}

TEST(SimDisk, TornWriteLandsWholeSectorsOnly) {
  SimDisk::Options options;
  options.torn_write_probability = 1;
  std::set<size_t> sizes;
  uint64_t torn = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SyncedFile s(seed, "", options);
    ASSERT_TRUE(s.h.append(s.file, Bytes(2000, 9)).ok());
    s.h.crash();
    Bytes after = *s.h.disk->current_contents("f");
    EXPECT_EQ(after.size() % 512, 0u);
    EXPECT_LT(after.size(), 2000u);
    EXPECT_EQ(after, Bytes(after.size(), 9));
    sizes.insert(after.size());
    torn += s.h.disk->counters().torn_writes;
  }
  EXPECT_EQ(sizes, (std::set<size_t>{0, 512, 1024, 1536}));
  EXPECT_GT(torn, 0u);
}

TEST(SimDisk, UnsyncedCreateIsGoneAfterCrashUnlessDirSynced) {
  int gone = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    DiskHarness h(seed);
    FilePtr f = h.open("new").value();
    ASSERT_TRUE(h.append(f, bytes_of("data")).ok());
    ASSERT_TRUE(h.fsync(f).ok());  // data durable, but not the name
    EXPECT_FALSE(h.disk->durable_contents("new").has_value());
    h.crash();
    if (!h.open("new", OpenMode::open_existing).ok()) {
      ++gone;
    } else {
      EXPECT_EQ(text_of(*h.disk->current_contents("new")), "data");
    }
  }
  EXPECT_GT(gone, 0);
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    DiskHarness h(seed);
    FilePtr f = h.open("new").value();
    ASSERT_TRUE(h.append(f, bytes_of("data")).ok());
    ASSERT_TRUE(h.fsync(f).ok());
    ASSERT_TRUE(h.fsync_dir("").ok());
    h.crash();
    EXPECT_EQ(text_of(*h.disk->current_contents("new")), "data");
  }
}

TEST(SimDisk, RenameDurableOnlyAfterFsyncDir) {
  std::set<std::vector<std::string>> outcomes;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SyncedFile s(seed, "x");
    ASSERT_TRUE(s.h.rename("f", "g").ok());
    EXPECT_EQ(s.h.disk->paths(/*durable=*/true), (std::vector<std::string>{"f"}));
    EXPECT_EQ(s.h.disk->paths(), (std::vector<std::string>{"g"}));
    s.h.crash();
    std::vector<std::string> after = s.h.disk->paths();
    // Atomic within one directory: the old name or the new one, never both or neither.
    EXPECT_TRUE(after == std::vector<std::string>{"f"} || after == std::vector<std::string>{"g"});
    outcomes.insert(after);
  }
  EXPECT_EQ(outcomes.size(), 2u);
  SyncedFile s(1, "x");
  ASSERT_TRUE(s.h.rename("f", "g").ok());
  ASSERT_TRUE(s.h.fsync_dir("").ok());
  EXPECT_EQ(s.h.disk->paths(/*durable=*/true), (std::vector<std::string>{"g"}));
  s.h.crash();
  EXPECT_EQ(text_of(*s.h.disk->current_contents("g")), "x");
}

TEST(SimDisk, NewDirectoryNeedsParentSync) {
  DiskHarness h(7);
  ASSERT_TRUE(h.mkdir("d").ok());
  FilePtr f = h.open("d/f").value();
  ASSERT_TRUE(h.fsync(f).ok());
  ASSERT_TRUE(h.fsync_dir("d").ok());
  EXPECT_TRUE(h.disk->paths(true).empty());  // "d" itself is not durable in the root yet
  ASSERT_TRUE(h.fsync_dir("").ok());
  EXPECT_EQ(h.disk->paths(true), (std::vector<std::string>{"d/", "d/f"}));
}

TEST(SimDisk, HandlesAreDeadAfterCrash) {
  SyncedFile s(8, "abc");
  s.h.crash();
  FilePtr old = s.file;
  EXPECT_EQ(old->size(), 0u);
  EXPECT_EQ(s.h.pread(old, 0, 3).code(), Errc::cancelled);
  EXPECT_EQ(s.h.pwrite(old, 0, bytes_of("x")).code(), Errc::cancelled);
  EXPECT_EQ(s.h.append(old, bytes_of("x")).code(), Errc::cancelled);
  EXPECT_EQ(s.h.truncate(old, 0).code(), Errc::cancelled);
  EXPECT_EQ(s.h.fsync(old).code(), Errc::cancelled);
  FilePtr f = s.h.open("f", OpenMode::open_existing).value();
  EXPECT_EQ(text_of(s.h.pread(f, 0, 10).value()), "abc");
}

TEST(SimDisk, InFlightOperationsOfAKilledIncarnationNeverComplete) {
  SyncedFile s(9, "");
  bool called = false;
  s.file->append(bytes_of("lost"), [&called](Result<uint64_t>) { called = true; });
  s.h.crash();  // kill, crash, revive before the append completes
  s.h.world.run_for(seconds(10));
  EXPECT_FALSE(called);
  EXPECT_EQ(s.h.disk->current_contents("f")->size(), 0u);
  EXPECT_EQ(s.h.disk->in_flight(), 0u);
}

TEST(SimDisk, CrashWithoutKillCancelsQueuedOperations) {
  SyncedFile s(10, "");
  std::optional<Errc> code;
  s.file->append(bytes_of("x"), [&code](Result<uint64_t> r) { code = r.code(); });
  s.h.disk->crash(s.h.world.rng("crash"));
  EXPECT_FALSE(code.has_value());  // not inline
  s.h.world.run_for(seconds(1));
  EXPECT_EQ(code, Errc::cancelled);
}

TEST(SimDisk, ProcessCrashKeepsThePageCache) {
  SyncedFile s(11, "a");
  ASSERT_TRUE(s.h.append(s.file, bytes_of("b")).ok());
  s.h.world.kill(s.h.node);
  s.h.disk->process_crash();
  s.h.world.revive(s.h.node);
  EXPECT_EQ(s.h.fsync(s.file).code(), Errc::cancelled);
  EXPECT_EQ(text_of(*s.h.disk->current_contents("f")), "ab");
  EXPECT_EQ(text_of(*s.h.disk->durable_contents("f")), "a");
  EXPECT_EQ(s.h.disk->counters().process_crashes, 1u);
}

TEST(SimDisk, QuotaGivesNoSpaceAndWritesNothing) {
  SimDisk::Options options;
  options.quota_bytes = 100;
  DiskHarness h(12, options);
  FilePtr f = h.open("f").value();
  ASSERT_TRUE(h.append(f, Bytes(60, 1)).ok());
  EXPECT_EQ(h.append(f, Bytes(50, 2)).code(), Errc::no_space);
  EXPECT_EQ(f->size(), 60u);
  EXPECT_EQ(h.pwrite(f, 90, Bytes(20, 2)).code(), Errc::no_space);
  EXPECT_EQ(h.truncate(f, 101).code(), Errc::no_space);
  EXPECT_TRUE(h.pwrite(f, 0, Bytes(60, 3)).ok());  // no growth: fine at any usage
  EXPECT_EQ(*h.disk->current_contents("f"), Bytes(60, 3));
  EXPECT_EQ(h.disk->counters().no_space, 3u);
  h.disk->set_quota_bytes(h.disk->current_bytes());
  EXPECT_EQ(h.append(f, Bytes(1, 1)).code(), Errc::no_space);
}

TEST(SimDisk, StallDelaysCompletionsAndKeepsOrder) {
  DiskHarness h(13);
  FilePtr f = h.open("f").value();
  std::vector<int> order;
  f->append(bytes_of("1"), [&](Result<uint64_t>) { order.push_back(1); });
  MonoTime until = h.world.now() + seconds(2);
  h.disk->stall(until);  // begins after the first append was queued: still holds it
  f->append(bytes_of("2"), [&](Result<uint64_t>) { order.push_back(2); });
  h.world.run_until(until - milliseconds(1));
  EXPECT_TRUE(order.empty());
  h.world.run_for(seconds(1));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(h.disk->counters().stalls, 1u);
  MonoTime t0 = h.world.now();
  ASSERT_TRUE(h.append(f, bytes_of("3")).ok());  // stall over: fast again
  EXPECT_LT(h.world.now() - t0, milliseconds(100));
}

TEST(SimDisk, RandomStalls) {
  SimDisk::Options options;
  options.faults.stall_probability = 1;
  options.faults.stall_duration = seconds(1);
  DiskHarness h(14, options);
  MonoTime t0 = h.world.now();
  ASSERT_TRUE(h.open("f").ok());
  EXPECT_GE(h.world.now() - t0, seconds(1));
  EXPECT_EQ(h.disk->counters().stalls, 1u);
}

TEST(SimDisk, FsyncEioDropsDirtyPages) {
  SyncedFile s(15, "durable");
  ASSERT_TRUE(s.h.append(s.file, bytes_of("+dirty")).ok());
  s.h.disk->fail_next_fsync();
  EXPECT_EQ(s.h.fsync(s.file).code(), Errc::io_error);
  EXPECT_EQ(text_of(s.h.pread(s.file, 0, 100).value()), "durable");  // the dirty data is gone
  EXPECT_EQ(s.h.disk->counters().fsync_eio, 1u);
  EXPECT_EQ(s.h.disk->counters().fsync_eio_dropped_bytes, 6u);
  EXPECT_TRUE(s.h.fsync(s.file).ok());  // forced once only
  s.h.disk->fail_next_fsync("other");
  EXPECT_TRUE(s.h.fsync(s.file).ok());  // aimed at another file

  SyncedFile p(16, "");
  SimDisk::Faults faults;
  faults.fsync_eio_probability = 1;
  p.h.disk->set_faults(faults);
  ASSERT_TRUE(p.h.append(p.file, bytes_of("x")).ok());
  EXPECT_EQ(p.h.fsync(p.file).code(), Errc::io_error);
  EXPECT_EQ(p.file->size(), 0u);
  EXPECT_EQ(p.h.fsync(p.file).code(), Errc::io_error);
  EXPECT_EQ(p.h.disk->counters().fsync_eio, 2u);
}

TEST(SimDisk, LatentReadErrorsAndHealing) {
  SyncedFile s(17, std::string(2048, 'a'));
  ASSERT_TRUE(s.h.disk->mark_bad_sector("f", 2));  // bytes [1024, 1536)
  EXPECT_FALSE(s.h.disk->mark_bad_sector("f", 4));
  EXPECT_TRUE(s.h.pread(s.file, 0, 1024).ok());
  EXPECT_EQ(s.h.pread(s.file, 1000, 100).code(), Errc::io_error);
  EXPECT_EQ(s.h.pread(s.file, 1535, 1).code(), Errc::io_error);
  EXPECT_TRUE(s.h.pread(s.file, 1536, 512).ok());
  ASSERT_TRUE(s.h.pwrite(s.file, 1100, bytes_of("b")).ok());  // a write over it heals it
  EXPECT_TRUE(s.h.pread(s.file, 0, 2048).ok());
  const SimDisk::Counters& c = s.h.disk->counters();
  EXPECT_EQ(c.bad_sectors_marked, 1u);
  EXPECT_EQ(c.read_errors, 2u);
  EXPECT_EQ(c.bad_sectors_healed, 1u);

  ASSERT_TRUE(s.h.disk->mark_bad_sector());  // the only file with data
  EXPECT_EQ(s.h.pread(s.file, 0, 2048).code(), Errc::io_error);

  SimDisk::Options options;
  options.faults.read_error_probability = 1;
  SyncedFile p(18, "abc", options);
  EXPECT_EQ(p.h.pread(p.file, 0, 3).code(), Errc::io_error);
  EXPECT_EQ(p.h.disk->counters().bad_sectors_marked, 1u);
}

TEST(SimDisk, BitFlipAtRest) {
  SyncedFile s(19, std::string(1000, 'z'));
  EXPECT_TRUE(s.h.disk->flip_random_bit());
  Bytes clean(1000, 'z');
  EXPECT_EQ(bits_differing(*s.h.disk->durable_contents("f"), clean), 1u);
  EXPECT_EQ(bits_differing(*s.h.disk->current_contents("f"), clean), 1u);
  EXPECT_EQ(s.h.disk->counters().bit_flips_at_rest, 1u);
  EXPECT_EQ(s.h.disk->counters().corruptions(), 1u);
  DiskHarness empty(20);
  EXPECT_FALSE(empty.disk->flip_random_bit());
}

TEST(SimDisk, BitFlipOnWrite) {
  SimDisk::Options options;
  options.faults.write_bit_flip_probability = 1;
  SyncedFile s(21, "", options);
  ASSERT_TRUE(s.h.append(s.file, Bytes(700, 5)).ok());
  EXPECT_EQ(bits_differing(*s.h.disk->current_contents("f"), Bytes(700, 5)), 1u);
  EXPECT_EQ(s.h.disk->counters().bit_flips_on_write, 1u);
}

TEST(SimDisk, MisdirectedWrite) {
  SimDisk::Options options;
  SyncedFile s(22, std::string(4096, 'a'), options);
  options.faults.misdirected_write_probability = 1;
  s.h.disk->set_faults(options.faults);
  ASSERT_TRUE(s.h.pwrite(s.file, 1024, Bytes(512, 'b')).ok());
  std::string after = text_of(*s.h.disk->current_contents("f"));
  ASSERT_EQ(after.size(), 4096u);
  EXPECT_EQ(after.substr(1024, 512), std::string(512, 'a'));  // the intended range kept old data
  size_t landed = after.find('b');
  ASSERT_NE(landed, std::string::npos);
  EXPECT_EQ(landed % 512, 0u);
  EXPECT_EQ(after.substr(landed, 512), std::string(512, 'b'));
  EXPECT_EQ(std::count(after.begin(), after.end(), 'b'), 512);
  EXPECT_EQ(s.h.disk->counters().misdirected_writes, 1u);

  DiskHarness fresh(23, options);  // nowhere else to land in an empty file: lands as intended
  FilePtr f = fresh.open("g").value();
  ASSERT_TRUE(fresh.append(f, bytes_of("x")).ok());
  EXPECT_EQ(text_of(*fresh.disk->current_contents("g")), "x");
  EXPECT_EQ(fresh.disk->counters().misdirected_writes, 0u);
}

TEST(SimDisk, WipeRemovesEverything) {
  SyncedFile s(24, "abc");
  ASSERT_TRUE(s.h.mkdir("d").ok());
  ASSERT_TRUE(s.h.fsync_dir("").ok());
  s.h.disk->wipe();
  EXPECT_TRUE(s.h.disk->paths().empty());
  EXPECT_TRUE(s.h.disk->paths(true).empty());
  EXPECT_EQ(s.h.disk->current_bytes(), 0u);
  EXPECT_EQ(s.h.fsync(s.file).code(), Errc::cancelled);
  EXPECT_EQ(s.h.list("").value(), std::vector<std::string>{});
  EXPECT_EQ(s.h.disk->counters().wipes, 1u);
  EXPECT_TRUE(s.h.open("f", OpenMode::create_new).ok());
}

TEST(SimDisk, DirtyOpsBeyondTheBoundAreWrittenBack) {
  SimDisk::Options options;
  options.dirty_ops_max = 2;
  SyncedFile s(25, "", options);
  for (char c : std::string("abcde")) ASSERT_TRUE(s.h.append(s.file, Bytes(1, c)).ok());
  EXPECT_EQ(text_of(*s.h.disk->durable_contents("f")), "abc");
  EXPECT_EQ(s.h.disk->counters().writebacks, 3u);
}

TEST(SimDisk, FaultsAreTraced) {
  DiskHarness h(26, {}, /*keep_trace=*/true);
  FilePtr f = h.open("f").value();
  ASSERT_TRUE(h.append(f, Bytes(600, 1)).ok());
  ASSERT_TRUE(h.fsync(f).ok());
  ASSERT_TRUE(h.disk->flip_random_bit());
  ASSERT_TRUE(h.disk->mark_bad_sector("f", 1));
  h.disk->stall(h.world.now() + seconds(1));
  h.disk->wipe();
  std::string all;
  for (const std::string& line : h.world.trace_log().kept_lines()) all += line + "\n";
  EXPECT_NE(all.find("\"disk.fsync\""), std::string::npos) << all;
  EXPECT_NE(all.find("\"bit_flip_at_rest\""), std::string::npos) << all;
  EXPECT_NE(all.find("\"kind\":\"bad_sector\",\"path\":\"f\",\"position\":512"), std::string::npos)
      << all;
  EXPECT_NE(all.find("\"stall\""), std::string::npos) << all;
  EXPECT_NE(all.find("\"wipe\""), std::string::npos) << all;
}

// Same seed, same calls, same faults: the same trace, byte for byte.
TEST(SimDisk, Deterministic) {
  auto run = [](uint64_t seed) {
    SimDisk::Options options;
    options.faults.write_bit_flip_probability = 0.3;
    options.faults.misdirected_write_probability = 0.3;
    options.faults.fsync_eio_probability = 0.2;
    DiskHarness h(seed, options);
    FilePtr f = h.open("f").value();
    for (int i = 0; i < 30; ++i) {
      h.append(f, Bytes(300, static_cast<uint8_t>(i))).status().ignore();
      if (i % 7 == 0) h.fsync(f).ignore();
    }
    h.crash();
    return std::make_pair(h.world.trace_log().hash(), *h.disk->current_contents("f"));
  };
  EXPECT_EQ(run(77), run(77));
  EXPECT_NE(run(77).first, run(78).first);
}

}  // namespace
}  // namespace gregor::sim
