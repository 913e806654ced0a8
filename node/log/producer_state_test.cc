// Proves ProducerStateManager follows Kafka's idempotent-producer rules and that its snapshots
// survive a round trip and never survive damage:
//  - hand-written cases for each rule: non-idempotent batches pass; an unknown producer must start
//    at sequence 0 (else UNKNOWN_PRODUCER_ID); an older epoch is fenced (INVALID_PRODUCER_EPOCH);
//    a newer epoch restarts at 0 (else OUT_OF_ORDER_SEQUENCE_NUMBER); a retry of any of the last
//    5 batches is a duplicate carrying its original offsets while a 6th older one is out of order;
//    sequences wrap from INT32_MAX to 0; error messages name the producer and sequences;
//  - truncate_from / truncate_before / reset, and snapshot file names;
//  - snapshots: the documented layout, round trips of random producer histories, every single-bit
//    flip and every truncation rejected as Errc::corrupt, content that breaks the invariants
//    rejected even under a valid CRC, and arbitrary bytes never crash the decoder;
//  - a RapidCheck property against a naive model that keeps every appended batch of every producer
//    and reads Kafka's rules off that full history: check() agrees on every attempt (duplicate with
//    the same original batch, or the same Kafka error), and the retained state equals the model's
//    last 5 batches of the current epoch, across retention and snapshot round trips.
#include "node/log/producer_state.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "base/crc32c.h"
#include "base/random.h"

namespace gregor::log {
namespace {

using Kind = ProducerCheck::Kind;
using kafka::ErrorCode;

constexpr int32_t kMaxSeq = std::numeric_limits<int32_t>::max();
// Kafka's NUM_BATCHES_TO_RETAIN, stated here independently of the code under test.
constexpr size_t kKafkaWindow = 5;
static_assert(kProducerBatchesRetained == kKafkaWindow);
constexpr int64_t kSequenceSpace = int64_t{kMaxSeq} + 1;

int32_t wrap(int64_t sequence) {
  return static_cast<int32_t>(sequence % kSequenceSpace);
}
// Records in a batch with header sequences [first, last] (the range may wrap).
int64_t record_count(int32_t first, int32_t last) {
  return (int64_t{last} - first + kSequenceSpace) % kSequenceSpace + 1;
}

// Drives a ProducerStateManager the way the log does: check(), then update() at the next offsets.
struct FakeLog {
  ProducerStateManager state;
  int64_t next_offset = 0;

  Result<ProducerCheck> produce(int64_t producer_id, int16_t epoch, int32_t first, int32_t last) {
    Result<ProducerCheck> c = state.check(producer_id, epoch, first, last);
    if (c.ok() && c->kind == Kind::append) {
      int64_t count = record_count(first, last);
      state.update(producer_id, epoch,
                   ProducerBatch{first, last, next_offset, next_offset + count - 1, next_offset});
      next_offset += count;
    }
    return c;
  }
  ProducerBatch append(int64_t producer_id, int16_t epoch, int32_t first, int32_t last) {
    Result<ProducerCheck> c = produce(producer_id, epoch, first, last);
    GREGOR_ASSERT(c.ok() && c->kind == Kind::append, "{}", c.status());
    return state.find(producer_id)->batches.back();
  }
};

ErrorCode error_of(const Result<ProducerCheck>& c) {
  return c.ok() ? ErrorCode::none : producer_error_code(c.status());
}

TEST(ProducerState, NonIdempotentBatchesAlwaysAppend) {
  FakeLog log;
  log.append(1, 0, 0, 4);
  for (int64_t id : {kNoProducerId, int64_t{-7}}) {
    auto c = log.state.check(id, 0, 17, 20);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->kind, Kind::append);
  }
  log.state.update(kNoProducerId, -1, ProducerBatch{-1, -1, 5, 9, 0});
  EXPECT_EQ(log.state.producer_count(), 1u);
  EXPECT_EQ(log.state.map_end_offset(), 10);
}

TEST(ProducerState, UnknownProducerMustStartAtSequenceZero) {
  FakeLog log;
  auto gap = log.state.check(7, 0, 5, 9);
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.code(), Errc::not_found);
  EXPECT_EQ(producer_error_code(gap.status()), ErrorCode::unknown_producer_id);
  EXPECT_EQ(gap.status().message(),
            "UNKNOWN_PRODUCER_ID: producer 7 epoch 0 has no state in this partition; sequences "
            "5..9 do not start at 0");
  auto first = log.state.check(7, 3, 0, 4);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->kind, Kind::append);
  EXPECT_FALSE(first->original.has_value());
}

