// Proves every Kafka codec round-trips (empty, small, multi-block and random inputs); that we
// read the framings other producers write (Python's gzip and zlib, concatenated gzip members,
// the lz4 and zstd command-line tools' frames, snappy-java's xerial framing, raw snappy); that
// malformed or truncated input is Errc::corrupt, an unknown codec Errc::invalid_argument, and
// output past out_bytes_max Errc::limit_exceeded without expanding a bomb; and that arbitrary
// bytes never crash a decoder.
#include "node/log/compression.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

namespace gregor::log {
namespace {

constexpr Compression kCodecs[] = {Compression::none, Compression::gzip, Compression::snappy,
                                   Compression::lz4, Compression::zstd};
constexpr Compression kRealCodecs[] = {Compression::gzip, Compression::snappy, Compression::lz4,
                                       Compression::zstd};
constexpr size_t kNoLimit = 1 << 30;

Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// The payload of the foreign samples below: "Gregor says hello to Kafka; Kafka says hello to
// Gregor. " four times (224 bytes).
std::string sample_text() {
  std::string s;
  for (int i = 0; i < 4; ++i) s += "Gregor says hello to Kafka; Kafka says hello to Gregor. ";
  return s;
}

// Produced outside Gregor: python3 gzip.compress(p, mtime=0), zlib.compress(p), `lz4 -c`
// (v1.9.4 defaults: content checksum on) and `zstd -c` (v1.5.4).
constexpr std::string_view kPythonGzip =
    "1f8b0800000000000203732f4a4dcf2f52284eac2c56c848cdc9c95728c957f04e4ccb4eb486506852ee60f57a"
    "507af0eb030000c8f5dce0000000";
constexpr std::string_view kPythonZlib =
    "789c732f4a4dcf2f52284eac2c56c848cdc9c95728c957f04e4ccb4eb486506852ee60f57a507af0eb0300ac82"
    "4e7d";
constexpr std::string_view kLz4Cli =
    "04224d186440a736000000f20c477265676f7220736179732068656c6c6f20746f204b61666b613b07000b1b00"
    "023000132e08000b1d000f38007b50676f722e20000000001c1179f5";
constexpr std::string_view kZstdCli =
    "28b52ffd24e07d0100e0477265676f7220736179732068656c6c6f20746f204b61666b613b2e060090ad2800aa"
    "c34abea986f0d9c11aca18ad308e79";
// Two gzip members: "first member, " then "second member".
constexpr std::string_view kTwoGzipMembers =
    "1f8b08000000000002034bcb2c2a2e51c84dcd4d4a2dd2510000deff0a620e0000001f8b08000000000002032b"
    "4e4dcecf4b51c84dcd4d4a2d02002474fa9f0d000000";
// snappy-java's SnappyOutputStream encoding of "foobar\n" (header, then one 9-byte chunk).
constexpr std::string_view kXerialHeader = "82534e41505059000000000100000001";
constexpr std::string_view kXerialFoobar =
    "82534e41505059000000000100000001000000090718666f6f6261720a";

Bytes decompress_ok(Compression codec, ByteView in, size_t limit = kNoLimit) {
  Result<Bytes> out = decompress(codec, in, limit);
  EXPECT_TRUE(out.ok()) << compression_name(codec) << ": " << out.status();
  return out.ok() ? *out : Bytes{};
}

Bytes round_trip(Compression codec, ByteView in) {
  Result<Bytes> packed = compress(codec, in);
  EXPECT_TRUE(packed.ok()) << packed.status();
  if (!packed.ok()) return {};
  return decompress_ok(codec, *packed);
}

Bytes pseudo_random_bytes(size_t n) {
  Bytes b(n);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (auto& c : b) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<uint8_t>(x);
  }
  return b;
}

TEST(Compression, EveryCodecRoundTripsTypicalSizes) {
  Bytes text = to_bytes(sample_text());
  Bytes repetitive;
  while (repetitive.size() < 300 * 1024)
    repetitive.insert(repetitive.end(), text.begin(), text.end());
  Bytes noise = pseudo_random_bytes(200 * 1024);  // incompressible, several blocks in every codec
  for (Compression codec : kCodecs) {
    SCOPED_TRACE(compression_name(codec));
    EXPECT_EQ(round_trip(codec, {}), Bytes{});
    EXPECT_EQ(round_trip(codec, text), text);
    EXPECT_EQ(round_trip(codec, repetitive), repetitive);
    EXPECT_EQ(round_trip(codec, noise), noise);
  }
}

TEST(Compression, CompressedOutputIsSmallerForRepetitiveData) {
  Bytes zeros(256 * 1024, 0);
  for (Compression codec : kRealCodecs) {
    Result<Bytes> packed = compress(codec, zeros);
    ASSERT_TRUE(packed.ok());
    EXPECT_LT(packed->size(), zeros.size() / 10) << compression_name(codec);
  }
}

RC_GTEST_PROP(Compression, RoundTripsArbitraryBytes, (const Bytes& data)) {
  for (Compression codec : kCodecs) {
    Result<Bytes> packed = compress(codec, data);
    RC_ASSERT(packed.ok());
    Result<Bytes> plain = decompress(codec, *packed, data.size());
    RC_ASSERT(plain.ok());
    RC_ASSERT(*plain == data);
  }
}

TEST(Compression, ReadsForeignGzipZlibAndConcatenatedMembers) {
  EXPECT_EQ(as_chars(decompress_ok(Compression::gzip, from_hex(kPythonGzip))), sample_text());
  EXPECT_EQ(as_chars(decompress_ok(Compression::gzip, from_hex(kPythonZlib))), sample_text());
  EXPECT_EQ(as_chars(decompress_ok(Compression::gzip, from_hex(kTwoGzipMembers))),
            "first member, second member");
}

TEST(Compression, ReadsForeignLz4AndZstdFrames) {
  EXPECT_EQ(as_chars(decompress_ok(Compression::lz4, from_hex(kLz4Cli))), sample_text());
  EXPECT_EQ(as_chars(decompress_ok(Compression::zstd, from_hex(kZstdCli))), sample_text());
}

TEST(Compression, ReadsXerialFramedSnappyFromSnappyJava) {
  EXPECT_EQ(as_chars(decompress_ok(Compression::snappy, from_hex(kXerialFoobar))), "foobar\n");
}

TEST(Compression, ReadsRawSnappyAsLibrdkafkaWritesIt) {
  // Uncompressed length 5 (varint), then one literal of 5 bytes: tag (5 - 1) << 2.
  Bytes raw = {0x05, 0x10, 'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(as_chars(decompress_ok(Compression::snappy, raw)), "hello");
}

TEST(Compression, ReadsMultiChunkXerialAndWritesXerialHeader) {
  Bytes framed = from_hex(kXerialHeader);
  for (std::string_view part : {"abc", "defg"}) {
    Bytes chunk = {static_cast<uint8_t>(part.size()), static_cast<uint8_t>((part.size() - 1) << 2)};
    chunk.insert(chunk.end(), part.begin(), part.end());
    Writer(framed).be<uint32_t>(static_cast<uint32_t>(chunk.size()));
    framed.insert(framed.end(), chunk.begin(), chunk.end());
  }
  EXPECT_EQ(as_chars(decompress_ok(Compression::snappy, framed)), "abcdefg");

  Result<Bytes> packed = compress(Compression::snappy, as_bytes("foobar\n"));
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(to_hex(ByteView(*packed).first(16)), kXerialHeader);
}

TEST(Compression, MalformedInputIsCorrupt) {
  Bytes garbage = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01};
  for (Compression codec : kRealCodecs) {
    EXPECT_EQ(decompress(codec, garbage, kNoLimit).code(), Errc::corrupt)
        << compression_name(codec);
    EXPECT_EQ(decompress(codec, {}, kNoLimit).code(), Errc::corrupt) << compression_name(codec);
  }
  // A valid gzip member followed by bytes that are not another member.
  Bytes trailing = from_hex(kPythonGzip);
  trailing.push_back(0x42);
  EXPECT_EQ(decompress(Compression::gzip, trailing, kNoLimit).code(), Errc::corrupt);
  // A bad xerial chunk, and a chunk length pointing past the end.
  Bytes bad_chunk = from_hex(kXerialFoobar);
  bad_chunk[20] = 0x08;  // the block declares 8 bytes but its literal carries 7
  EXPECT_EQ(decompress(Compression::snappy, bad_chunk, kNoLimit).code(), Errc::corrupt);
  Bytes long_chunk = from_hex(kXerialFoobar);
  long_chunk[19] = 0x10;
  EXPECT_EQ(decompress(Compression::snappy, long_chunk, kNoLimit).code(), Errc::corrupt);
}

TEST(Compression, EveryTruncationIsCorrupt) {
  Bytes data = pseudo_random_bytes(1000);
  data.resize(3000, 'x');
  for (Compression codec : kRealCodecs) {
    Result<Bytes> packed = compress(codec, data);
    ASSERT_TRUE(packed.ok());
    for (size_t n = 0; n < packed->size(); ++n) {
      // A xerial stream cut right after its header is a valid empty stream.
      if (codec == Compression::snappy && n == 16) continue;
      EXPECT_EQ(decompress(codec, ByteView(*packed).first(n), kNoLimit).code(), Errc::corrupt)
          << compression_name(codec) << " cut to " << n << " of " << packed->size();
    }
  }
}

TEST(Compression, OutputLimitIsExactAndBombsAreCutOff) {
  Bytes zeros(1 << 20, 0);
  for (Compression codec : kCodecs) {
    SCOPED_TRACE(compression_name(codec));
    Result<Bytes> packed = compress(codec, zeros);
    ASSERT_TRUE(packed.ok());
    EXPECT_EQ(decompress_ok(codec, *packed, zeros.size()).size(), zeros.size());
    EXPECT_EQ(decompress(codec, *packed, zeros.size() - 1).code(), Errc::limit_exceeded);
    EXPECT_EQ(decompress(codec, *packed, 0).code(), Errc::limit_exceeded);
  }
  Bytes huge(100 << 20, 0);  // 100 MiB of zeros compress to a few KiB: a bomb
  for (Compression codec : kRealCodecs) {
    Result<Bytes> bomb = compress(codec, huge);
    ASSERT_TRUE(bomb.ok());
    EXPECT_LT(bomb->size(), huge.size() / 20) << compression_name(codec);
    EXPECT_EQ(decompress(codec, *bomb, 1 << 20).code(), Errc::limit_exceeded)
        << compression_name(codec);
  }
}

TEST(Compression, UnknownCodecIsInvalidArgument) {
  for (int id : {5, 6, 7, 200}) {
    auto codec = static_cast<Compression>(id);
    EXPECT_FALSE(is_known_compression(codec));
    EXPECT_EQ(compression_name(codec), "unknown");
    EXPECT_EQ(compress(codec, as_bytes("x")).code(), Errc::invalid_argument);
    EXPECT_EQ(decompress(codec, as_bytes("x"), kNoLimit).code(), Errc::invalid_argument);
  }
  for (Compression codec : kCodecs) EXPECT_TRUE(is_known_compression(codec));
}

// Decoders face untrusted bytes: whatever comes in, they return a value and stay in bounds
// (run under ASan+UBSan to make "stay in bounds" observable).
RC_GTEST_PROP(Compression, ArbitraryBytesNeverCrashADecoder, (const Bytes& data)) {
  for (Compression codec : kCodecs) {
    Result<Bytes> out = decompress(codec, data, 1 << 20);
    RC_ASSERT(out.ok() || out.code() == Errc::corrupt || out.code() == Errc::limit_exceeded);
  }
}

// Damaged compressed streams (a valid stream with bytes overwritten) reach deeper decoder states
// than random bytes do; they must still yield a value.
RC_GTEST_PROP(Compression, DamagedStreamsNeverCrashADecoder, (const std::string& text)) {
  const Compression codec =
      *rc::gen::elementOf(std::vector<Compression>(std::begin(kRealCodecs), std::end(kRealCodecs)));
  Result<Bytes> packed = compress(codec, as_bytes(text + text + text));
  RC_ASSERT(packed.ok());
  Bytes damaged = *packed;
  const int edits = *rc::gen::inRange(1, 4);
  for (int i = 0; i < edits; ++i) {
    size_t at = *rc::gen::inRange<size_t>(0, damaged.size());
    damaged[at] = *rc::gen::arbitrary<uint8_t>();
  }
  Result<Bytes> out = decompress(codec, damaged, 1 << 20);
  RC_ASSERT(out.ok() || out.code() == Errc::corrupt || out.code() == Errc::limit_exceeded);
}

}  // namespace
}  // namespace gregor::log
