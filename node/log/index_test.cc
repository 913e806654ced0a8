// Proves the segment indexes (offset_index.h, time_index.h):
//  - OffsetIndex.lookup returns the largest entry <= target or the segment start, truncate_to
//    removes entries >= the offset, and both agree with a naive model over random operations;
//  - TimeIndex keeps only rising timestamps, and its lookup is a safe place to start the
//    ListOffsets scan: on random segments built by the log's convention, no record before the
//    returned offset has a timestamp >= the target, so the scan never skips the answer;
//  - the codecs round-trip (RapidCheck), lay entries out as Kafka does plus our trailer, and
//    report Errc::corrupt for every single-bit flip, every truncation, every semantic violation
//    (order, positions past the segment), and never crash on arbitrary bytes;
//  - segment file names: 20-digit zero padding and a strict parser;
//  - appends out of order are programming errors (assertions).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <limits>
#include <map>
#include <vector>

#include "base/crc32c.h"
#include "node/log/offset_index.h"
#include "node/log/time_index.h"

namespace gregor::log {
namespace {

using Pos = OffsetIndex::Position;
using TEntry = TimeIndex::Entry;

OffsetIndex offset_index_of(int64_t base, const std::vector<Pos>& entries) {
  OffsetIndex index(base);
  for (const Pos& p : entries) index.append(p.offset, p.position);
  return index;
}

std::vector<Pos> entries_of(const OffsetIndex& index) {
  std::vector<Pos> out;
  for (size_t i = 0; i < index.entries(); ++i) out.push_back(index.entry(i));
  return out;
}

std::vector<TEntry> entries_of(const TimeIndex& index) {
  std::vector<TEntry> out;
  for (size_t i = 0; i < index.entries(); ++i) out.push_back(index.entry(i));
  return out;
}

// Seals raw entry bytes with a valid trailer, to test the semantic checks behind the CRC.
Bytes sealed(const std::vector<std::pair<uint64_t, uint64_t>>& raw, bool time) {
  Bytes out;
  Writer w(out);
  for (auto [a, b] : raw) {
    if (time) {
      w.be<int64_t>(static_cast<int64_t>(a));
    } else {
      w.be<uint32_t>(static_cast<uint32_t>(a));
    }
    w.be<uint32_t>(static_cast<uint32_t>(b));
  }
  return index_format::seal(std::move(out), time ? kTimeIndexMagic : kOffsetIndexMagic);
}

// Random strictly increasing offsets with non-decreasing positions.
rc::Gen<std::vector<Pos>> offset_entries_gen(int64_t base) {
  using Deltas = std::vector<std::pair<uint16_t, uint16_t>>;
  auto deltas = rc::gen::container<Deltas>(
      rc::gen::pair(rc::gen::inRange<uint16_t>(1, 5000), rc::gen::arbitrary<uint16_t>()));
  auto build = [base](const Deltas& d) {
    std::vector<Pos> out;
    int64_t offset = base - 1;
    uint32_t position = 0;
    for (auto [d_offset, d_position] : d) {
      offset += d_offset;
      position += d_position;
      out.push_back({offset, position});
    }
    return out;
  };
  return rc::gen::map(deltas, build);
}

// Random strictly increasing timestamps (possibly negative) with non-decreasing offsets.
rc::Gen<std::vector<TEntry>> time_entries_gen(int64_t base) {
  using Deltas = std::vector<std::pair<uint32_t, uint16_t>>;
  auto start = rc::gen::inRange<int64_t>(-1000, 2'000'000'000'000);
  auto deltas = rc::gen::container<Deltas>(
      rc::gen::pair(rc::gen::inRange<uint32_t>(1, 100000), rc::gen::arbitrary<uint16_t>()));
  auto build = [base](const std::pair<int64_t, Deltas>& g) {
    std::vector<TEntry> out;
    int64_t timestamp = g.first;
    int64_t offset = base;
    for (auto [d_timestamp, d_offset] : g.second) {
      out.push_back({timestamp, offset});
      timestamp += d_timestamp;
      offset += d_offset;
    }
    return out;
  };
  return rc::gen::map(rc::gen::pair(start, deltas), build);
}

// ---------------------------------------------------------------------------------------------
// File names

TEST(IndexFileName, PadsToTwentyDigits) {
  EXPECT_EQ(offset_file_name(0, kOffsetIndexSuffix), "00000000000000000000.index");
  EXPECT_EQ(offset_file_name(42, kTimeIndexSuffix), "00000000000000000042.timeindex");
  EXPECT_EQ(offset_file_name(std::numeric_limits<int64_t>::max(), ".log"),
            "09223372036854775807.log");
}

TEST(IndexFileName, ParserIsStrict) {
  EXPECT_EQ(parse_offset_file_name("00000000000000000042.index", ".index"), 42);
  EXPECT_EQ(parse_offset_file_name("09223372036854775807.index", ".index"),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse_offset_file_name("09223372036854775808.index", ".index"), std::nullopt);
  EXPECT_EQ(parse_offset_file_name("99999999999999999999.index", ".index"), std::nullopt);
  EXPECT_EQ(parse_offset_file_name("00000000000000000042.index", ".timeindex"), std::nullopt);
  EXPECT_EQ(parse_offset_file_name("0000000000000000042.index", ".index"), std::nullopt);
  EXPECT_EQ(parse_offset_file_name("000000000000000000042.index", ".index"), std::nullopt);
  EXPECT_EQ(parse_offset_file_name("0000000000000000004x.index", ".index"), std::nullopt);
  EXPECT_EQ(parse_offset_file_name("-0000000000000000042.index", ".index"), std::nullopt);
  EXPECT_EQ(parse_offset_file_name("00000000000000000042.index.tmp", ".index"), std::nullopt);
}

RC_GTEST_PROP(IndexFileName, RoundTrips, (uint64_t raw)) {
  auto base = static_cast<int64_t>(raw >> 1);
  RC_ASSERT(parse_offset_file_name(offset_file_name(base, ".index"), ".index") == base);
}

// ---------------------------------------------------------------------------------------------
// OffsetIndex

TEST(OffsetIndex, LookupFallsBackToSegmentStart) {
  OffsetIndex empty(100);
  EXPECT_EQ(empty.lookup(100), (Pos{100, 0}));
  EXPECT_EQ(empty.lookup(5000), (Pos{100, 0}));
  EXPECT_EQ(empty.lookup(7), (Pos{100, 0}));  // below the segment
  OffsetIndex index = offset_index_of(100, {{110, 4000}, {120, 8100}});
  EXPECT_EQ(index.lookup(109), (Pos{100, 0}));
  EXPECT_EQ(index.lookup(-1), (Pos{100, 0}));
}

TEST(OffsetIndex, LookupFindsLargestEntryAtOrBelowTarget) {
  OffsetIndex index = offset_index_of(100, {{100, 0}, {110, 4000}, {120, 8100}, {135, 12000}});
  EXPECT_EQ(index.lookup(100), (Pos{100, 0}));
  EXPECT_EQ(index.lookup(110), (Pos{110, 4000}));
  EXPECT_EQ(index.lookup(119), (Pos{110, 4000}));
  EXPECT_EQ(index.lookup(120), (Pos{120, 8100}));
  EXPECT_EQ(index.lookup(134), (Pos{120, 8100}));
  EXPECT_EQ(index.lookup(135), (Pos{135, 12000}));
  EXPECT_EQ(index.lookup(std::numeric_limits<int64_t>::max()), (Pos{135, 12000}));
  EXPECT_EQ(index.entries(), 4u);
  EXPECT_EQ(index.last_entry(), (Pos{135, 12000}));
}

TEST(OffsetIndex, TruncateToRemovesEntriesAtOrAboveOffset) {
  OffsetIndex index = offset_index_of(100, {{105, 10}, {110, 20}, {120, 30}});
  index.truncate_to(121);  // nothing at or above
  EXPECT_EQ(index.entries(), 3u);
  index.truncate_to(120);
  EXPECT_EQ(entries_of(index), (std::vector<Pos>{{105, 10}, {110, 20}}));
  index.truncate_to(111);
  EXPECT_EQ(entries_of(index), (std::vector<Pos>{{105, 10}, {110, 20}}));
  index.truncate_to(106);
  EXPECT_EQ(entries_of(index), (std::vector<Pos>{{105, 10}}));
  index.append(107, 15);  // appending resumes after the truncation point
  EXPECT_EQ(index.lookup(200), (Pos{107, 15}));
  index.truncate_to(100);
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.last_entry(), std::nullopt);
}

TEST(OffsetIndex, CanIndexBoundsRelativeOffsetsToU32) {
  OffsetIndex index(1000);
  EXPECT_FALSE(index.can_index(999));
  EXPECT_TRUE(index.can_index(1000));
  EXPECT_TRUE(index.can_index(1000 + int64_t{UINT32_MAX}));
  EXPECT_FALSE(index.can_index(1001 + int64_t{UINT32_MAX}));
  index.append(1000 + int64_t{UINT32_MAX}, 7);
  EXPECT_EQ(index.lookup(std::numeric_limits<int64_t>::max()).offset, 1000 + int64_t{UINT32_MAX});
}

TEST(OffsetIndexDeathTest, OutOfOrderAppendIsAProgrammingError) {
  OffsetIndex index(100);
  index.append(110, 50);
  EXPECT_DEATH(index.append(110, 60), "offsets must increase");
  EXPECT_DEATH(index.append(105, 60), "offsets must increase");
  EXPECT_DEATH(index.append(111, 49), "position");
  EXPECT_DEATH(index.append(99, 60), "outside segment");
  EXPECT_DEATH(OffsetIndex(-1), "negative base offset");
}

TEST(OffsetIndex, EncodingIsKafkasEntriesPlusTrailer) {
  OffsetIndex index = offset_index_of(1000, {{1001, 0x10}, {1258, 0x01020304}});
  Bytes bytes = index.encode();
  Bytes entries = {0, 0, 0, 1, 0, 0, 0, 0x10, 0, 0, 1, 2, 1, 2, 3, 4};
  ASSERT_EQ(bytes.size(), entries.size() + kIndexTrailerBytes);
  EXPECT_EQ(Bytes(bytes.begin(), bytes.begin() + 16), entries);
  EXPECT_EQ(load_be<uint32_t>(bytes.data() + 16), kOffsetIndexMagic);
  EXPECT_EQ(load_be<uint32_t>(bytes.data() + 20), crc32c(ByteView(bytes).first(20)));
  EXPECT_EQ(OffsetIndex(5).encode().size(), kIndexTrailerBytes);
}

TEST(OffsetIndex, DecodeChecksSemanticsBehindTheCrc) {
  auto decode = [](const Bytes& b, uint32_t segment_bytes = 1 << 20) {
    return OffsetIndex::decode(100, b, segment_bytes);
  };
  auto ok = decode(sealed({{1, 10}, {2, 10}, {9, 30}}, false));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(entries_of(*ok), (std::vector<Pos>{{101, 10}, {102, 10}, {109, 30}}));
  EXPECT_EQ(decode(sealed({{2, 10}, {2, 20}}, false)).code(), Errc::corrupt);  // equal offsets
  EXPECT_EQ(decode(sealed({{3, 10}, {2, 20}}, false)).code(), Errc::corrupt);  // decreasing
  EXPECT_EQ(decode(sealed({{1, 20}, {2, 10}}, false)).code(), Errc::corrupt);  // positions back
  EXPECT_EQ(decode(sealed({{1, 99}}, false), 100).code(), Errc::ok);
  EXPECT_EQ(decode(sealed({{1, 100}}, false), 100).code(), Errc::corrupt);  // past the segment
  EXPECT_EQ(decode(sealed({{1, 0}}, false), 0).code(), Errc::corrupt);      // empty segment
  EXPECT_EQ(decode(sealed({}, false), 0).code(), Errc::ok);
  EXPECT_EQ(decode({}).code(), Errc::corrupt);  // an empty file is not an empty index
  // A whole number of bytes that is not a whole number of entries, with a valid trailer.
  EXPECT_EQ(decode(index_format::seal(Bytes(12, 0), kOffsetIndexMagic)).code(), Errc::corrupt);
  // A time index is not an offset index, even with a valid CRC.
  EXPECT_EQ(decode(TimeIndex(100).encode()).code(), Errc::corrupt);
  // Offsets that would overflow int64 from this base.
  EXPECT_EQ(
      OffsetIndex::decode(std::numeric_limits<int64_t>::max() - 5, sealed({{9, 0}}, false), 100)
          .code(),
      Errc::corrupt);
}

TEST(OffsetIndex, EverySingleBitFlipIsCorrupt) {
  OffsetIndex index = offset_index_of(
      7, {{7, 0}, {8, 100}, {50, 4096}, {51, 5000}, {900, 77777}, {1 << 20, 99999}});
  for (const Bytes& good : {index.encode(), OffsetIndex(7).encode()}) {
    for (size_t bit = 0; bit < good.size() * 8; ++bit) {
      Bytes bad = good;
      bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      EXPECT_EQ(OffsetIndex::decode(7, bad, 1 << 20).code(), Errc::corrupt) << "bit " << bit;
    }
  }
}

TEST(OffsetIndex, EveryTruncationIsCorrupt) {
  Bytes good = offset_index_of(0, {{1, 10}, {2, 20}, {3, 30}}).encode();
  for (size_t len = 0; len < good.size(); ++len) {
    EXPECT_EQ(OffsetIndex::decode(0, ByteView(good).first(len), 100).code(), Errc::corrupt)
        << "len " << len;
  }
}

RC_GTEST_PROP(OffsetIndex, EncodeDecodeRoundTrips, ()) {
  auto base = *rc::gen::inRange<int64_t>(0, int64_t{1} << 50);
  auto entries = *offset_entries_gen(base);
  OffsetIndex index = offset_index_of(base, entries);
  Bytes bytes = index.encode();
  RC_ASSERT(bytes.size() == entries.size() * OffsetIndex::kEntryBytes + kIndexTrailerBytes);
  uint32_t segment_bytes = entries.empty() ? 0 : entries.back().position + 1;
  auto decoded = OffsetIndex::decode(base, bytes, segment_bytes);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(entries_of(*decoded) == entries);
  RC_ASSERT(decoded->encode() == bytes);
}

RC_GTEST_PROP(OffsetIndex, AnyBitFlipIsCorrupt, ()) {
  auto base = *rc::gen::inRange<int64_t>(0, 1000000);
  Bytes bytes = offset_index_of(base, *offset_entries_gen(base)).encode();
  auto bit = *rc::gen::inRange<size_t>(0, bytes.size() * 8);
  bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  RC_ASSERT(OffsetIndex::decode(base, bytes, UINT32_MAX).code() == Errc::corrupt);
}

RC_GTEST_PROP(OffsetIndex, ArbitraryBytesNeverCrash,
              (std::vector<uint8_t> bytes, uint32_t segment_bytes, bool seal)) {
  // Sealed junk passes the CRC and exercises the semantic checks.
  if (seal) bytes = index_format::seal(std::move(bytes), kOffsetIndexMagic);
  auto decoded = OffsetIndex::decode(12345, bytes, segment_bytes);
  if (decoded.ok()) {
    RC_ASSERT(decoded->encode() == bytes);
  } else {
    RC_ASSERT(decoded.code() == Errc::corrupt);
  }
}

// A sequence of appends, truncations and lookups agrees with a plain vector searched linearly.
RC_GTEST_PROP(OffsetIndex, MatchesNaiveModel, ()) {
  auto base = *rc::gen::inRange<int64_t>(0, 1000000);
  OffsetIndex index(base);
  std::vector<Pos> model;
  auto ops = *rc::gen::container<std::vector<std::pair<int, uint16_t>>>(
      rc::gen::pair(rc::gen::inRange(0, 3), rc::gen::arbitrary<uint16_t>()));
  for (auto [op, arg] : ops) {
    int64_t last = model.empty() ? base - 1 : model.back().offset;
    uint32_t last_position = model.empty() ? 0 : model.back().position;
    if (op == 0) {
      Pos p{last + 1 + arg % 50, last_position + arg};
      index.append(p.offset, p.position);
      model.push_back(p);
    } else if (op == 1) {
      int64_t to = base - 5 + static_cast<int64_t>(arg % (last - base + 12));
      index.truncate_to(to);
      std::erase_if(model, [to](const Pos& p) { return p.offset >= to; });
    } else {
      int64_t target = base - 5 + static_cast<int64_t>(arg % (last - base + 12));
      Pos expected{base, 0};
      for (const Pos& p : model) {
        if (p.offset <= target) expected = p;
      }
      RC_ASSERT(index.lookup(target) == expected);
    }
    RC_ASSERT(entries_of(index) == model);
  }
}

// ---------------------------------------------------------------------------------------------
// TimeIndex

TEST(TimeIndex, AppendKeepsOnlyRisingTimestamps) {
  TimeIndex index(100);
  EXPECT_TRUE(index.append(1000, 100));
  EXPECT_FALSE(index.append(1000, 105));  // same timestamp: the earlier offset stays
  EXPECT_FALSE(index.append(900, 106));   // clock went back
  EXPECT_TRUE(index.append(1001, 106));
  EXPECT_TRUE(index.append(2000, 106));  // same offset, higher timestamp (Kafka allows it)
  EXPECT_EQ(entries_of(index), (std::vector<TEntry>{{1000, 100}, {1001, 106}, {2000, 106}}));
  EXPECT_EQ(index.max_timestamp(), 2000);
  EXPECT_EQ(index.last_entry(), (TEntry{2000, 106}));
}

TEST(TimeIndex, LookupIsKafkasLargestEntryAtOrBelowTarget) {
  TimeIndex index(100);
  EXPECT_EQ(index.lookup(5), std::nullopt);
  EXPECT_EQ(index.lookup_entry(5), (TEntry{TimeIndex::kNoTimestamp, 100}));
  index.append(1000, 103);
  index.append(2000, 110);
  index.append(3000, 150);
  EXPECT_EQ(index.lookup(999), std::nullopt);  // scan from the segment start
  EXPECT_EQ(index.lookup_entry(999), (TEntry{-1, 100}));
  EXPECT_EQ(index.lookup(1000), 103);
  EXPECT_EQ(index.lookup(1999), 103);
  EXPECT_EQ(index.lookup(2000), 110);
  EXPECT_EQ(index.lookup_entry(2500), (TEntry{2000, 110}));
  EXPECT_EQ(index.lookup(std::numeric_limits<int64_t>::max()), 150);
}

TEST(TimeIndex, TruncateToRemovesEntriesAtOrAboveOffset) {
  TimeIndex index(100);
  index.append(1000, 100);
  index.append(2000, 110);
  index.append(3000, 110);
  index.append(4000, 120);
  index.truncate_to(111);
  EXPECT_EQ(entries_of(index), (std::vector<TEntry>{{1000, 100}, {2000, 110}, {3000, 110}}));
  index.truncate_to(110);  // both entries at offset 110 go
  EXPECT_EQ(entries_of(index), (std::vector<TEntry>{{1000, 100}}));
  EXPECT_TRUE(index.append(1500, 105));  // timestamps may rise again from the truncation point
  index.truncate_to(100);
  EXPECT_TRUE(index.empty());
}

TEST(TimeIndexDeathTest, DecreasingOffsetIsAProgrammingError) {
  TimeIndex index(100);
  index.append(1000, 110);
  EXPECT_DEATH(index.append(2000, 109), "offsets must not decrease");
  EXPECT_DEATH(index.append(2000, 99), "outside segment");
}

TEST(TimeIndex, EncodingIsKafkasEntriesPlusTrailer) {
  TimeIndex index(1000);
  index.append(0x0102030405060708, 1003);
  Bytes bytes = index.encode();
  Bytes entry = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 3};
  ASSERT_EQ(bytes.size(), 12 + kIndexTrailerBytes);
  EXPECT_EQ(Bytes(bytes.begin(), bytes.begin() + 12), entry);
  EXPECT_EQ(load_be<uint32_t>(bytes.data() + 12), kTimeIndexMagic);
  EXPECT_EQ(load_be<uint32_t>(bytes.data() + 16), crc32c(ByteView(bytes).first(16)));
}