TEST(ProducerState, InSequenceAppendsAndGapsAreOutOfOrder) {
  FakeLog log;
  log.append(7, 0, 0, 4);
  log.append(7, 0, 5, 9);
  auto gap = log.produce(7, 0, 11, 12);
  EXPECT_EQ(error_of(gap), ErrorCode::out_of_order_sequence_number);
  EXPECT_EQ(gap.code(), Errc::out_of_range);
  EXPECT_EQ(gap.status().message(),
            "OUT_OF_ORDER_SEQUENCE_NUMBER: producer 7 epoch 0 sent sequences 11..12, expected "
            "first sequence 10 after 9");
  // Overlapping a retained batch without matching it exactly is not a duplicate.
  EXPECT_EQ(error_of(log.produce(7, 0, 5, 8)), ErrorCode::out_of_order_sequence_number);
  EXPECT_EQ(error_of(log.produce(7, 0, 3, 9)), ErrorCode::out_of_order_sequence_number);
  EXPECT_EQ(error_of(log.produce(7, 0, 10, 10)), ErrorCode::none);
  EXPECT_EQ(log.state.find(7)->batches.size(), 3u);
}

TEST(ProducerState, DuplicateOfEachOfTheLastFiveReturnsTheOriginalOffsets) {
  FakeLog log;
  std::vector<ProducerBatch> originals;
  for (int i = 0; i < 6; ++i) {
    originals.push_back(log.append(7, 2, 3 * i, 3 * i + 2));
    log.append(8, 0, i, i);  // another producer in between: offsets are not contiguous
  }
  ASSERT_EQ(log.state.find(7)->batches.size(), size_t{kProducerBatchesRetained});
  for (int i = 1; i < 6; ++i) {
    auto c = log.produce(7, 2, 3 * i, 3 * i + 2);
    ASSERT_TRUE(c.ok()) << i;
    EXPECT_EQ(c->kind, Kind::duplicate) << i;
    ASSERT_TRUE(c->original.has_value());
    EXPECT_EQ(*c->original, originals[i]) << i;
  }
  // The 6th newest fell out of the window: Kafka cannot tell it from a rewind.
  EXPECT_EQ(error_of(log.produce(7, 2, 0, 2)), ErrorCode::out_of_order_sequence_number);
  // Duplicates change nothing.
  EXPECT_EQ(log.state.find(7)->batches.back(), originals[5]);
  EXPECT_EQ(log.next_offset, 24);
}

TEST(ProducerState, OlderEpochIsFenced) {
  FakeLog log;
  log.append(7, 3, 0, 4);
  auto next = log.produce(7, 2, 5, 9);
  EXPECT_EQ(next.code(), Errc::invalid_argument);
  EXPECT_EQ(error_of(next), ErrorCode::invalid_producer_epoch);
  EXPECT_EQ(next.status().message(),
            "INVALID_PRODUCER_EPOCH: producer 7 epoch 2 is older than its current epoch 3 "
            "(sequences 5..9)");
  // Even an exact retry of a retained range is fenced when it carries an older epoch.
  EXPECT_EQ(error_of(log.produce(7, 2, 0, 4)), ErrorCode::invalid_producer_epoch);
  EXPECT_EQ(error_of(log.produce(7, 2, 0, 0)), ErrorCode::invalid_producer_epoch);
}

TEST(ProducerState, NewerEpochRestartsTheSequenceAtZero) {
  FakeLog log;
  log.append(7, 0, 0, 4);
  auto cont = log.produce(7, 1, 5, 9);
  EXPECT_EQ(error_of(cont), ErrorCode::out_of_order_sequence_number);
  EXPECT_EQ(cont.status().message(),
            "OUT_OF_ORDER_SEQUENCE_NUMBER: producer 7 new epoch 1 (current 0) must start at "
            "sequence 0, got sequences 5..9");
  // The same range as a batch of the old epoch is new data in the new epoch, not a retry.
  auto restart = log.produce(7, 1, 0, 4);
  ASSERT_TRUE(restart.ok());
  EXPECT_EQ(restart->kind, Kind::append);
  const ProducerEntry* entry = log.state.find(7);
  EXPECT_EQ(entry->epoch, 1);
  ASSERT_EQ(entry->batches.size(), 1u);
  EXPECT_EQ(entry->batches.front().first_offset, 5);
  EXPECT_EQ(error_of(log.produce(7, 0, 5, 9)), ErrorCode::invalid_producer_epoch);
  EXPECT_EQ(error_of(log.produce(7, 1, 5, 5)), ErrorCode::none);
  // An epoch may jump by more than one.
  EXPECT_EQ(error_of(log.produce(7, 9, 0, 0)), ErrorCode::none);
}

