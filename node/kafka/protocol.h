// The Kafka wire protocol engine: primitive encodings, a compact way for a message struct to
// describe its fields per version, and generic encode/decode driven by that description.
//
// A message is a plain struct whose `fields` table lists every member once, in wire order:
//
//   struct HeartbeatRequest {
//     std::string group_id;
//     int32_t generation_id = 0;
//     std::string member_id;
//     std::optional<std::string> group_instance_id;   // default null
//     static constexpr auto fields = std::tuple{
//         field("group_id", &HeartbeatRequest::group_id, "0+"),
//         field("generation_id", &HeartbeatRequest::generation_id, "0+"),
//         field("member_id", &HeartbeatRequest::member_id, "0+"),
//         field("group_instance_id", &HeartbeatRequest::group_instance_id, "3+", nullable("3+")),
//     };
//     ...
//   };
//
// Version ranges use the syntax of Kafka's JSON schemas ("3+", "0-7", "4", "none") and are
// checked at compile time. `nullable(range)` marks the versions in which the field may be null
// (only allowed, and required, on std::optional members); `tagged(n)` makes the field tagged
// field n in the flexible versions where it is present (Kafka's "taggedVersions" equal its
// "versions"; a tagged field never appears in non-flexible versions). Member types map to wire
// types: int8/16/32/64_t, uint16_t, double (float64), bool, Uuid, std::string (string),
// Bytes (bytes; also `records`), std::vector<E> (array of a primitive, string or struct),
// a nested struct with its own `fields`, and std::optional<string | Bytes | vector<E>> for the
// nullable forms. Nested structs describe their fields the same way.
//
// A top-level message additionally declares `message_name`, `api_key`, `max_version` (the highest
// version this table describes; versions 0..max_version are known) and `flexible_min` (Kafka's
// first flexible version: from there strings, bytes and arrays are compact, with an unsigned
// varint length + 1 where 0 means null, and every struct ends in a tagged-field section).
//
// Contracts:
// - encode() refuses a version outside 0..max_version (Errc::out_of_range), a null value in a
//   version where the field is not nullable, and strings over 32767 bytes (Errc::invalid_argument).
//   Fields absent from the version are not written, whatever their value. Tagged fields are
//   written only when they differ from their default (the struct's member initialiser).
// - decode() never asserts or reads out of bounds on hostile input: negative lengths other than
//   -1 for nullable fields, null in a non-nullable field, lengths past the end of the input, array
//   counts larger than the remaining bytes (so a forged count cannot force a huge allocation),
//   strings over 32767 bytes, malformed varints and bytes left after the body are Errc::corrupt.
//   Unknown tagged fields are skipped. Error messages name the message, version and field path,
//   e.g. "ProduceRequest v3: topic_data[0].partition_data[1].records: length 90 > 12 remaining".
#pragma once

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace gregor::kafka {

// Kafka API keys of the APIs Gregor knows (the numbers are the wire values).
enum class ApiKey : int16_t {
  Produce = 0,
  Fetch = 1,
  ListOffsets = 2,
  Metadata = 3,
  OffsetCommit = 8,
  OffsetFetch = 9,
  FindCoordinator = 10,
  JoinGroup = 11,
  Heartbeat = 12,
  LeaveGroup = 13,
  SyncGroup = 14,
  DescribeGroups = 15,
  ListGroups = 16,
  ApiVersions = 18,
  CreateTopics = 19,
  DeleteTopics = 20,
  InitProducerId = 22,
  DescribeConfigs = 32,
};

// Kafka's 128-bit UUID (topic ids), 16 bytes on the wire: most significant half first.
struct Uuid {
  uint64_t high = 0;
  uint64_t low = 0;
  bool operator==(const Uuid&) const = default;
};

// Longest string Kafka accepts on the wire (int16 length; also enforced for compact strings).
inline constexpr size_t kStringBytesMax = 0x7fff;

// An inclusive range of versions; empty when min > max.
struct Versions {
  int16_t min = 0;
  int16_t max = -1;
  constexpr bool contains(int16_t v) const { return v >= min && v <= max; }
  constexpr bool empty() const { return min > max; }
};

// Parses Kafka's version syntax: "N+", "N-M", "N" or "none". A malformed range does not compile.
constexpr Versions versions(std::string_view s) {
  if (s == "none") return Versions{};
  auto number = [&s](size_t& i) {
    size_t start = i;
    int value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') value = value * 10 + (s[i++] - '0');
    if (i == start || value > std::numeric_limits<int16_t>::max()) throw "bad version number";
    return static_cast<int16_t>(value);
  };
  size_t i = 0;
  int16_t min = number(i);
  if (i == s.size()) return Versions{min, min};
  if (s.substr(i) == "+") return Versions{min, std::numeric_limits<int16_t>::max()};
  if (s[i] != '-') throw "bad version range";
  ++i;
  int16_t max = number(i);
  if (i != s.size() || max < min) throw "bad version range";
  return Versions{min, max};
}

namespace detail {

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
inline constexpr bool kIsOptional = IsOptional<T>::value;

template <typename T>
struct IsVector : std::false_type {};
template <typename E>
struct IsVector<std::vector<E>> : std::true_type {};
// Bytes is std::vector<uint8_t> but a `bytes` field, never an array.
template <typename T>
inline constexpr bool kIsArray = IsVector<T>::value && !std::is_same_v<T, Bytes>;

}  // namespace detail

// One row of a fields table: the member it encodes and the versions where it exists.
template <typename S, typename M>
struct Field {
  using Struct = S;
  using Member = M;
  std::string_view name;
  M S::*member;
  Versions versions;
  Versions nullable;  // versions in which the value may be null (empty: never)
  int32_t tag = -1;   // >= 0: a tagged field in flexible versions

  constexpr bool is_tagged() const { return tag >= 0; }
  // Whether the field is on the wire in this version (tagged fields only in flexible ones).
  constexpr bool present(int16_t version, bool flexible) const {
    return versions.contains(version) && (!is_tagged() || flexible);
  }
};

struct NullableOption {
  Versions versions;
};
struct TagOption {
  int32_t tag;
};
// Field options: the versions in which the field is nullable; the tag of a tagged field.
constexpr NullableOption nullable(std::string_view range) {
  return {versions(range)};
}
constexpr TagOption tagged(int32_t tag) {
  if (tag < 0) throw "negative tag";
  return {tag};
}

template <typename S, typename M>
constexpr void apply_option(Field<S, M>& f, NullableOption option) {
  f.nullable = option.versions;
}
template <typename S, typename M>
constexpr void apply_option(Field<S, M>& f, TagOption option) {
  f.tag = option.tag;
}

// A row of a fields table. `range` and the options are checked at compile time (fields tables are
// constexpr): a std::optional member needs nullable(...), and nullable(...) needs a std::optional
// member.
template <typename S, typename M, typename... Options>
constexpr Field<S, M> field(std::string_view name, M S::*member, std::string_view range,
                            Options... options) {
  Field<S, M> f{};
  f.name = name;
  f.member = member;
  f.versions = versions(range);
  (apply_option(f, options), ...);
  if (detail::kIsOptional<M> == f.nullable.empty()) throw "nullable() iff std::optional member";
  return f;
}

// A struct with a fields table (a message or a nested struct).
template <typename T>
concept Struct = requires {
  T::fields;
};

// A top-level message (request or response body).
template <typename T>
concept Message = Struct<T> && requires {
  { T::message_name } -> std::convertible_to<std::string_view>;
  { T::api_key } -> std::convertible_to<ApiKey>;
  { T::max_version } -> std::convertible_to<int16_t>;
  { T::flexible_min } -> std::convertible_to<int16_t>;
};

template <Message T>
constexpr bool is_flexible(int16_t version) {
  return version >= T::flexible_min;
}

// Primitive encodings, for the engine and for hand-written pieces (headers).
namespace wire {

enum class Kind : uint8_t { string, bytes, array };

// Writes a length (or count) prefix; n = -1 writes null. Non-compact: int16 for strings, int32
// for bytes and arrays. Compact: unsigned varint n + 1 (0 = null).
void write_prefix(Writer& w, Kind kind, bool compact, int64_t n);
// Reads a prefix into n (-1 = null). Errc::corrupt when truncated, negative other than -1, a
// string over kStringBytesMax, or a length or count larger than the bytes remaining after it.
Status read_prefix(Reader& r, Kind kind, bool compact, int64_t& n);

// A nullable non-compact string (the request header's client_id); nullopt writes length -1.
void write_nullable_string(Writer& w, const std::optional<std::string>& s);
Status read_nullable_string(Reader& r, std::optional<std::string>& s);

// A tagged-field section with no fields (one zero byte).
void write_empty_tagged_fields(Writer& w);
// Skips a whole tagged-field section (every field unknown).
Status skip_tagged_fields(Reader& r);

}  // namespace wire

namespace detail {

struct Context {
  int16_t version;
  bool flexible;
};

// Error paths are built on the way out: a leaf error's message starts with ": detail"; each level
// prepends its field name or "[index]"; at_message() prefixes "<message> v<version>".
Status leaf_error(Errc code, std::string detail);
Status within(const Status& st, std::string_view field);
Status within_index(const Status& st, size_t index);
Status at_message(std::string_view message, int16_t version, const Status& st);
Status check_version(std::string_view message, int16_t version, int16_t max_version);

template <typename S, typename Fn>
constexpr bool for_each_field(Fn&& fn) {
  return std::apply([&fn](const auto&... f) { return (fn(f) && ...); }, S::fields);
}

// Compile-time checks of a table: tags strictly increase in table order (Kafka writes tagged
// fields in ascending tag order).
template <typename S>
consteval bool valid_table() {
  int32_t last_tag = -1;
  bool ok = true;
  for_each_field<S>([&](const auto& f) {
    if (f.is_tagged()) {
      ok = ok && f.tag > last_tag;
      last_tag = f.tag;
    }
    return true;
  });
  return ok;
}

template <typename T>
constexpr wire::Kind kind_of() {
  if constexpr (std::is_same_v<T, std::string>) return wire::Kind::string;
  if constexpr (std::is_same_v<T, Bytes>) return wire::Kind::bytes;
  return wire::Kind::array;
}

template <typename T>
inline constexpr bool kIsPrefixed =
    std::is_same_v<T, std::string> || std::is_same_v<T, Bytes> || kIsArray<T>;

template <typename T>
inline constexpr bool kIsFixed =
    std::is_integral_v<T> || std::is_same_v<T, double> || std::is_same_v<T, Uuid>;

template <typename T>
inline constexpr bool kAlwaysFalse = false;

template <Struct S>
Status write_struct(const S& s, const Context& ctx, Writer& w);
template <Struct S>
Status read_struct(S& s, const Context& ctx, Reader& r);
template <typename T>
Status read_value(T& out, const Context& ctx, Reader& r);

template <typename T>
void write_fixed(const T& v, Writer& w) {
  if constexpr (std::is_same_v<T, bool>) {
    w.u8(v ? 1 : 0);
  } else if constexpr (std::is_same_v<T, double>) {
    w.be<uint64_t>(std::bit_cast<uint64_t>(v));
  } else if constexpr (std::is_same_v<T, Uuid>) {
    w.be<uint64_t>(v.high);
    w.be<uint64_t>(v.low);
  } else {
    w.be<T>(v);
  }
}

template <typename T>
Status read_fixed(T& v, Reader& r) {
  if constexpr (std::is_same_v<T, bool>) {
    v = r.u8() != 0;  // Kafka reads any non-zero byte as true
  } else if constexpr (std::is_same_v<T, double>) {
    v = std::bit_cast<double>(r.be<uint64_t>());
  } else if constexpr (std::is_same_v<T, Uuid>) {
    v.high = r.be<uint64_t>();
    v.low = r.be<uint64_t>();
  } else {
    v = r.be<T>();
  }
  return r.ok() ? Status::Ok() : leaf_error(Errc::corrupt, "truncated");
}

// Encodes a non-null value (a null is handled by write_field).
template <typename T>
Status write_value(const T& v, const Context& ctx, Writer& w) {
  if constexpr (kIsFixed<T>) {
    write_fixed(v, w);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (v.size() > kStringBytesMax)
      return leaf_error(Errc::invalid_argument,
                        fmt::format("string of {} bytes > {}", v.size(), kStringBytesMax));
    wire::write_prefix(w, wire::Kind::string, ctx.flexible, static_cast<int64_t>(v.size()));
    w.str(v);
  } else if constexpr (std::is_same_v<T, Bytes>) {
    if (v.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
      return leaf_error(Errc::invalid_argument, fmt::format("{} bytes > int32 max", v.size()));
    wire::write_prefix(w, wire::Kind::bytes, ctx.flexible, static_cast<int64_t>(v.size()));
    w.bytes(v);
  } else if constexpr (kIsArray<T>) {
    wire::write_prefix(w, wire::Kind::array, ctx.flexible, static_cast<int64_t>(v.size()));
    for (size_t i = 0; i < v.size(); ++i) {
      Status st = write_value(v[i], ctx, w);
      if (!st.ok()) return within_index(st, i);
    }
  } else if constexpr (Struct<T>) {
    return write_struct(v, ctx, w);
  } else {
    static_assert(kAlwaysFalse<T>, "unsupported field type");
  }
  return Status::Ok();
}

// Decodes the body of a length-prefixed value whose prefix n >= 0 was already read (and checked
// against the remaining bytes by read_prefix).
template <typename T>
Status read_body(T& out, int64_t n, const Context& ctx, Reader& r) {
  if constexpr (std::is_same_v<T, std::string>) {
    out.assign(as_chars(r.bytes(static_cast<size_t>(n))));
  } else if constexpr (std::is_same_v<T, Bytes>) {
    ByteView b = r.bytes(static_cast<size_t>(n));
    out.assign(b.begin(), b.end());
  } else {
    static_assert(kIsArray<T>);
    out.clear();
    // Grow as elements decode: n <= remaining bytes, but an element may be far larger in memory
    // than on the wire, so do not trust n for one big allocation.
    out.reserve(static_cast<size_t>(std::min<int64_t>(n, 64)));
    for (int64_t i = 0; i < n; ++i) {
      typename T::value_type e{};
      Status st = read_value(e, ctx, r);
      if (!st.ok()) return within_index(st, static_cast<size_t>(i));
      out.push_back(std::move(e));
    }
  }
  return r.ok() ? Status::Ok() : leaf_error(Errc::corrupt, "truncated");
}

// Decodes a non-nullable value.
template <typename T>
Status read_value(T& out, const Context& ctx, Reader& r) {
  if constexpr (kIsFixed<T>) {
    return read_fixed(out, r);
  } else if constexpr (kIsPrefixed<T>) {
    int64_t n = 0;
    GREGOR_RETURN_IF_ERROR(wire::read_prefix(r, kind_of<T>(), ctx.flexible, n));
    if (n < 0) return leaf_error(Errc::corrupt, "null in a non-nullable field");
    return read_body(out, n, ctx, r);
  } else if constexpr (Struct<T>) {
    return read_struct(out, ctx, r);
  } else {
    static_assert(kAlwaysFalse<T>, "unsupported field type");
  }
}

template <typename F, typename S>
Status write_field(const F& f, const S& s, const Context& ctx, Writer& w) {
  using M = typename F::Member;
  const M& v = s.*(f.member);
  if constexpr (kIsOptional<M>) {
    using V = typename M::value_type;
    static_assert(kIsPrefixed<V>, "only strings, bytes and arrays can be nullable");
    if (!v) {
      if (!f.nullable.contains(ctx.version))
        return leaf_error(Errc::invalid_argument, "null in a version where it is not nullable");
      wire::write_prefix(w, kind_of<V>(), ctx.flexible, -1);
      return Status::Ok();
    }
    return write_value(*v, ctx, w);
  } else {
    return write_value(v, ctx, w);
  }
}

template <typename F, typename S>
Status read_field(const F& f, S& s, const Context& ctx, Reader& r) {
  using M = typename F::Member;
  M& out = s.*(f.member);
  if constexpr (kIsOptional<M>) {
    using V = typename M::value_type;
    int64_t n = 0;
    GREGOR_RETURN_IF_ERROR(wire::read_prefix(r, kind_of<V>(), ctx.flexible, n));
    if (n < 0) {
      if (!f.nullable.contains(ctx.version))
        return leaf_error(Errc::corrupt, "null in a version where it is not nullable");
      out.reset();
      return Status::Ok();
    }
    return read_body(out.emplace(), n, ctx, r);
  } else {
    return read_value(out, ctx, r);
  }
}

// The defaults tagged fields are compared against (a tagged field equal to its default is not
// written).
template <Struct S>
const S& default_value() {
  static const S value{};
  return value;
}

template <Struct S>
Status write_tagged_fields(const S& s, const Context& ctx, Writer& w) {
  auto written = [&](const auto& f) {
    return f.is_tagged() && f.present(ctx.version, true) &&
           !(s.*(f.member) == default_value<S>().*(f.member));
  };
  uint64_t count = 0;
  for_each_field<S>([&](const auto& f) {
    count += written(f) ? 1 : 0;
    return true;
  });
  w.uvarint(count);
  Status st;
  for_each_field<S>([&](const auto& f) {
    if (!written(f)) return true;
    Bytes value;
    Writer vw(value);
    st = write_field(f, s, ctx, vw);
    if (!st.ok()) {
      st = within(st, f.name);
      return false;
    }
    w.uvarint(static_cast<uint64_t>(f.tag));
    w.uvarint(value.size());
    w.bytes(value);
    return true;
  });
  return st;
}

// Decodes one tagged field's value (its bytes already cut out) if the table knows the tag in this
// version; unknown tags are skipped.
template <Struct S>
Status read_tagged_field(S& s, uint64_t tag, ByteView value, const Context& ctx) {
  Status st;
  for_each_field<S>([&](const auto& f) {
    if (!f.is_tagged() || static_cast<uint64_t>(f.tag) != tag || !f.present(ctx.version, true))
      return true;
    Reader vr(value);
    st = read_field(f, s, ctx, vr);
    if (st.ok() && !vr.at_end())
      st = leaf_error(Errc::corrupt, fmt::format("{} bytes left in a tagged field of {} bytes",
                                                 vr.remaining(), value.size()));
    if (!st.ok()) st = within(st, f.name);
    return false;
  });
  return st;
}

template <Struct S>
Status read_tagged_fields(S& s, const Context& ctx, Reader& r) {
  uint64_t count = r.uvarint();
  if (!r.ok()) return leaf_error(Errc::corrupt, "tagged fields: truncated count");
  if (count > r.remaining())
    return leaf_error(Errc::corrupt,
                      fmt::format("tagged fields: count {} > {} remaining", count, r.remaining()));
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t tag = r.uvarint();
    uint64_t size = r.uvarint();
    if (!r.ok()) return leaf_error(Errc::corrupt, "tagged fields: truncated tag or size");
    if (size > r.remaining())
      return leaf_error(Errc::corrupt, fmt::format("tagged field {}: size {} > {} remaining", tag,
                                                   size, r.remaining()));
    GREGOR_RETURN_IF_ERROR(read_tagged_field(s, tag, r.bytes(size), ctx));
  }
  return Status::Ok();
}

template <Struct S>
Status write_struct(const S& s, const Context& ctx, Writer& w) {
  static_assert(valid_table<S>(), "tags must strictly increase in table order");
  Status st;
  for_each_field<S>([&](const auto& f) {
    if (f.is_tagged() || !f.present(ctx.version, ctx.flexible)) return true;
    st = write_field(f, s, ctx, w);
    if (!st.ok()) st = within(st, f.name);
    return st.ok();
  });
  if (st.ok() && ctx.flexible) st = write_tagged_fields(s, ctx, w);
  return st;
}

template <Struct S>
Status read_struct(S& s, const Context& ctx, Reader& r) {
  Status st;
  for_each_field<S>([&](const auto& f) {
    if (f.is_tagged() || !f.present(ctx.version, ctx.flexible)) return true;
    st = read_field(f, s, ctx, r);
    if (!st.ok()) st = within(st, f.name);
    return st.ok();
  });
  if (st.ok() && ctx.flexible) st = read_tagged_fields(s, ctx, r);
  return st;
}

}  // namespace detail

// Appends the body of `msg` at `version` to w. On error w may hold a partial encoding: discard it.
template <Message T>
Status encode(const T& msg, int16_t version, Writer& w) {
  GREGOR_RETURN_IF_ERROR(detail::check_version(T::message_name, version, T::max_version));
  Status st = detail::write_struct(msg, detail::Context{version, is_flexible<T>(version)}, w);
  return st.ok() ? st : detail::at_message(T::message_name, version, st);
}

// Decodes a body of `version` that must occupy exactly the rest of r (bytes left over are an
// error: Gregor's parser is exact).
template <Message T>
Result<T> decode(Reader& r, int16_t version) {
  GREGOR_RETURN_IF_ERROR(detail::check_version(T::message_name, version, T::max_version));
  T msg{};
  Status st = detail::read_struct(msg, detail::Context{version, is_flexible<T>(version)}, r);
  if (!st.ok()) return detail::at_message(T::message_name, version, st);
  if (!r.at_end())
    return errorf(Errc::corrupt, "{} v{}: {} bytes after the end of the body", T::message_name,
                  version, r.remaining());
  return msg;
}

template <Message T>
Result<T> decode(ByteView body, int16_t version) {
  Reader r(body);
  return decode<T>(r, version);
}

template <Message T>
Result<Bytes> encode_to_bytes(const T& msg, int16_t version) {
  Bytes out;
  Writer w(out);
  GREGOR_RETURN_IF_ERROR(encode(msg, version, w));
  return out;
}

}  // namespace gregor::kafka

// Explicit instantiation of the codec for a message type: DECLARE in its header (so including
// files do not instantiate the templates again), DEFINE in one .cc file.
#define GREGOR_KAFKA_DECLARE_CODEC(T)                                               \
  extern template ::gregor::Status encode<T>(const T&, int16_t, ::gregor::Writer&); \
  extern template ::gregor::Result<T> decode<T>(::gregor::Reader&, int16_t)
#define GREGOR_KAFKA_DEFINE_CODEC(T)                                         \
  template ::gregor::Status encode<T>(const T&, int16_t, ::gregor::Writer&); \
  template ::gregor::Result<T> decode<T>(::gregor::Reader&, int16_t)