TEST(TimeIndex, DecodeChecksSemanticsBehindTheCrc) {
  auto decode = [](const Bytes& b, std::optional<int64_t> end = std::nullopt) {
    return TimeIndex::decode(100, b, end);
  };
  auto ok = decode(sealed({{1000, 0}, {2000, 0}, {3000, 5}}, true));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(entries_of(*ok), (std::vector<TEntry>{{1000, 100}, {2000, 100}, {3000, 105}}));
  EXPECT_EQ(decode(sealed({{1000, 0}, {1000, 1}}, true)).code(), Errc::corrupt);  // ts equal
  EXPECT_EQ(decode(sealed({{2000, 0}, {1000, 1}}, true)).code(), Errc::corrupt);  // ts back
  EXPECT_EQ(decode(sealed({{1000, 2}, {2000, 1}}, true)).code(), Errc::corrupt);  // offset back
  EXPECT_EQ(decode(sealed({{1000, 5}}, true), 106).code(), Errc::ok);
  EXPECT_EQ(decode(sealed({{1000, 6}}, true), 106).code(), Errc::corrupt);  // past the end
  EXPECT_EQ(decode({}).code(), Errc::corrupt);
  EXPECT_EQ(decode(index_format::seal(Bytes(16, 0), kTimeIndexMagic)).code(), Errc::corrupt);
  EXPECT_EQ(decode(OffsetIndex(100).encode()).code(), Errc::corrupt);
}