TEST(ProducerState, SequenceWrapsFromInt32MaxToZero) {
  FakeLog log;
  log.append(7, 0, 0, kMaxSeq - 3);
  ProducerBatch top = log.append(7, 0, kMaxSeq - 2, kMaxSeq);
  EXPECT_EQ(error_of(log.produce(7, 0, 1, 4)), ErrorCode::out_of_order_sequence_number);
  EXPECT_EQ(error_of(log.produce(7, 0, 0, 4)), ErrorCode::none);
  auto retry = log.produce(7, 0, kMaxSeq - 2, kMaxSeq);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->kind, Kind::duplicate);
  EXPECT_EQ(*retry->original, top);

  // A batch whose own range wraps: [INT32_MAX - 1, 1] holds 4 records.
  log.append(8, 0, 0, kMaxSeq - 2);
  ProducerBatch wrapped = log.append(8, 0, kMaxSeq - 1, 1);
  EXPECT_EQ(wrapped.last_offset - wrapped.first_offset + 1, 4);
  EXPECT_EQ(error_of(log.produce(8, 0, 0, 1)), ErrorCode::out_of_order_sequence_number);
  EXPECT_EQ(log.produce(8, 0, kMaxSeq - 1, 1)->kind, Kind::duplicate);
  EXPECT_EQ(error_of(log.produce(8, 0, 2, 3)), ErrorCode::none);
}

TEST(ProducerState, ErrorCodeOfOtherStatuses) {
  EXPECT_EQ(producer_error_code(Status::Ok()), ErrorCode::none);
  EXPECT_EQ(producer_error_code(error(Errc::io_error, "disk")), ErrorCode::unknown_server_error);
}

// Producer 1 at offsets 0-1, 4-5, 8-9; producer 2 at 2-3, 6-7.
FakeLog two_producers() {
  FakeLog log;
  log.append(1, 0, 0, 1);
  log.append(2, 0, 0, 1);
  log.append(1, 0, 2, 3);
  log.append(2, 0, 2, 3);
  log.append(1, 0, 4, 5);
  return log;
}

TEST(ProducerState, TruncateFromForgetsTheSuffix) {
  FakeLog log = two_producers();
  EXPECT_EQ(log.state.map_end_offset(), 10);
  log.state.truncate_from(6);
  EXPECT_EQ(log.state.map_end_offset(), 6);
  ASSERT_EQ(log.state.find(1)->batches.size(), 2u);
  EXPECT_EQ(log.state.find(1)->batches.back().last_offset, 5);
  EXPECT_EQ(log.state.find(1)->last_timestamp, 4);  // FakeLog stamps a batch with its offset
  ASSERT_EQ(log.state.find(2)->batches.size(), 1u);
  // Producer 2 resumes after its retained tail; its truncated batch is not a duplicate any more.
  EXPECT_EQ(error_of(log.state.check(2, 0, 2, 3)), ErrorCode::none);
  log.state.truncate_from(2);
  EXPECT_EQ(log.state.producer_count(), 1u);
  EXPECT_EQ(log.state.find(2), nullptr);
  EXPECT_EQ(error_of(log.state.check(2, 0, 2, 3)), ErrorCode::unknown_producer_id);
  log.state.truncate_from(50);  // above the end: nothing moves
  EXPECT_EQ(log.state.map_end_offset(), 2);
  EXPECT_EQ(log.state.producer_count(), 1u);
  log.state.truncate_from(0);
  EXPECT_EQ(log.state.producer_count(), 0u);
  EXPECT_EQ(log.state.map_end_offset(), 0);
}

TEST(ProducerState, TruncateBeforeForgetsProducersBelowTheLogStart) {
  FakeLog log = two_producers();
  log.state.truncate_before(8);  // producer 2 ends at 7, producer 1 at 9
  EXPECT_EQ(log.state.find(2), nullptr);
  ASSERT_NE(log.state.find(1), nullptr);
  EXPECT_EQ(log.state.find(1)->batches.size(), 3u);  // older batches of a live producer stay
  EXPECT_EQ(log.state.map_end_offset(), 10);
  EXPECT_EQ(error_of(log.state.check(2, 0, 4, 5)), ErrorCode::unknown_producer_id);
  EXPECT_EQ(log.state.check(1, 0, 0, 1)->kind, Kind::duplicate);
  log.state.truncate_before(100);
  EXPECT_EQ(log.state.producer_count(), 0u);
  EXPECT_EQ(log.state.map_end_offset(), 100);
}

TEST(ProducerState, ResetForgetsEverything) {
  FakeLog log = two_producers();
  log.state.reset(3);
  EXPECT_EQ(log.state, ProducerStateManager(3));
  log.state.set_map_end_offset(42);
  EXPECT_EQ(log.state.map_end_offset(), 42);
}

