// Proves FrameReader: frames fed in any split come out whole and in order (property test);
// a zero-length frame is a frame; a frame bigger than the up-front reservation still comes out
// whole; an over-limit or negative size prefix fails the reader only after the frames before it
// are taken, and for good; buffered_bytes counts what was received and not yet taken.
#include "net/frame_reader.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

namespace gregor::net {
namespace {

Bytes framed(const std::vector<Bytes>& frames) {
  Bytes out;
  for (const Bytes& f : frames) append_frame(out, f);
  return out;
}

std::vector<Bytes> drain(FrameReader& reader) {
  std::vector<Bytes> out;
  while (true) {
    auto next = reader.next();
    EXPECT_TRUE(next.ok()) << next.status().to_string();
    if (!next.ok() || !next->has_value()) return out;
    out.push_back(std::move(**next));
  }
}

RC_GTEST_PROP(FrameReader, AnySplitGivesTheFramesBack,
              (std::vector<std::vector<uint8_t>> frames, std::vector<uint16_t> cuts)) {
  Bytes stream = framed(frames);
  FrameReader reader(1 << 20);
  std::vector<Bytes> got;
  size_t at = 0;
  for (uint16_t cut : cuts) {
    size_t len = std::min<size_t>(cut % 64, stream.size() - at);
    reader.feed(ByteView(stream).subspan(at, len));
    at += len;
    for (Bytes& f : drain(reader)) got.push_back(std::move(f));
  }
  reader.feed(ByteView(stream).subspan(at));
  for (Bytes& f : drain(reader)) got.push_back(std::move(f));
  RC_ASSERT(got == frames);
  RC_ASSERT(reader.buffered_bytes() == 0u);
}

TEST(FrameReader, EmptyFramesAreFrames) {
  FrameReader reader(16);
  reader.feed(framed({Bytes{}, Bytes{7}, Bytes{}}));
  EXPECT_EQ(drain(reader), (std::vector<Bytes>{Bytes{}, Bytes{7}, Bytes{}}));
}

TEST(FrameReader, AFrameBiggerThanTheReservationComesOutWhole) {
  Bytes big(kFrameReserveBytesMax + 12345);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  Bytes stream = framed({big, Bytes{1, 2}});
  FrameReader reader(static_cast<uint32_t>(big.size()));
  constexpr size_t kChunk = 64 * 1024;
  for (size_t at = 0; at < stream.size(); at += kChunk) {
    reader.feed(ByteView(stream).subspan(at, std::min(kChunk, stream.size() - at)));
  }
  EXPECT_EQ(reader.buffered_bytes(), big.size() + 2);
  EXPECT_EQ(drain(reader), (std::vector<Bytes>{big, Bytes{1, 2}}));
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

TEST(FrameReader, PartialFrameCountsAsBuffered) {
  FrameReader reader(64);
  Bytes stream = framed({Bytes(10, 1)});
  reader.feed(ByteView(stream).first(9));  // prefix and 5 payload bytes
  EXPECT_EQ(reader.buffered_bytes(), 5u);
  EXPECT_EQ(reader.next().value(), std::nullopt);
  reader.feed(ByteView(stream).subspan(9));
  EXPECT_EQ(reader.next().value(), Bytes(10, 1));
}

TEST(FrameReader, OverLimitFailsAfterTheFramesBeforeIt) {
  FrameReader reader(8);
  Bytes stream = framed({Bytes{1}, Bytes(9, 2), Bytes{3}});
  reader.feed(stream);
  auto first = reader.next();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(**first, Bytes{1});
  for (int i = 0; i < 2; ++i) {  // failed for good, and what follows the bad prefix is dropped
    auto next = reader.next();
    ASSERT_FALSE(next.ok());
    EXPECT_EQ(next.status().code(), Errc::limit_exceeded);
  }
  reader.feed(framed({Bytes{4}}));
  EXPECT_FALSE(reader.next().ok());
}

TEST(FrameReader, NegativeSizeFails) {
  FrameReader reader(1 << 20);
  reader.feed(Bytes{0xff, 0xff, 0xff, 0xfe});
  auto next = reader.next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), Errc::limit_exceeded);
}

}  // namespace
}  // namespace gregor::net
