// Proves the generic engine of protocol.h on synthetic messages that use every wire type and
// option, independently of the real Kafka tables:
// - version syntax parses as Kafka's JSON means it;
// - golden bytes, written by hand from the protocol spec, for a non-flexible and a flexible
//   version (int16 vs compact lengths, -1 vs 0 nulls, tagged-field sections in every struct,
//   tagged fields written only when different from their default, in tag order);
// - round trip of random values at every version (RapidCheck), for all primitive types, nested
//   structs, arrays of structs and primitives, nullable arrays, tagged structs;
// - decoding skips unknown tagged fields, and refuses with Errc::corrupt and a message naming
//   the field: negative lengths, nulls in non-nullable fields, lengths and counts past the end,
//   over-long strings, malformed varints, trailing bytes, every truncation; arbitrary bytes never
//   crash (ASan+UBSan build);
// - encoding refuses unknown versions, nulls where not nullable and strings over 32767 bytes.
#include "node/kafka/protocol.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "node/kafka/messages_testing.h"

namespace gregor::kafka {
namespace {

static_assert(versions("3+").min == 3 && versions("3+").max == INT16_MAX);
static_assert(versions("0-7").min == 0 && versions("0-7").max == 7);
static_assert(versions("4").min == 4 && versions("4").max == 4);
static_assert(versions("none").empty());
static_assert(!versions("2-5").contains(1) && versions("2-5").contains(5));

struct Inner {
  int32_t a = 0;
  std::optional<std::string> s = "";
  int16_t tagged_small = 7;
  static constexpr auto fields = std::tuple{
      field("a", &Inner::a, "0+"),
      field("s", &Inner::s, "1+", nullable("2+")),
      field("tagged_small", &Inner::tagged_small, "2+", tagged(0)),
  };
  bool operator==(const Inner&) const = default;
};

// Versions 0-1 non-flexible, 2-3 flexible.
struct Everything {
  int8_t i8 = 0;
  int16_t i16 = 0;
  int32_t i32 = 0;
  int64_t i64 = 0;
  uint16_t u16 = 0;
  double f64 = 0;
  bool flag = false;
  Uuid id;
  std::string str;
  std::optional<std::string> nstr;
  Bytes bytes;
  std::optional<Bytes> nbytes;
  std::vector<int32_t> ints;
  std::vector<std::string> strs;
  std::vector<Inner> inners;
  std::optional<std::vector<Inner>> ninners = std::vector<Inner>{};
  Inner single;
  int64_t only_v1 = -1;
  int32_t tagged_int = -1;
  std::vector<Inner> tagged_inners;
  Inner tagged_struct;

  static constexpr std::string_view message_name = "Everything";
  static constexpr ApiKey api_key = ApiKey::ApiVersions;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 2;
  static constexpr auto fields = std::tuple{
      field("i8", &Everything::i8, "0+"),
      field("i16", &Everything::i16, "0+"),
      field("i32", &Everything::i32, "0+"),
      field("i64", &Everything::i64, "0+"),
      field("u16", &Everything::u16, "0+"),
      field("f64", &Everything::f64, "0+"),
      field("flag", &Everything::flag, "0+"),
      field("id", &Everything::id, "0+"),
      field("str", &Everything::str, "0+"),
      field("nstr", &Everything::nstr, "0+", nullable("0+")),
      field("bytes", &Everything::bytes, "0+"),
      field("nbytes", &Everything::nbytes, "0+", nullable("0+")),
      field("ints", &Everything::ints, "0+"),
      field("strs", &Everything::strs, "0+"),
      field("inners", &Everything::inners, "0+"),
      field("ninners", &Everything::ninners, "1+", nullable("1+")),
      field("single", &Everything::single, "0+"),
      field("only_v1", &Everything::only_v1, "1"),
      field("tagged_int", &Everything::tagged_int, "2+", tagged(1)),
      field("tagged_inners", &Everything::tagged_inners, "3+", tagged(4)),
      field("tagged_struct", &Everything::tagged_struct, "2+", tagged(9)),
  };
  bool operator==(const Everything&) const = default;
};

struct SmallInner {
  int32_t a = 0;
  std::string s;
  int16_t k = 7;
  static constexpr auto fields = std::tuple{
      field("a", &SmallInner::a, "0+"),
      field("s", &SmallInner::s, "1+"),
      field("k", &SmallInner::k, "1+", tagged(0)),
  };
  bool operator==(const SmallInner&) const = default;
};

// A small message for hand-written golden bytes. v0 non-flexible, v1 flexible.
struct Small {
  int16_t a = 0;
  std::string s;
  std::optional<std::string> n;
  std::vector<int32_t> v;
  Bytes b;
  std::vector<SmallInner> inners;
  int32_t t = 0;
  int32_t t2 = 0;