TEST(ProducerStateDeathTest, UpdateBelowTheProducersNewestBatchAsserts) {
  FakeLog log = two_producers();
  EXPECT_DEATH(log.state.update(1, 0, ProducerBatch{6, 6, 9, 9, 0}), "not above its last batch");
  EXPECT_DEATH(log.state.update(3, 0, ProducerBatch{0, 0, 12, 11, 0}), "offsets 12..11");
}

TEST(ProducerSnapshot, FileNames) {
  using M = ProducerStateManager;
  EXPECT_EQ(M::snapshot_file_name(0), "00000000000000000000.snapshot");
  EXPECT_EQ(M::snapshot_file_name(1234), "00000000000000001234.snapshot");
  EXPECT_EQ(M::snapshot_file_name(std::numeric_limits<int64_t>::max()),
            "09223372036854775807.snapshot");
  for (int64_t offset : {int64_t{0}, int64_t{1234}, std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(M::parse_snapshot_file_name(M::snapshot_file_name(offset)), offset);
  }
  for (const char* bad : {"", "1234.snapshot", "00000000000000001234.log",
                          "00000000000000001234.snapshot.deleted", "0000000000000000123a.snapshot",
                          "-0000000000000001234.snapshot", "09223372036854775808.snapshot",
                          "99999999999999999999.snapshot", "000000000000000001234.snapshot"}) {
    EXPECT_EQ(M::parse_snapshot_file_name(bad), std::nullopt) << bad;
  }
}

// Builds a snapshot by hand from the documented layout: version, CRC over all but itself, body.
Bytes seal(const Bytes& body, int16_t version = kProducerSnapshotVersion) {
  Bytes out;
  Writer w(out);
  w.be<int16_t>(version);
  w.be<uint32_t>(0);
  w.bytes(body);
  uint32_t crc = crc32c(crc32c(0, out.data(), 2), out.data() + 6, out.size() - 6);
  w.patch_be<uint32_t>(2, crc);
  return out;
}

struct BodyWriter {
  Bytes body;
  Writer w{body};
  BodyWriter(int64_t map_end_offset, int32_t producers) {
    w.be<int64_t>(map_end_offset);
    w.be<int32_t>(producers);
  }
  BodyWriter& producer(int64_t id, int16_t epoch, uint8_t batch_count) {
    w.be<int64_t>(id);
    w.be<int16_t>(epoch);
    w.u8(batch_count);
    return *this;
  }
  BodyWriter& batch(const ProducerBatch& b) {
    w.be<int32_t>(b.first_sequence);
    w.be<int32_t>(b.last_sequence);
    w.be<int64_t>(b.first_offset);
    w.be<int64_t>(b.last_offset);
    w.be<int64_t>(b.timestamp);
    return *this;
  }
};

TEST(ProducerSnapshot, EmptyStateRoundTrips) {
  ProducerStateManager empty(77);
  Bytes bytes = empty.encode_snapshot();
  EXPECT_EQ(bytes, seal(BodyWriter(77, 0).body));
  auto decoded = ProducerStateManager::decode_snapshot(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, empty);
}

TEST(ProducerSnapshot, MatchesTheDocumentedLayout) {
  FakeLog log = two_producers();
  log.state.update(2, 5, ProducerBatch{0, 0, 10, 10, -3});
  BodyWriter expected(11, 2);
  expected.producer(1, 0, 3)
      .batch({0, 1, 0, 1, 0})
      .batch({2, 3, 4, 5, 4})
      .batch({4, 5, 8, 9, 8})
      .producer(2, 5, 1)
      .batch({0, 0, 10, 10, -3});
  EXPECT_EQ(to_hex(log.state.encode_snapshot()), to_hex(seal(expected.body)));
  auto decoded = ProducerStateManager::decode_snapshot(log.state.encode_snapshot());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, log.state);
  EXPECT_EQ(decoded->find(2)->last_timestamp, -3);
}

TEST(ProducerSnapshot, EveryBitFlipEveryTruncationAndAnyExtraByteIsCorrupt) {
  FakeLog log = two_producers();
  log.append(9, 4, 0, kMaxSeq);
  Bytes good = log.state.encode_snapshot();
  ASSERT_TRUE(ProducerStateManager::decode_snapshot(good).ok());
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    Bytes bad = good;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    ASSERT_EQ(ProducerStateManager::decode_snapshot(bad).code(), Errc::corrupt) << "bit " << bit;
  }
  for (size_t len = 0; len < good.size(); ++len) {
    ByteView prefix(good.data(), len);
    ASSERT_EQ(ProducerStateManager::decode_snapshot(prefix).code(), Errc::corrupt) << len;
  }
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(ProducerStateManager::decode_snapshot(longer).code(), Errc::corrupt);
}