TEST(TimeIndex, EverySingleBitFlipIsCorrupt) {
  TimeIndex index(7);
  for (int i = 0; i < 6; ++i) index.append(1'700'000'000'000 + i * 1000, 7 + i * i);
  for (const Bytes& good : {index.encode(), TimeIndex(7).encode()}) {
    for (size_t bit = 0; bit < good.size() * 8; ++bit) {
      Bytes bad = good;
      bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      EXPECT_EQ(TimeIndex::decode(7, bad).code(), Errc::corrupt) << "bit " << bit;
    }
    for (size_t len = 0; len < good.size(); ++len) {
      EXPECT_EQ(TimeIndex::decode(7, ByteView(good).first(len)).code(), Errc::corrupt);
    }
  }
}

RC_GTEST_PROP(TimeIndex, EncodeDecodeRoundTrips, ()) {
  auto base = *rc::gen::inRange<int64_t>(0, int64_t{1} << 50);
  auto entries = *time_entries_gen(base);
  TimeIndex index(base);
  for (const TEntry& e : entries) RC_ASSERT(index.append(e.timestamp, e.offset));
  Bytes bytes = index.encode();
  RC_ASSERT(bytes.size() == entries.size() * TimeIndex::kEntryBytes + kIndexTrailerBytes);
  std::optional<int64_t> end;
  if (!entries.empty()) end = entries.back().offset + 1;
  auto decoded = TimeIndex::decode(base, bytes, end);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(entries_of(*decoded) == entries);
  RC_ASSERT(decoded->encode() == bytes);
}

