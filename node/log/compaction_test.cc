// Proves log compaction (cleanup.policy=compact) on the simulated disk: the latest record per key
// survives and older ones go, offsets are preserved (reads by offset return the same offsets, with
// gaps); tombstones stay for delete.retention.ms and go after; the active segment and records at
// or above the high watermark are never cleaned; a tiny offset map needs several rounds for the
// same result; appends issued while a pass runs all succeed with contiguous offsets; compacted
// content survives crashes; a fixed input gives an exact (golden) result. RapidCheck properties:
// random keyed appends, compactions and process crashes against a model (the latest record per
// key is never lost, nothing but superseded records disappears), and a power loss in the middle
// of a pass leaves either the content before the pass or the content after it.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "node/log/log_test_util.h"

namespace gregor::log {
namespace {

using testing::LogHarness;

struct Rec {
  int64_t offset;
  std::string key;  // "" for a null key
  std::optional<std::string> value;
  bool operator==(const Rec&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  return os << "(" << r.offset << ", " << (r.key.empty() ? "<null>" : r.key) << ", "
            << r.value.value_or("<tombstone>") << ")";
}

using KV = std::pair<std::string, std::optional<std::string>>;

// One batch of keyed records; an empty key means a null key, nullopt a tombstone.
Bytes keyed_batch(const std::vector<KV>& kvs, int64_t timestamp) {
  BatchBuilder b({});
  for (const auto& [k, v] : kvs) {
    std::optional<ByteView> key, value;
    if (!k.empty()) key = as_bytes(k);
    if (v) value = as_bytes(*v);
    b.add(timestamp, key, value);
  }
  return b.build().value();
}

// Every record from the log start to the log end, following gaps.
std::vector<Rec> read_all(LogHarness& h) {
  std::vector<Rec> out;
  int64_t next = h.log().log_start_offset();
  while (next < h.log().log_end_offset()) {
    auto r = h.read(next, 4096);
    if (!r.ok()) {
      ADD_FAILURE() << "read at " << next << ": " << r.status();
      return out;
    }
    int64_t after = next;
    BatchIterator it(r->batches);
    while (auto batch = it.next()) {
      auto records = decode_records(*batch);
      if (!records.ok()) {
        ADD_FAILURE() << records.status();
        return out;
      }
      for (auto& rec : *records) {
        if (rec.offset < next) continue;
        std::string key = rec.key ? std::string(as_chars(*rec.key)) : "";
        std::optional<std::string> value;
        if (rec.value) value = std::string(as_chars(*rec.value));
        out.push_back({rec.offset, key, value});
      }
      after = std::max(after, parse_batch_header(*batch)->last_offset() + 1);
    }
    if (after == next) {
      ADD_FAILURE() << "no progress reading at " << next;
      return out;
    }
    next = after;
  }
  return out;
}

// The base offset of the active segment (the largest "<base>.log").
int64_t active_base(LogHarness& h) {
  std::optional<Result<std::vector<std::string>>> names;
  h.disk().list(h.dir(), [&](auto r) { names = std::move(r); });
  h.world().run_until([&] { return names.has_value(); }, h.world().now() + seconds(5));
  int64_t base = 0;
  for (const std::string& n : names->value()) {
    if (n.size() == 24 && n.ends_with(".log"))
      base = std::max<int64_t>(base, std::stoll(n.substr(0, 20)));
  }
  return base;
}

Status compact(LogHarness& h) {
  return h.wait_status([&](auto cb) { h.log().compact(cb); });
}

// Every batch in its own segment (segment.ms rolls on each append after a tick), one group.
LogConfig compacted() {
  LogConfig c;
  c.cleanup_compact = true;
  c.segment_ms = milliseconds(1);
  c.index_interval_bytes = 128;
  return c;
}

int64_t now_ms(LogHarness& h) {
  return to_ms(h.clock().wall_now());
}

void append_ok(LogHarness& h, const std::vector<KV>& kvs) {
  h.world().run_for(milliseconds(2));  // so segment.ms rolls before this batch
  auto a = h.append(keyed_batch(kvs, now_ms(h)));
  ASSERT_TRUE(a.info.ok()) << a.info.status();
}

// What compaction must leave of `all` with the cleanable range ending at `end` (no tombstone
// expired): records at or past `end`, null keys, and the latest per key below `end`.
std::vector<Rec> expected_after(const std::vector<Rec>& all, int64_t end) {
  std::map<std::string, int64_t> latest;
  for (const Rec& r : all) {
    if (r.offset < end && !r.key.empty()) latest[r.key] = r.offset;
  }
  std::vector<Rec> out;
  for (const Rec& r : all) {
    if (r.offset >= end || r.key.empty() || latest[r.key] == r.offset) out.push_back(r);
  }
  return out;
}

TEST(Compaction, GoldenResult) {
  LogHarness h(compacted());
  ASSERT_TRUE(h.open().ok());
  append_ok(h, {{"a", "a1"}, {"b", "b1"}, {"c", "c1"}});  // 0-2
  append_ok(h, {{"a", "a2"}, {"d", "d1"}});               // 3-4
  append_ok(h, {{"b", std::nullopt}});                    // 5: tombstone, superseded later
  append_ok(h, {{"c", "c2"}, {"e", "e1"}});               // 6-7
  append_ok(h, {{"a", "a3"}});                            // 8
  append_ok(h, {{"", "no-key"}});                         // 9: null key, kept
  append_ok(h, {{"d", "d2"}, {"b", "b3"}});               // 10-11
  append_ok(h, {{"a", "a4"}});                            // 12: active segment
  h.log().set_high_watermark(h.log().log_end_offset());
  size_t segments = h.log().segment_count();
  ASSERT_EQ(segments, 8u);
  ASSERT_TRUE(compact(h).ok());
  std::vector<Rec> want = {{6, "c", "c2"},  {7, "e", "e1"},  {8, "a", "a3"}, {9, "", "no-key"},
                           {10, "d", "d2"}, {11, "b", "b3"}, {12, "a", "a4"}};
  EXPECT_EQ(read_all(h), want);
  EXPECT_EQ(h.log().segment_count(), 2u) << "the sealed segments merge into one";
  EXPECT_EQ(h.log().counters().compaction_records_removed, 6u);
  EXPECT_EQ(h.log().log_end_offset(), 13);
  // Reading a removed offset returns the next surviving one.
  auto r = h.read(2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(read_all(h).front().offset, 6);
  // A second pass changes nothing.
  ASSERT_TRUE(compact(h).ok());
  EXPECT_EQ(read_all(h), want);
  EXPECT_EQ(h.log().counters().compaction_records_removed, 6u);
}

TEST(Compaction, LatestPerKeySurvivesAndOffsetsArePreserved) {
  LogConfig c;
  c.cleanup_compact = true;
  c.segment_bytes = 1024;
  c.index_interval_bytes = 128;
  LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  std::vector<Rec> all;
  for (int i = 0; i < 120; ++i) {
    std::string k = "key" + std::to_string(i % 9), v = "value-" + std::to_string(i);
    auto a = h.append(keyed_batch({{k, v}}, 1000 + i));
    ASSERT_TRUE(a.info.ok());
    all.push_back({a.info->first_offset, k, v});
  }
  h.log().set_high_watermark(h.log().log_end_offset());
  int64_t end = active_base(h);
  ASSERT_GT(end, 60);
  ASSERT_TRUE(compact(h).ok());
  std::vector<Rec> got = read_all(h);
  EXPECT_EQ(got, expected_after(all, end));
  // Reading by each surviving offset returns that very record first.
  for (const Rec& r : got) {
    auto read = h.read(r.offset, 1);
    ASSERT_TRUE(read.ok());
    auto values = testing::values_of(read->batches);
    auto at =
        std::find_if(values.begin(), values.end(), [&](auto& p) { return p.first >= r.offset; });
    ASSERT_NE(at, values.end());
    EXPECT_EQ(at->first, r.offset);
  }
  EXPECT_GT(h.log().counters().compaction_records_removed, 0u);
  EXPECT_GE(h.log().counters().compactions, 1u);
}

TEST(Compaction, TombstonesStayForDeleteRetentionThenGo) {
  LogConfig c = compacted();
  c.delete_retention_ms = 60'000;
  LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  append_ok(h, {{"k", "v1"}, {"x", "x1"}});  // 0-1
  append_ok(h, {{"k", std::nullopt}});       // 2: the tombstone
  append_ok(h, {{"y", "y1"}});               // 3: the group's last batch
  append_ok(h, {{"z", "z1"}});               // 4: active
  h.log().set_high_watermark(h.log().log_end_offset());
  ASSERT_TRUE(compact(h).ok());
  std::vector<Rec> want = {{1, "x", "x1"}, {2, "k", std::nullopt}, {3, "y", "y1"}, {4, "z", "z1"}};
  EXPECT_EQ(read_all(h), want) << "the tombstone stays within delete.retention.ms";
  h.world().run_for(seconds(30));
  ASSERT_TRUE(compact(h).ok());
  EXPECT_EQ(read_all(h), want);
  h.world().run_for(seconds(40));  // now past the retention
  ASSERT_TRUE(compact(h).ok());
  want.erase(want.begin() + 1);
  EXPECT_EQ(read_all(h), want) << "the tombstone goes after delete.retention.ms";
}

TEST(Compaction, ActiveSegmentIsNeverCleaned) {
  LogConfig c;
  c.cleanup_compact = true;
  LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(h.append(keyed_batch({{"same", std::to_string(i)}}, 1000)).info.ok());
  }
  h.log().set_high_watermark(h.log().log_end_offset());
  ASSERT_EQ(h.log().segment_count(), 1u);
  ASSERT_TRUE(compact(h).ok());
  EXPECT_EQ(read_all(h).size(), 20u);
  EXPECT_EQ(h.log().counters().compaction_records_removed, 0u);
}

TEST(Compaction, RecordsAtOrAboveHighWatermarkAreNeverCleaned) {
  LogHarness h(compacted());
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 10; ++i) append_ok(h, {{"k", std::to_string(i)}});  // offsets 0..9
  h.log().set_high_watermark(5);  // segments 0..4 lie wholly below it
  ASSERT_TRUE(compact(h).ok());
  std::vector<Rec> got = read_all(h);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got.front(), (Rec{4, "k", "4"})) << "latest below the HW; later ones do not count";
  for (int i = 5; i < 10; ++i) EXPECT_EQ(got[i - 4].offset, i);
}

TEST(Compaction, TinyMapNeedsSeveralRoundsForTheSameResult) {
  auto run = [](size_t map_bytes, uint64_t* rounds) {
    LogConfig c;
    c.cleanup_compact = true;
    c.segment_bytes = 1024;
    c.cleaner_map_bytes_max = map_bytes;
    LogHarness h(c);
    EXPECT_TRUE(h.open().ok());
    for (int i = 0; i < 150; ++i) {
      std::string k = "key" + std::to_string((i * 7) % 23);
      EXPECT_TRUE(h.append(keyed_batch({{k, std::to_string(i)}}, 1000)).info.ok());
    }
    h.log().set_high_watermark(h.log().log_end_offset());
    EXPECT_TRUE(compact(h).ok());
    *rounds = h.log().counters().compactions;
    return read_all(h);
  };
  uint64_t big_rounds = 0, tiny_rounds = 0;
  std::vector<Rec> big = run(16 << 20, &big_rounds);
  std::vector<Rec> tiny = run(3 * (64 + 5), &tiny_rounds);  // three keys of 5 bytes
  EXPECT_EQ(tiny, big);
  EXPECT_EQ(big_rounds, 1u);
  EXPECT_GT(tiny_rounds, 3u);
}

TEST(Compaction, AppendsIssuedDuringAPassSucceedContiguously) {
  LogConfig c;
  c.cleanup_compact = true;
  c.segment_bytes = 1024;
  LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(h.append(keyed_batch({{"k" + std::to_string(i % 5), "v"}}, 1000)).info.ok());
  }
  h.log().set_high_watermark(h.log().log_end_offset());
  std::optional<Status> compacted_status;
  h.log().compact([&](const Status& s) { compacted_status = s; });
  std::vector<int64_t> offsets;
  int appended_before_pass_end = 0;
  for (int i = 0; i < 50; ++i) {
    h.log().append(keyed_batch({{"new" + std::to_string(i), "v"}}, 1000), 0,
                   [&](Result<AppendInfo> r, std::optional<AppendError>) {
                     ASSERT_TRUE(r.ok()) << r.status();
                     offsets.push_back(r->first_offset);
                     if (!compacted_status) ++appended_before_pass_end;
                   });
  }
  h.world().run_until([&] { return compacted_status && offsets.size() == 50; },
                      h.world().now() + seconds(60));
  ASSERT_TRUE(compacted_status.has_value());
  ASSERT_TRUE(compacted_status->ok()) << *compacted_status;
  ASSERT_EQ(offsets.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(offsets[i], 200 + i);
  EXPECT_GT(appended_before_pass_end, 0) << "the pass held appends back until it ended";
  EXPECT_GT(h.log().counters().compaction_records_removed, 0u);
  EXPECT_EQ(read_all(h).back().offset, 249);
}

TEST(Compaction, ContentSurvivesCrashAndReopen) {
  for (bool power_loss : {false, true}) {
    LogConfig c;
    c.cleanup_compact = true;
    c.segment_bytes = 700;
    LogHarness h(c, power_loss ? 7 : 3);
    ASSERT_TRUE(h.open().ok());
    for (int i = 0; i < 90; ++i) {
      std::string k = "key" + std::to_string(i % 6);
      std::optional<std::string> v;
      if (i % 11 != 0) v = std::to_string(i);
      ASSERT_TRUE(h.append(keyed_batch({{k, v}, {"other", "o"}}, 1000)).info.ok());
    }
    h.log().set_high_watermark(h.log().log_end_offset());
    ASSERT_TRUE(h.flush().ok());
    ASSERT_TRUE(compact(h).ok());
    std::vector<Rec> before = read_all(h);
    ASSERT_LT(before.size(), 180u);
    ASSERT_TRUE(h.crash_and_reopen(power_loss).ok());
    EXPECT_EQ(read_all(h), before) << "power loss " << power_loss;
    EXPECT_EQ(h.log().log_end_offset(), 180);
    EXPECT_EQ(h.log().recovery_report().truncated_bytes, 0u);
    // The sealed segments come back from their index files, although compaction removed the
    // leading batches of some (their first offset is above their base offset): only the active
    // segment is scanned. (A power loss may take the directory entry of an index file written
    // after the swap's last directory sync; that segment is then scanned, which is legal.)
    if (!power_loss) {
      EXPECT_EQ(h.log().recovery_report().indexes_rebuilt, 1u);
      EXPECT_EQ(h.log().recovery_report().indexes_loaded, h.log().segment_count() - 1);
    }
    // Appends continue at the same offset.
    auto a = h.append(keyed_batch({{"after", "crash"}}, 1000));
    ASSERT_TRUE(a.info.ok());
    EXPECT_EQ(a.info->first_offset, 180);
  }
}

TEST(Compaction, IdempotentRetryIsStillADuplicateAfterCompactionAndRestart) {
  LogHarness h(compacted());
  ASSERT_TRUE(h.open().ok());
  BatchBuilder b({.producer_id = 7, .producer_epoch = 0, .base_sequence = 0});
  b.add(1000, as_bytes(std::string("k")), as_bytes(std::string("old")));
  Bytes produced = b.build().value();
  h.world().run_for(milliseconds(2));
  ASSERT_TRUE(h.append(produced).info.ok());  // offset 0, superseded below
  append_ok(h, {{"k", "new"}});               // 1
  append_ok(h, {{"z", "z"}});                 // 2: active
  h.log().set_high_watermark(h.log().log_end_offset());
  ASSERT_TRUE(compact(h).ok());
  EXPECT_EQ(h.log().counters().compaction_records_removed, 1u);
  ASSERT_TRUE(h.crash_and_reopen(false).ok());
  auto retry = h.append(produced);
  ASSERT_TRUE(retry.info.ok()) << retry.info.status();
  EXPECT_TRUE(retry.info->duplicate) << "the producer's batch header was kept";
  EXPECT_EQ(retry.info->first_offset, 0);
}

// --- Properties ----------------------------------------------------------------------------

struct ModelRec {
  std::string key;
  std::optional<std::string> value;
};

RC_GTEST_PROP(CompactionProperty, LatestPerKeyNeverLostThroughCompactionsAndCrashes, ()) {
  LogConfig c;
  c.cleanup_compact = true;
  c.segment_bytes = *rc::gen::element<uint64_t>(150, 300, 700);
  c.index_interval_bytes = 128;
  c.cleaner_map_bytes_max = *rc::gen::element<size_t>(200, 1000, 16 << 20);
  LogHarness h(c, *rc::gen::inRange<uint64_t>(1, 1u << 30));
  RC_ASSERT(h.open().ok());
  std::vector<ModelRec> model;  // by offset
  int64_t cleaned_end = 0;      // the cleanable range end of the latest compaction
  int steps = *rc::gen::inRange(20, 80);
  for (int step = 0; step < steps; ++step) {
    int op = *rc::gen::inRange(0, 100);
    if (op < 70) {
      std::vector<KV> kvs;
      int n = *rc::gen::inRange(1, 4);
      for (int i = 0; i < n; ++i) {
        std::string k = "k" + std::to_string(*rc::gen::inRange(0, 8));
        if (*rc::gen::inRange(0, 10) == 0) k = "";  // null key
        std::optional<std::string> v = "v" + std::to_string(model.size() + i);
        if (*rc::gen::inRange(0, 6) == 0) v.reset();
        kvs.emplace_back(k, v);
      }
      auto a = h.append(keyed_batch(kvs, now_ms(h)));  // tombstones never expire here
      RC_ASSERT(a.info.ok());
      RC_ASSERT(a.info->first_offset == static_cast<int64_t>(model.size()));
      for (auto& [k, v] : kvs) model.push_back({k, v});
    } else if (op < 88) {
      h.log().set_high_watermark(h.log().log_end_offset());
      int64_t end = active_base(h);
      RC_ASSERT(compact(h).ok());
      cleaned_end = std::max(cleaned_end, end);
    } else {
      RC_ASSERT(h.crash_and_reopen(false).ok());
    }
  }
  RC_ASSERT(h.crash_and_reopen(false).ok());
  std::vector<Rec> got = read_all(h);
  RC_CLASSIFY(got.size() < model.size(), "records removed");
  std::map<std::string, int64_t> latest, latest_below;
  for (size_t o = 0; o < model.size(); ++o) {
    if (model[o].key.empty()) continue;
    latest[model[o].key] = static_cast<int64_t>(o);
    if (static_cast<int64_t>(o) < cleaned_end) latest_below[model[o].key] = static_cast<int64_t>(o);
  }
  std::map<int64_t, const Rec*> by_offset;
  for (const Rec& r : got) {
    RC_ASSERT(r.offset >= 0 && r.offset < static_cast<int64_t>(model.size()));
    const ModelRec& m = model[r.offset];
    RC_ASSERT(r.key == m.key);
    RC_ASSERT(r.value == m.value);
    by_offset[r.offset] = &r;
    // A survivor below the cleaned end is the latest of its key there (or has a null key).
    if (r.offset < cleaned_end && !r.key.empty()) RC_ASSERT(latest_below[r.key] == r.offset);
  }
  for (auto& [key, offset] : latest) RC_ASSERT(by_offset.count(offset) == 1u);
  for (int64_t o = cleaned_end; o < static_cast<int64_t>(model.size()); ++o) {
    RC_ASSERT(by_offset.count(o) == 1u);  // never in a cleanable range
  }
  for (size_t o = 0; o < model.size(); ++o) {
    if (model[o].key.empty()) RC_ASSERT(by_offset.count(static_cast<int64_t>(o)) == 1u);
  }
}

RC_GTEST_PROP(CompactionProperty, PowerLossMidPassLeavesBeforeOrAfter, ()) {
  LogHarness h(compacted(), *rc::gen::inRange<uint64_t>(1, 1u << 30));
  RC_ASSERT(h.open().ok());
  int batches = *rc::gen::inRange(3, 12);
  for (int i = 0; i < batches; ++i) {
    std::vector<KV> kvs;
    int n = *rc::gen::inRange(1, 4);
    for (int j = 0; j < n; ++j) {
      kvs.emplace_back("k" + std::to_string(*rc::gen::inRange(0, 4)), std::to_string(i * 10 + j));
    }
    h.world().run_for(milliseconds(2));
    RC_ASSERT(h.append(keyed_batch(kvs, now_ms(h))).info.ok());
  }
  h.log().set_high_watermark(h.log().log_end_offset());
  RC_ASSERT(h.flush().ok());
  std::vector<Rec> before = read_all(h);
  std::vector<Rec> after = expected_after(before, active_base(h));
  bool finished = false;
  h.log().compact([&](const Status& s) { finished = s.ok(); });
  h.step(*rc::gen::inRange(0, 120));
  h.crash(/*lose_unsynced=*/true);
  RC_ASSERT(h.open().ok());
  std::vector<Rec> got = read_all(h);
  RC_ASSERT(got == before || got == after);
  if (finished) RC_ASSERT(got == after);  // a completed pass is durable
  RC_TAG(got == before ? "before" : "after");
}

}  // namespace
}  // namespace gregor::log

namespace gregor::log {
namespace {

// Two passes at once would rewrite the same segments: the second is refused while the first
// runs, and compaction works again once it is done.
TEST(Compaction, OnePassAtATime) {
  LogConfig c;
  c.segment_bytes = 1024;
  c.cleanup_compact = true;
  testing::LogHarness h(c);
  ASSERT_TRUE(h.open().ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(h.append(testing::make_batch(i, 3)).info.ok());
  h.log().set_high_watermark(h.log().log_end_offset());
  std::optional<Status> first, second;
  h.log().compact([&](const Status& s) { first = s; });
  h.log().compact([&](const Status& s) { second = s; });
  h.world().run_until([&] { return first && second; }, h.world().now() + seconds(60));
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->ok()) << *first;
  EXPECT_EQ(second->code(), Errc::limit_exceeded);
  EXPECT_GT(h.log().counters().compaction_records_removed, 0u);
  EXPECT_TRUE(h.wait_status([&](auto cb) { h.log().compact(cb); }).ok());
}

}  // namespace
}  // namespace gregor::log