TEST(ProducerSnapshot, BrokenInvariantsAreCorruptEvenUnderAValidCrc) {
  const ProducerBatch b{0, 0, 5, 5, 0};
  struct Case {
    const char* what;
    Bytes bytes;
  };
  std::vector<Case> cases = {
      {"unknown version", seal(BodyWriter(0, 0).body, 2)},
      {"negative map end", seal(BodyWriter(-1, 0).body)},
      {"negative count", seal(BodyWriter(0, -1).body)},
      {"count above entries", seal(BodyWriter(0, 1).body)},
      {"no batches", seal(BodyWriter(0, 1).producer(1, 0, 0).body)},
      {"six batches", seal(BodyWriter(0, 1).producer(1, 0, 6).body)},
      {"negative producer id", seal(BodyWriter(0, 1).producer(-1, 0, 1).batch(b).body)},
      {"producers out of order",
       seal(BodyWriter(0, 2).producer(2, 0, 1).batch(b).producer(1, 0, 1).batch(b).body)},
      {"same producer twice",
       seal(BodyWriter(0, 2).producer(1, 0, 1).batch(b).producer(1, 0, 1).batch(b).body)},
      {"offsets reversed", seal(BodyWriter(0, 1).producer(1, 0, 1).batch({0, 0, 6, 5, 0}).body)},
      {"negative offset", seal(BodyWriter(0, 1).producer(1, 0, 1).batch({0, 0, -1, 5, 0}).body)},
      {"batches overlap",
       seal(BodyWriter(0, 1).producer(1, 0, 2).batch(b).batch({1, 1, 5, 6, 0}).body)},
  };
  for (const Case& c : cases) {
    auto decoded = ProducerStateManager::decode_snapshot(c.bytes);
    EXPECT_EQ(decoded.code(), Errc::corrupt) << c.what;
  }
}

// ---- The naive model: every appended batch of every producer, and Kafka's rules read off it.

struct ModelBatch {
  int16_t epoch;
  ProducerBatch batch;
};

struct Expected {
  ErrorCode error = ErrorCode::none;
  std::optional<ProducerBatch> duplicate;
};

struct Model {
  std::map<int64_t, std::vector<ModelBatch>> history;  // producers with no batches are erased
  int64_t map_end_offset = 0;

  // The batches of the producer's current epoch: epochs only grow, so they end its history.
  std::vector<ProducerBatch> current_run(int64_t producer_id) const {
    std::vector<ProducerBatch> run;
    auto it = history.find(producer_id);
    if (it == history.end()) return run;
    for (auto b = it->second.rbegin(); b != it->second.rend(); ++b) {
      if (b->epoch != it->second.back().epoch) break;
      run.insert(run.begin(), b->batch);
    }
    return run;
  }

  Expected check(int64_t producer_id, int16_t epoch, int32_t first, int32_t last) const {
    if (producer_id < 0) return {};
    auto it = history.find(producer_id);
    if (it == history.end()) return {first == 0 ? ErrorCode::none : ErrorCode::unknown_producer_id};
    int16_t current = it->second.back().epoch;
    if (epoch < current) return {ErrorCode::invalid_producer_epoch};
    if (epoch > current) {
      return {first == 0 ? ErrorCode::none : ErrorCode::out_of_order_sequence_number};
    }
    std::vector<ProducerBatch> run = current_run(producer_id);
    size_t from = run.size() > kKafkaWindow ? run.size() - kKafkaWindow : 0;
    for (size_t i = from; i < run.size(); ++i) {
      if (run[i].first_sequence == first && run[i].last_sequence == last) return {{}, run[i]};
    }
    int32_t after = run.back().last_sequence;
    bool next = first == (after == kMaxSeq ? 0 : after + 1);
    return {next ? ErrorCode::none : ErrorCode::out_of_order_sequence_number};
  }
};

enum class Action : uint8_t {
  next,             // the next sequence in the current epoch
  duplicate,        // the exact range of one of the last 7 batches (5 retained, 2 beyond)
  near_duplicate,   // one of those ranges, one record longer
  random_sequence,  // any small first sequence, epoch around the current one
  bump_epoch,       // a newer epoch, usually at sequence 0
  stale_epoch,      // an older epoch
  non_idempotent,   // producer id -1
  truncate_before,  // retention moves the log start
  snapshot,         // state := decode(encode(state))
};

struct Step {
  Action action;
  int producer;
  uint32_t a;
  uint32_t b;
};