  static constexpr std::string_view message_name = "Small";
  static constexpr ApiKey api_key = ApiKey::ApiVersions;
  static constexpr int16_t max_version = 1;
  static constexpr int16_t flexible_min = 1;
  static constexpr auto fields = std::tuple{
      field("a", &Small::a, "0+"),
      field("s", &Small::s, "0+"),
      field("n", &Small::n, "0+", nullable("0+")),
      field("v", &Small::v, "0+"),
      field("b", &Small::b, "0+"),
      field("inners", &Small::inners, "0+"),
      field("t", &Small::t, "1+", tagged(3)),
      field("t2", &Small::t2, "1+", tagged(5)),
  };
  bool operator==(const Small&) const = default;
};

Bytes hex(std::string_view h) {
  Bytes out;
  std::string digits;
  for (char c : h)
    if (c != ' ' && c != '|') digits += c;
  for (size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

Small small_value() {
  Small m;
  m.a = 1;
  m.s = "hi";
  m.n = std::nullopt;
  m.v = {7};
  m.b = {0xab};
  m.inners = {SmallInner{.a = 2, .s = "x"}};
  return m;
}

TEST(Protocol, GoldenNonFlexible) {
  // a int16 | s int16 len "hi" | n null (int16 -1) | v int32 count, int32 | b int32 len |
  // inners: count 1, {a int32, s "x" (present from v1: absent here)}
  Bytes want = hex("0001 | 0002 6869 | ffff | 00000001 00000007 | 00000001 ab | 00000001 00000002");
  Result<Bytes> got = encode_to_bytes(small_value(), 0);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(to_hex(*got), to_hex(want));
  Small back = small_value();
  back.inners[0].s = "";  // not in v0
  EXPECT_EQ(decode<Small>(want, 0).value(), back);
}

TEST(Protocol, GoldenFlexible) {
  Small m = small_value();
  m.t2 = 5;
  // a | s compact (len+1 = 3) | n null (0) | v compact count 2 | b compact len 2 |
  // inners compact count 2, {a, s compact "x", tagged: none (k == default)} |
  // tagged fields: 1 field, tag 5, size 4, int32 5 (t == default 0: not written)
  Bytes want =
      hex("0001 | 03 6869 | 00 | 02 00000007 | 02 ab | 02 00000002 02 78 00 | 01 05 04 00000005");
  Result<Bytes> got = encode_to_bytes(m, 1);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(to_hex(*got), to_hex(want));
  EXPECT_EQ(decode<Small>(want, 1).value(), m);

  // Both tags set: written in ascending tag order; a nested tagged field too.
  m.t = -2;
  m.inners[0].k = 0x0102;
  want =
      hex("0001 03 6869 00 02 00000007 02 ab | 02 00000002 02 78 | 01 00 02 0102 |"
          " 02 03 04 fffffffe 05 04 00000005");
  got = encode_to_bytes(m, 1);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(to_hex(*got), to_hex(want));
  EXPECT_EQ(decode<Small>(want, 1).value(), m);
}

TEST(Protocol, PrimitiveEncodings) {
  Everything e;
  e.u16 = 0xfffe;
  e.f64 = 1.5;  // 0x3ff8000000000000
  e.flag = true;
  e.id = Uuid{0x0102030405060708, 0x090a0b0c0d0e0f10};
  Bytes out;
  Writer w(out);
  ASSERT_TRUE(encode(e, 0, w).ok());
  // i8 i16 i32 i64 | u16 | f64 | flag | uuid
  std::string want =
      "00"
      "0000"
      "00000000"
      "0000000000000000"
      "fffe"
      "3ff8000000000000"
      "01"
      "0102030405060708090a0b0c0d0e0f10";
  EXPECT_EQ(to_hex(out).substr(0, want.size()), want);
}

TEST(Protocol, BoolDecodesAnyNonZeroAsTrue) {
  Everything e;
  Bytes bytes = encode_to_bytes(e, 0).value();
  bytes[1 + 2 + 4 + 8 + 2 + 8] = 0x7f;  // the flag byte
  EXPECT_TRUE(decode<Everything>(bytes, 0).value().flag);
}

RC_GTEST_PROP(Protocol, RoundTripEveryVersion, ()) {
  const auto version = testing::uniform<int16_t>(0, Everything::max_version + 1);
  Everything msg = testing::random_message<Everything>(version);
  Result<Bytes> bytes = encode_to_bytes(msg, version);
  RC_ASSERT(bytes.ok());
  Result<Everything> back = decode<Everything>(*bytes, version);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == msg);
}

RC_GTEST_PROP(Protocol, EveryTruncationAndTrailingByteIsCorrupt, ()) {
  const auto version = testing::uniform<int16_t>(0, Everything::max_version + 1);
  Bytes bytes = encode_to_bytes(testing::random_message<Everything>(version), version).value();
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<Everything> r = decode<Everything>(ByteView(bytes).first(n), version);
    RC_ASSERT(r.code() == Errc::corrupt);
  }
  bytes.push_back(0);
  RC_ASSERT(decode<Everything>(bytes, version).code() == Errc::corrupt);
}

RC_GTEST_PROP(Protocol, ArbitraryBytesNeverCrash, (const std::vector<uint8_t>& bytes)) {
  for (int16_t v = 0; v <= Everything::max_version; ++v)
    decode<Everything>(bytes, v).status().ignore();
}

RC_GTEST_PROP(Protocol, CorruptedEncodingsNeverCrash, ()) {
  const auto version = testing::uniform<int16_t>(0, Everything::max_version + 1);
  Bytes bytes = encode_to_bytes(testing::random_message<Everything>(version), version).value();
  const auto flips = *rc::gen::container<std::vector<std::pair<size_t, uint8_t>>>(
      rc::gen::pair(rc::gen::inRange<size_t>(0, bytes.size()), rc::gen::arbitrary<uint8_t>()));
  for (auto [at, value] : flips) bytes[at] = value;
  decode<Everything>(bytes, version).status().ignore();
}

TEST(Protocol, UnknownTaggedFieldsAreSkipped) {
  Small m = small_value();
  // The flexible golden with two unknown tags (0 and 9) around the known tag 5.
  Bytes bytes =
      hex("0001 03 6869 00 02 00000007 02 ab 02 00000002 02 78 00 |"
          " 03 00 02 abcd 05 04 00000005 09 00");
  m.t2 = 5;
  EXPECT_EQ(decode<Small>(bytes, 1).value(), m);
}

TEST(Protocol, TaggedFieldErrors) {
  std::string body = "0001 03 6869 00 02 00000007 02 ab 02 00000002 02 78 00 |";
  // Known tag 5 with a size that does not match its int32.
  Result<Small> r = decode<Small>(hex(body + "01 05 05 00000005 00"), 1);
  EXPECT_EQ(r.code(), Errc::corrupt);
  EXPECT_NE(r.status().message().find("t2: 1 bytes left"), std::string::npos) << r.status();
  // A size past the end.
  r = decode<Small>(hex(body + "01 05 40 00000005"), 1);
  EXPECT_EQ(r.code(), Errc::corrupt);
  EXPECT_NE(r.status().message().find("size 64 > 4 remaining"), std::string::npos) << r.status();
  // A count larger than the bytes left.
  r = decode<Small>(hex(body + "7f"), 1);
  EXPECT_EQ(r.code(), Errc::corrupt);
  // A varint that never ends.
  r = decode<Small>(hex(body + "01 ffffffffffffffffffff"), 1);
  EXPECT_EQ(r.code(), Errc::corrupt);
}

Status decode_status(std::string_view h, int16_t version) {
  return decode<Small>(hex(h), version).status();
}

TEST(Protocol, MalformedLengthsAreCorruptAndNamed) {
  // Negative string length other than -1.
  Status st = decode_status("0001 fffe", 0);
  EXPECT_EQ(st.code(), Errc::corrupt);
  EXPECT_EQ(st.message(), "Small v0: s: negative string length -2");
  // Null in a non-nullable string.
  st = decode_status("0001 ffff", 0);
  EXPECT_EQ(st.message(), "Small v0: s: null in a non-nullable field");
  // String longer than the input.
  st = decode_status("0001 0010 6869", 0);
  EXPECT_EQ(st.message(), "Small v0: s: string length 16 > 2 remaining");
  // Array count far beyond the remaining bytes: refused before any allocation.
  st = decode_status("0001 0000 ffff 7fffffff", 0);
  EXPECT_EQ(st.message(), "Small v0: v: array count 2147483647 > 0 remaining");
  // Negative array count.
  st = decode_status("0001 0000 ffff 80000000", 0);
  EXPECT_EQ(st.message(), "Small v0: v: negative array count -2147483648");
  // Null array (-1) in a non-nullable array.
  st = decode_status("0001 0000 ffff ffffffff", 0);
  EXPECT_EQ(st.message(), "Small v0: v: null in a non-nullable field");
  // Compact: a length with the top bits set, and a varint longer than 64 bits.
  st = decode_status("0001 ffffffff0f", 1);
  EXPECT_EQ(st.code(), Errc::corrupt);
  st = decode_status("0001 ffffffffffffffffffff01", 1);
  EXPECT_EQ(st.message(), "Small v1: s: truncated string length");
  // A compact string over 32767 bytes (declared; the input need not hold it).
  st = decode_status("0001 818002", 1);
  EXPECT_EQ(st.message(), "Small v1: s: string length 32768 > 32767");
  // The path through arrays of structs.
  st = decode_status("0001 0000 ffff 00000000 00000000 00000002 00000001 00", 0);
  EXPECT_EQ(st.message(), "Small v0: inners[1].a: truncated");
  // Trailing bytes.
  st = decode_status("0001 0000 ffff 00000000 00000000 00000000 00", 0);
  EXPECT_EQ(st.message(), "Small v0: 1 bytes after the end of the body");
}

TEST(Protocol, NullabilityFollowsTheVersion) {
  // Inner.s is on the wire from v1 but nullable only from v2: a null in v1 is refused both ways.
  Everything e;
  e.inners = {Inner{.a = 1, .s = std::nullopt}};
  Result<Bytes> r = encode_to_bytes(e, 1);
  EXPECT_EQ(r.code(), Errc::invalid_argument);
  EXPECT_EQ(r.status().message(),
            "Everything v1: inners[0].s: null in a version where it is not nullable");
  EXPECT_TRUE(encode_to_bytes(e, 2).ok());
  EXPECT_TRUE(encode_to_bytes(e, 0).ok());  // s is absent in v0
  e.inners[0].s = "";
  Bytes bytes = encode_to_bytes(e, 1).value();
  // Replace the empty string (0000) of inners[0].s by a null (ffff).
  std::string h = to_hex(bytes);
  size_t at = h.find("000000010000000100000000");  // inners: count 1, a = 1, s = "" (0000)
  ASSERT_NE(at, std::string::npos);
  h.replace(at + 16, 4, "ffff");
  Result<Everything> d = decode<Everything>(hex(h), 1);
  EXPECT_EQ(d.code(), Errc::corrupt);
  EXPECT_EQ(d.status().message(),
            "Everything v1: inners[0].s: null in a version where it is not nullable");
}

TEST(Protocol, EncodeRefusesUnknownVersionsAndLongStrings) {
  Small m;
  EXPECT_EQ(encode_to_bytes(m, 2).code(), Errc::out_of_range);
  EXPECT_EQ(encode_to_bytes(m, -1).code(), Errc::out_of_range);
  EXPECT_EQ(decode<Small>(Bytes{}, 2).code(), Errc::out_of_range);
  EXPECT_EQ(decode<Small>(Bytes{}, 2).status().message(),
            "Small: version 2 outside the known versions 0-1");
  m.s.assign(kStringBytesMax, 'x');
  EXPECT_TRUE(encode_to_bytes(m, 0).ok());
  m.s.push_back('x');
  Result<Bytes> r = encode_to_bytes(m, 0);
  EXPECT_EQ(r.code(), Errc::invalid_argument);
  EXPECT_EQ(r.status().message(), "Small v0: s: string of 32768 bytes > 32767");
}

TEST(Protocol, AbsentFieldsAreNotWritten) {
  Everything e;
  e.only_v1 = 99;
  e.tagged_int = 5;
  e.ninners = std::nullopt;  // absent in v0, so its nullability does not matter
  Bytes v0 = encode_to_bytes(e, 0).value();
  EXPECT_EQ(v0, encode_to_bytes(Everything{}, 0).value());
}

TEST(Protocol, TaggedFieldsOnlyInFlexibleVersions) {
  Everything e;
  e.tagged_int = 5;
  e.tagged_inners = {Inner{.a = 3, .s = "q", .tagged_small = 1}};
  // v2: tagged_int written, tagged_inners not yet present.
  Everything want2 = e;
  want2.tagged_inners.clear();
  EXPECT_EQ(decode<Everything>(encode_to_bytes(e, 2).value(), 2).value(), want2);
  EXPECT_EQ(decode<Everything>(encode_to_bytes(e, 3).value(), 3).value(), e);
}

}  // namespace
}  // namespace gregor::kafka
