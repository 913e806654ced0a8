// Proves LeaderEpochCache (leader_epoch_cache.h) follows Kafka's LeaderEpochFileCache:
//  - assign: a later batch of the latest epoch changes nothing; a new epoch appends; a lower
//    epoch or start offset truncates the conflicting tail (Kafka 2.1+); invalid input asserts;
//    and over random assigns the invariant (epochs and offsets strictly increasing) holds;
//  - end_offset_for, the OffsetsForLeaderEpoch answers of KIP-279: latest epoch -> log end,
//    an epoch between entries -> (largest epoch below it, next epoch's start), an epoch above
//    the latest or undefined -> (-1, -1), an epoch below the first -> (requested, first start);
//  - truncate_from_end and truncate_from_start, including the boundary cases Kafka documents;
//  - persistence through CheckpointFile on SimDisk: round trip, missing file, damaged file, and
//    entries that break the invariant refused as corrupt.
#include "node/log/leader_epoch_cache.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "sim/sim_disk_test_util.h"

namespace gregor::log {
namespace {

using Entries = std::vector<EpochEntry>;
using EpochEnd = LeaderEpochCache::EpochEnd;

LeaderEpochCache cache_of(const Entries& entries) {
  LeaderEpochCache cache;
  for (const EpochEntry& e : entries) EXPECT_TRUE(cache.assign(e.epoch, e.start_offset));
  return cache;
}

TEST(LeaderEpochCache, EmptyCache) {
  LeaderEpochCache cache;
  EXPECT_TRUE(cache.empty());
  EXPECT_EQ(cache.latest_epoch(), std::nullopt);
  EXPECT_EQ(cache.latest_entry(), std::nullopt);
  EXPECT_EQ(cache.earliest_entry(), std::nullopt);
  EXPECT_EQ(cache.start_offset(0), std::nullopt);
  EXPECT_EQ(cache.epoch_for_offset(0), std::nullopt);
  EXPECT_EQ(cache.end_offset_for(0, 100), (EpochEnd{kUndefinedEpoch, kUndefinedEpochOffset}));
}

TEST(LeaderEpochCache, AssignAppendsNewEpochsAndIgnoresLaterBatchesOfTheLatest) {
  LeaderEpochCache cache;
  EXPECT_TRUE(cache.assign(2, 10));
  EXPECT_FALSE(cache.assign(2, 10));  // the same entry again
  EXPECT_FALSE(cache.assign(2, 15));  // a later batch of epoch 2
  EXPECT_TRUE(cache.assign(4, 20));   // epochs may skip
  EXPECT_TRUE(cache.assign(5, 20));   // an epoch with no records yet: same start, replaces 4
  EXPECT_EQ(cache.entries(), (Entries{{2, 10}, {5, 20}}));
  EXPECT_EQ(cache.latest_epoch(), 5);
  EXPECT_EQ(cache.latest_entry(), (EpochEntry{5, 20}));
  EXPECT_EQ(cache.earliest_entry(), (EpochEntry{2, 10}));
  EXPECT_EQ(cache.start_offset(2), 10);
  EXPECT_EQ(cache.start_offset(4), std::nullopt);
  EXPECT_EQ(cache.start_offset(5), 20);
}

TEST(LeaderEpochCache, AssignTruncatesConflictingEntriesAsKafkaDoes) {
  // Same epoch, earlier start: the epoch's start moves back.
  LeaderEpochCache a = cache_of({{1, 0}, {3, 50}});
  EXPECT_TRUE(a.assign(3, 40));
  EXPECT_EQ(a.entries(), (Entries{{1, 0}, {3, 40}}));
  // Lower epoch than the latest: the later epochs go (Kafka removes entries with epoch >= new).
  LeaderEpochCache b = cache_of({{1, 0}, {3, 50}, {5, 80}});
  EXPECT_TRUE(b.assign(4, 90));
  EXPECT_EQ(b.entries(), (Entries{{1, 0}, {3, 50}, {4, 90}}));
  // Higher epoch but an offset below existing starts: those entries go.
  LeaderEpochCache c = cache_of({{1, 0}, {3, 50}, {5, 80}});
  EXPECT_TRUE(c.assign(6, 60));
  EXPECT_EQ(c.entries(), (Entries{{1, 0}, {3, 50}, {6, 60}}));
  // Everything conflicts.
  LeaderEpochCache d = cache_of({{3, 50}, {5, 80}});
  EXPECT_TRUE(d.assign(2, 10));
  EXPECT_EQ(d.entries(), (Entries{{2, 10}}));
}

TEST(LeaderEpochCacheDeathTest, InvalidEntriesAreProgrammingErrors) {
  LeaderEpochCache cache;
  EXPECT_DEATH(cache.assign(kUndefinedEpoch, 5), "invalid leader epoch entry");
  EXPECT_DEATH(cache.assign(1, -1), "invalid leader epoch entry");
}

RC_GTEST_PROP(LeaderEpochCache, AssignKeepsEntriesStrictlyIncreasing,
              (std::vector<std::pair<uint8_t, uint8_t>> assigns)) {
  LeaderEpochCache cache;
  for (auto [epoch, offset] : assigns) {
    Entries before = cache.entries();
    bool changed = cache.assign(epoch, offset);
    // The assigned epoch is the latest and covers the offset, whether it was new or not.
    RC_ASSERT(cache.latest_epoch() == std::optional<int32_t>(epoch));
    RC_ASSERT(cache.epoch_for_offset(offset) == std::optional<int32_t>(epoch));
    const Entries& e = cache.entries();
    RC_ASSERT(changed == (e != before));
    // Only a tail was replaced: what precedes the last entry was there before.
    RC_ASSERT(e.size() <= before.size() + 1);
    RC_ASSERT(std::equal(e.begin(), e.end() - 1, before.begin()));
    for (size_t i = 1; i < e.size(); ++i) {
      RC_ASSERT(e[i - 1].epoch < e[i].epoch);
      RC_ASSERT(e[i - 1].start_offset < e[i].start_offset);
    }
  }
}

TEST(LeaderEpochCache, EndOffsetForFollowsKip279) {
  // Epochs 1, 3 and 6 start at offsets 0, 10 and 25; the log ends at 40.
  LeaderEpochCache cache = cache_of({{1, 0}, {3, 10}, {6, 25}});
  // The latest epoch ends at the log end offset.
  EXPECT_EQ(cache.end_offset_for(6, 40), (EpochEnd{6, 40}));
  // A cached epoch ends where the next one starts.
  EXPECT_EQ(cache.end_offset_for(1, 40), (EpochEnd{1, 10}));
  EXPECT_EQ(cache.end_offset_for(3, 40), (EpochEnd{3, 25}));
  // An epoch between entries (this leader never saw epoch 2 or 4): the largest epoch below it,
  // and the start of the next epoch above it. The follower learns to truncate there.
  EXPECT_EQ(cache.end_offset_for(2, 40), (EpochEnd{1, 10}));
  EXPECT_EQ(cache.end_offset_for(4, 40), (EpochEnd{3, 25}));
  EXPECT_EQ(cache.end_offset_for(5, 40), (EpochEnd{3, 25}));
  // Above the latest epoch: undefined.
  EXPECT_EQ(cache.end_offset_for(7, 40), (EpochEnd{kUndefinedEpoch, kUndefinedEpochOffset}));
  // Undefined requested: undefined.
  EXPECT_EQ(cache.end_offset_for(kUndefinedEpoch, 40),
            (EpochEnd{kUndefinedEpoch, kUndefinedEpochOffset}));
  // Below the first epoch (older ones were truncated from the start): the requested epoch and
  // the first known start offset, as Kafka's code does.
  LeaderEpochCache trimmed = cache_of({{3, 10}, {6, 25}});
  EXPECT_EQ(trimmed.end_offset_for(1, 40), (EpochEnd{1, 10}));
  EXPECT_EQ(trimmed.end_offset_for(0, 40), (EpochEnd{0, 10}));
}

TEST(LeaderEpochCache, EpochForOffset) {
  LeaderEpochCache cache = cache_of({{1, 5}, {3, 10}, {6, 25}});
  EXPECT_EQ(cache.epoch_for_offset(4), std::nullopt);
  EXPECT_EQ(cache.epoch_for_offset(5), 1);
  EXPECT_EQ(cache.epoch_for_offset(9), 1);
  EXPECT_EQ(cache.epoch_for_offset(10), 3);
  EXPECT_EQ(cache.epoch_for_offset(1000), 6);
}

TEST(LeaderEpochCache, TruncateFromEndRemovesEntriesStartingAtOrAfter) {
  LeaderEpochCache cache = cache_of({{1, 0}, {3, 10}, {6, 25}});
  EXPECT_FALSE(cache.truncate_from_end(26));  // every start is below
  EXPECT_FALSE(cache.truncate_from_end(-1));  // ignored, as Kafka does
  EXPECT_TRUE(cache.truncate_from_end(25));
  EXPECT_EQ(cache.entries(), (Entries{{1, 0}, {3, 10}}));
  EXPECT_TRUE(cache.truncate_from_end(5));
  EXPECT_EQ(cache.entries(), (Entries{{1, 0}}));
  EXPECT_TRUE(cache.truncate_from_end(0));
  EXPECT_TRUE(cache.empty());
}

TEST(LeaderEpochCache, TruncateFromStartMovesTheFirstEpochToTheNewStart) {
  LeaderEpochCache cache = cache_of({{1, 0}, {3, 10}, {6, 25}});
  // At the first entry's own start: it is removed and re-added as it was.
  EXPECT_FALSE(cache.truncate_from_start(0));
  EXPECT_EQ(cache.entries(), (Entries{{1, 0}, {3, 10}, {6, 25}}));
  // Inside epoch 1: epoch 1 now starts at 5.
  EXPECT_TRUE(cache.truncate_from_start(5));
  EXPECT_EQ(cache.entries(), (Entries{{1, 5}, {3, 10}, {6, 25}}));
  // Exactly at epoch 3's start ("exclusive": the entry at the offset is kept): epoch 1 goes.
  EXPECT_TRUE(cache.truncate_from_start(10));
  EXPECT_EQ(cache.entries(), (Entries{{3, 10}, {6, 25}}));
  // Past the last start: only the latest epoch remains, starting there.
  EXPECT_TRUE(cache.truncate_from_start(30));
  EXPECT_EQ(cache.entries(), (Entries{{6, 30}}));
  LeaderEpochCache later = cache_of({{3, 10}});
  EXPECT_FALSE(later.truncate_from_start(9));  // before the first start: nothing removed
  EXPECT_EQ(later.entries(), (Entries{{3, 10}}));
}

TEST(LeaderEpochCache, CheckpointEntriesAreKafkasLines) {
  LeaderEpochCache cache = cache_of({{1, 0}, {3, 10}});
  EXPECT_EQ(cache.to_checkpoint(), (CheckpointEntries{{"1", 0}, {"3", 10}}));
  Bytes bytes = CheckpointFile::encode(cache.to_checkpoint());
  EXPECT_TRUE(as_chars(bytes).starts_with("0\n2\n1 0\n3 10\ncrc32c "));
}

TEST(LeaderEpochCache, FromCheckpointRefusesBrokenInvariants) {
  auto code = [](const CheckpointEntries& e) {
    return LeaderEpochCache::from_checkpoint(e).code();
  };
  EXPECT_EQ(code({{"1", 0}, {"3", 10}}), Errc::ok);
  EXPECT_EQ(code({}), Errc::ok);
  EXPECT_EQ(code({{"3", 0}, {"1", 10}}), Errc::corrupt);   // epochs go back
  EXPECT_EQ(code({{"1", 10}, {"3", 10}}), Errc::corrupt);  // offsets do not increase
  EXPECT_EQ(code({{"1", 0}, {"1", 10}}), Errc::corrupt);   // duplicate epoch
  EXPECT_EQ(code({{"-1", 0}}), Errc::corrupt);
  EXPECT_EQ(code({{"1", -5}}), Errc::corrupt);
  EXPECT_EQ(code({{"01", 0}}), Errc::corrupt);
  EXPECT_EQ(code({{"2147483648", 0}}), Errc::corrupt);  // above int32
  EXPECT_EQ(code({{"high_watermark", 0}}), Errc::corrupt);
}

// Persistence through CheckpointFile on SimDisk.
struct Fixture {
  explicit Fixture(uint64_t seed) : h(seed), file(*h.disk, "leader-epoch-checkpoint") {}
  Status write(const LeaderEpochCache& cache) {
    return h.await<Status>([&](auto cb) { cache.write_to(file, cb); });
  }
  Result<LeaderEpochCache> read() {
    return h.await<Result<LeaderEpochCache>>(
        [&](auto cb) { LeaderEpochCache::read_from(file, cb); });
  }
  sim::testing::DiskHarness h;
  CheckpointFile file;
};

TEST(LeaderEpochCachePersistence, RoundTripsThroughACrash) {
  Fixture t(1);
  EXPECT_EQ(t.read().code(), Errc::not_found);  // a new replica starts empty
  LeaderEpochCache cache = cache_of({{0, 0}, {2, 17}, {7, 1000000000000}});
  ASSERT_TRUE(t.write(cache).ok());
  t.h.crash();
  CheckpointFile reopened(*t.h.disk, "leader-epoch-checkpoint");
  auto read = t.h.await<Result<LeaderEpochCache>>(
      [&](auto cb) { LeaderEpochCache::read_from(reopened, cb); });
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->entries(), cache.entries());
  ASSERT_TRUE(t.write(LeaderEpochCache()).ok());  // an empty cache persists too
  EXPECT_TRUE(t.read().value().empty());
}

TEST(LeaderEpochCachePersistence, DamagedFileIsCorrupt) {
  Fixture t(2);
  ASSERT_TRUE(t.write(cache_of({{0, 0}, {2, 17}})).ok());
  ASSERT_TRUE(t.h.disk->flip_random_bit());
  EXPECT_EQ(t.read().code(), Errc::corrupt);
  // A file with a valid CRC but entries out of order is refused too.
  ASSERT_TRUE(t.h.await<Status>([&](auto cb) { t.file.write({{"5", 10}, {"2", 20}}, cb); }).ok());
  EXPECT_EQ(t.read().code(), Errc::corrupt);
}

}  // namespace
}  // namespace gregor::log