// Runs steps on a ProducerStateManager and on the model side by side. run() returns "" or what
// disagreed. appends, duplicates and errors count what the attempts led to, to show the steps
// reach every rule.
struct Harness {
  FakeLog log;
  Model model;
  std::map<ErrorCode, int> errors;
  int appends = 0;
  int duplicates = 0;

  std::string attempt(int64_t id, int16_t epoch, int32_t first, int32_t last) {
    Expected want = model.check(id, epoch, first, last);
    Result<ProducerCheck> got = log.produce(id, epoch, first, last);
    std::string what =
        fmt::format("producer {} epoch {} sequences {}..{}: ", id, epoch, first, last);
    if (want.error != ErrorCode::none) {
      ++errors[want.error];
      if (error_of(got) == want.error) return "";
      return what + fmt::format("want {}, got {}", kafka::error_name(want.error),
                                got.ok() ? "ok" : got.status().to_string());
    }
    if (!got.ok()) return what + "want ok, got " + got.status().to_string();
    if (want.duplicate) {
      ++duplicates;
      if (got->kind == Kind::duplicate && got->original == want.duplicate) return "";
      return what + "want the duplicate at offset " + std::to_string(want.duplicate->first_offset);
    }
    if (got->kind != Kind::append) return what + "want append, got duplicate";
    ++appends;
    if (id >= 0) model.history[id].push_back({epoch, log.state.find(id)->batches.back()});
    model.map_end_offset = std::max(model.map_end_offset, log.next_offset);
    return "";
  }

  std::string run(const Step& s) {
    int64_t id = 100 + s.producer;
    std::vector<ProducerBatch> run = model.current_run(id);
    bool known = !run.empty();
    int16_t epoch = known ? model.history[id].back().epoch : static_cast<int16_t>(s.a % 3);
    int32_t next = known ? wrap(int64_t{run.back().last_sequence} + 1) : 0;
    // Mostly small batches; now and then one of about 2^31 records, so sequences wrap.
    int64_t count = s.b % 16 == 0 ? kMaxSeq - (s.b >> 4) % 8 : 1 + (s.b >> 4) % 5;
    auto range_from = [&](int32_t first) { return wrap(first + count - 1); };
    const ProducerBatch* old =
        known ? &run[run.size() - 1 - s.a % std::min<size_t>(run.size(), 7)] : nullptr;
    switch (s.action) {
      case Action::next:
        return attempt(id, epoch, next, range_from(next));
      case Action::duplicate:
        if (!old) return attempt(id, epoch, 0, range_from(0));
        return attempt(id, epoch, old->first_sequence, old->last_sequence);
      case Action::near_duplicate:
        if (!old) return attempt(id, epoch, 1, 1);
        return attempt(id, epoch, old->first_sequence, wrap(int64_t{old->last_sequence} + 1));
      case Action::random_sequence: {
        int32_t first = static_cast<int32_t>(s.b % 40);
        int16_t e = static_cast<int16_t>(std::max(0, epoch + static_cast<int>(s.a % 3) - 1));
        return attempt(id, e, first, range_from(first));
      }
      case Action::bump_epoch: {
        int32_t first = s.a % 4 == 0 ? static_cast<int32_t>(s.b % 40) : 0;
        return attempt(id, static_cast<int16_t>(epoch + 1 + s.a % 2), first, range_from(first));
      }
      case Action::stale_epoch:
        if (epoch == 0) return attempt(id, epoch, next, range_from(next));
        return attempt(id, static_cast<int16_t>(epoch - 1), next, range_from(next));
      case Action::non_idempotent:
        return attempt(kNoProducerId, -1, -1, -1);
      case Action::truncate_before:
        return truncate_before(uint64_t{s.a} << 32 | s.b);
      case Action::snapshot:
        return round_trip();
    }
    return "unknown action";
  }

  // A log start between the oldest producer's newest batch and the log end (+1), so retention
  // often forgets one or more producers.
  std::string truncate_before(uint64_t r) {
    int64_t lo = log.next_offset;
    for (const auto& [id, history] : model.history) {
      lo = std::min(lo, history.back().batch.last_offset);
    }
    int64_t offset = lo + static_cast<int64_t>(r % static_cast<uint64_t>(log.next_offset - lo + 2));
    log.state.truncate_before(offset);
    std::erase_if(model.history,
                  [&](const auto& kv) { return kv.second.back().batch.last_offset < offset; });
    model.map_end_offset = std::max(model.map_end_offset, offset);
    return "";
  }