RC_GTEST_PROP(TimeIndex, AnyBitFlipIsCorrupt, ()) {
  TimeIndex index(50);
  for (const TEntry& e : *time_entries_gen(50)) index.append(e.timestamp, e.offset);
  Bytes bytes = index.encode();
  auto bit = *rc::gen::inRange<size_t>(0, bytes.size() * 8);
  bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  RC_ASSERT(TimeIndex::decode(50, bytes).code() == Errc::corrupt);
}

RC_GTEST_PROP(TimeIndex, ArbitraryBytesNeverCrash, (std::vector<uint8_t> bytes, bool seal)) {
  if (seal) bytes = index_format::seal(std::move(bytes), kTimeIndexMagic);
  auto decoded = TimeIndex::decode(std::numeric_limits<int64_t>::max() - 70000, bytes);
  if (decoded.ok()) {
    RC_ASSERT(decoded->encode() == bytes);
  } else {
    RC_ASSERT(decoded.code() == Errc::corrupt);
  }
}

// The ListOffsets guarantee. A random segment of batches (record timestamps jump around, as
// CreateTime allows) is indexed the way the log does it: (max timestamp so far, base offset of
// the batch that raised it). For every target, the first record with timestamp >= target is at
// or after lookup(target), and no batch before the one at that offset holds such a record.
RC_GTEST_PROP(TimeIndex, LookupNeverSkipsTheListOffsetsAnswer, ()) {
  const int64_t base = 1000;
  auto batches = *rc::gen::container<std::vector<std::vector<int64_t>>>(rc::gen::nonEmpty(
      rc::gen::container<std::vector<int64_t>>(rc::gen::inRange<int64_t>(0, 60))));
  TimeIndex index(base);
  std::vector<std::pair<int64_t, int64_t>> records;  // (offset, timestamp)
  std::vector<int64_t> batch_of;                     // record i -> base offset of its batch
  int64_t max_so_far = std::numeric_limits<int64_t>::min();
  for (const auto& batch : batches) {
    int64_t batch_base = base + static_cast<int64_t>(records.size());
    int64_t batch_max = std::numeric_limits<int64_t>::min();
    for (int64_t ts : batch) {
      records.emplace_back(base + static_cast<int64_t>(records.size()), ts);
      batch_of.push_back(batch_base);
      batch_max = std::max(batch_max, ts);
    }
    if (batch_max > max_so_far) {
      max_so_far = batch_max;
      RC_ASSERT(index.append(batch_max, batch_base));
    }
  }
  for (int64_t target = -1; target <= 61; ++target) {
    int64_t start = index.lookup(target).value_or(base);
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i].second < target) continue;
      // The first record at or above the target. Entries are batch base offsets, so this says
      // its batch is the scan start's batch or a later one.
      RC_ASSERT(batch_of[i] >= start);
      break;
    }
  }
}