  std::string round_trip() {
    auto decoded = ProducerStateManager::decode_snapshot(log.state.encode_snapshot());
    if (!decoded.ok()) return "snapshot: " + decoded.status().to_string();
    if (!(*decoded == log.state)) return "snapshot: decoded state differs";
    log.state = std::move(decoded).value();
    return "";
  }

  // The retained state is exactly the model's current epoch and last 5 batches of it.
  std::string compare_state() const {
    if (log.state.map_end_offset() != model.map_end_offset) return "map end offsets differ";
    if (log.state.producer_count() != model.history.size()) return "producer counts differ";
    for (const auto& [id, history] : model.history) {
      const ProducerEntry* entry = log.state.find(id);
      if (!entry) return fmt::format("producer {} missing", id);
      std::vector<ProducerBatch> run = model.current_run(id);
      size_t from = run.size() > kKafkaWindow ? run.size() - kKafkaWindow : 0;
      std::deque<ProducerBatch> want(run.begin() + static_cast<ptrdiff_t>(from), run.end());
      if (entry->epoch != history.back().epoch || entry->batches != want ||
          entry->last_timestamp != want.back().timestamp) {
        return fmt::format("producer {} state differs from the model", id);
      }
    }
    return "";
  }
};

rc::Gen<Step> step_gen() {
  return rc::gen::apply(
      [](Action action, int producer, uint32_t a, uint32_t b) {
        return Step{action, producer, a, b};
      },
      rc::gen::weightedElement<Action>({{8, Action::next},
                                        {4, Action::duplicate},
                                        {1, Action::near_duplicate},
                                        {2, Action::random_sequence},
                                        {1, Action::bump_epoch},
                                        {1, Action::stale_epoch},
                                        {1, Action::non_idempotent},
                                        {1, Action::truncate_before},
                                        {1, Action::snapshot}}),
      rc::gen::inRange(0, 3), rc::gen::arbitrary<uint32_t>(), rc::gen::arbitrary<uint32_t>());
}

rc::Gen<std::vector<Step>> steps_gen() {
  return rc::gen::scale(2.0, rc::gen::container<std::vector<Step>>(step_gen()));
}

// Runs steps, failing the property at the first disagreement with the model.
void run_steps(Harness& h, const std::vector<Step>& steps) {
  for (const Step& s : steps) {
    std::string diff = h.run(s);
    if (diff.empty()) diff = h.compare_state();
    if (!diff.empty()) RC_FAIL(diff);
  }
}

RC_GTEST_PROP(ProducerStateModel, CheckAgreesWithANaiveModelOfAllBatches, ()) {
  Harness h;
  run_steps(h, *steps_gen());
  RC_CLASSIFY(h.duplicates > 0, "duplicate");
  RC_CLASSIFY(h.errors.contains(ErrorCode::out_of_order_sequence_number), "out of order");
  RC_CLASSIFY(h.errors.contains(ErrorCode::invalid_producer_epoch), "fenced");
}

// The same harness on long seeded runs, to prove the steps reach every rule (RapidCheck's runs
// are shorter and their mix varies by case).
TEST(ProducerStateModel, LongSeededRunsReachEveryRule) {
  Harness h;
  Random random(20240611);
  for (int i = 0; i < 20000; ++i) {
    Step s{static_cast<Action>(random.uniform(0, 8)), static_cast<int>(random.uniform(0, 2)),
           static_cast<uint32_t>(random.next_u64()), static_cast<uint32_t>(random.next_u64())};
    std::string diff = h.run(s);
    if (diff.empty()) diff = h.compare_state();
    ASSERT_EQ(diff, "") << "step " << i;
  }
  EXPECT_GT(h.appends, 1000);
  EXPECT_GT(h.duplicates, 100);
  for (ErrorCode e : {ErrorCode::out_of_order_sequence_number, ErrorCode::invalid_producer_epoch,
                      ErrorCode::unknown_producer_id}) {
    EXPECT_GT(h.errors[e], 100) << kafka::error_name(e);
  }
  bool wrapped = false;
  for (const auto& [id, entry] : h.log.state.producers()) {
    for (const ProducerBatch& b : entry.batches) wrapped |= b.first_sequence > b.last_sequence;
  }
  RecordProperty("wrapped_batch_retained", wrapped ? "yes" : "no");
  RecordProperty("outcomes", fmt::format("{} appends, {} duplicates, {} out of order, {} fenced, "
                                         "{} unknown",
                                         h.appends, h.duplicates,
                                         h.errors[ErrorCode::out_of_order_sequence_number],
                                         h.errors[ErrorCode::invalid_producer_epoch],
                                         h.errors[ErrorCode::unknown_producer_id]));
}