// Appends (with timestamps that may go back) and truncations agree with a naive model.
RC_GTEST_PROP(TimeIndex, MatchesNaiveModel, ()) {
  const int64_t base = 500;
  TimeIndex index(base);
  std::vector<TEntry> model;
  int64_t next_offset = base;
  auto ops = *rc::gen::container<std::vector<std::pair<int, uint16_t>>>(
      rc::gen::pair(rc::gen::inRange(0, 3), rc::gen::arbitrary<uint16_t>()));
  for (auto [op, arg] : ops) {
    if (op == 0) {
      int64_t ts = arg % 1000;
      bool appended = index.append(ts, next_offset);
      bool expected = model.empty() || ts > model.back().timestamp;
      RC_ASSERT(appended == expected);
      if (expected) model.push_back({ts, next_offset});
      next_offset += arg % 3;
    } else if (op == 1) {
      int64_t to = base + arg % (next_offset - base + 3);
      index.truncate_to(to);
      std::erase_if(model, [to](const TEntry& e) { return e.offset >= to; });
      next_offset = std::max(std::min(next_offset, to), base);
    } else {
      int64_t target = static_cast<int64_t>(arg % 1100) - 50;
      std::optional<int64_t> expected;
      for (const TEntry& e : model) {
        if (e.timestamp <= target) expected = e.offset;
      }
      RC_ASSERT(index.lookup(target) == expected);
    }
    RC_ASSERT(entries_of(index) == model);
  }
}

}  // namespace
}  // namespace gregor::log