RC_GTEST_PROP(ProducerStateModel, TruncateFromKeepsExactlyTheBatchesBelow, ()) {
  Harness h;
  run_steps(h, *steps_gen());
  int64_t offset = *rc::gen::inRange<int64_t>(0, h.log.next_offset + 2);
  ProducerStateManager before = h.log.state;
  h.log.state.truncate_from(offset);
  RC_ASSERT(h.log.state.map_end_offset() == std::min(before.map_end_offset(), offset));
  size_t kept = 0;
  for (const auto& [id, entry] : before.producers()) {
    std::deque<ProducerBatch> below;
    for (const ProducerBatch& b : entry.batches) {
      if (b.last_offset < offset) below.push_back(b);
    }
    const ProducerEntry* now = h.log.state.find(id);
    if (below.empty()) {
      RC_ASSERT(now == nullptr);
      continue;
    }
    ++kept;
    RC_ASSERT(now != nullptr);
    RC_ASSERT(now->epoch == entry.epoch);
    RC_ASSERT(now->batches == below);
    RC_ASSERT(now->last_timestamp == below.back().timestamp);
  }
  RC_ASSERT(h.log.state.producer_count() == kept);
}

RC_GTEST_PROP(ProducerSnapshot, RandomHistoriesRoundTrip, ()) {
  Harness h;
  run_steps(h, *steps_gen());
  Bytes bytes = h.log.state.encode_snapshot();
  auto decoded = ProducerStateManager::decode_snapshot(bytes);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == h.log.state);
  RC_ASSERT(decoded->encode_snapshot() == bytes);
}

RC_GTEST_PROP(ProducerSnapshot, AnySingleBitFlipOfARandomHistoryIsCorrupt, ()) {
  Harness h;
  run_steps(h, *steps_gen());
  Bytes bytes = h.log.state.encode_snapshot();
  size_t bit = *rc::gen::inRange<size_t>(0, bytes.size() * 8);
  bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  RC_ASSERT(ProducerStateManager::decode_snapshot(bytes).code() == Errc::corrupt);
}

RC_GTEST_PROP(ProducerSnapshot, ArbitraryBytesNeverCrash, (const std::vector<uint8_t>& bytes)) {
  auto decoded = ProducerStateManager::decode_snapshot(bytes);
  RC_ASSERT(decoded.ok() || decoded.code() == Errc::corrupt);
}

// Past the CRC gate: bodies built field by field from small ranges that straddle every validity
// bound (ids, batch counts, offsets, the entry count), sometimes cut short or extended, under a
// valid CRC. Each either fails as corrupt or decodes to a state that encodes back to the very
// same bytes (the format has one encoding per state).
RC_GTEST_PROP(ProducerSnapshot, PlausibleBodiesUnderAValidCrcDecodeCanonicallyOrFail, ()) {
  int32_t producers = *rc::gen::inRange(0, 4);
  BodyWriter body(*rc::gen::inRange<int64_t>(-1, 100),
                  producers + *rc::gen::weightedElement<int32_t>({{8, 0}, {1, -1}, {1, 1}}));
  int64_t id = -1;
  for (int32_t p = 0; p < producers; ++p) {
    id += *rc::gen::inRange<int64_t>(0, 3);  // 0: a repeated (or the first, -1) id
    int batches = *rc::gen::weightedElement<int>({{1, 0}, {8, 1}, {8, 3}, {8, 5}, {1, 6}});
    body.producer(id, *rc::gen::arbitrary<int16_t>(), static_cast<uint8_t>(batches));
    int64_t offset = *rc::gen::inRange<int64_t>(-1, 3);
    for (int i = 0; i < batches; ++i) {
      int64_t last = offset + *rc::gen::inRange<int64_t>(-1, 4);
      body.batch({*rc::gen::arbitrary<int32_t>(), *rc::gen::arbitrary<int32_t>(), offset, last,
                  *rc::gen::arbitrary<int64_t>()});
      offset = last + *rc::gen::inRange<int64_t>(0, 3);  // 0: overlaps the previous batch
    }
  }
  size_t cut = *rc::gen::weightedElement<size_t>({{8, 0}, {1, 1}, {1, 9}});
  body.body.resize(body.body.size() - std::min(cut, body.body.size()));
  body.body.resize(body.body.size() + *rc::gen::weightedElement<size_t>({{8, 0}, {1, 1}}));
  Bytes bytes = seal(body.body);
  auto decoded = ProducerStateManager::decode_snapshot(bytes);
  RC_CLASSIFY(decoded.ok(), "decoded");
  if (decoded.ok()) {
    RC_ASSERT(decoded->encode_snapshot() == bytes);
  } else {
    RC_ASSERT(decoded.code() == Errc::corrupt);
  }
}

}  // namespace
}  // namespace gregor::log
