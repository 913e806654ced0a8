// __consumer_offsets record codecs (see group_records.h for the schemas).
#include "node/broker/group_records.h"

#include <fmt/format.h>

#include "node/kafka/protocol.h"

namespace gregor::broker {

namespace wire = kafka::wire;

namespace {

constexpr int16_t kOffsetKeyVersion = 1;  // 0 and 1 are the same schema
constexpr int16_t kGroupKeyVersion = 2;
constexpr int16_t kOffsetValueVersion = 3;
constexpr int16_t kOffsetValueVersionWithExpiry = 1;
constexpr int16_t kGroupValueVersion = 3;

void put_string(Writer& w, std::string_view s) {
  wire::write_prefix(w, wire::Kind::string, false, static_cast<int64_t>(s.size()));
  w.str(s);
}

void put_nullable(Writer& w, const std::optional<std::string>& s) {
  wire::write_nullable_string(w, s);
}

void put_bytes(Writer& w, ByteView b) {
  wire::write_prefix(w, wire::Kind::bytes, false, static_cast<int64_t>(b.size()));
  w.bytes(b);
}

// Reading: each getter records the first failure; callers check r.ok() / the status at the end.
class In {
 public:
  explicit In(ByteView bytes) : r_(bytes) {}

  template <typename T>
  T be(std::string_view what) {
    T v = r_.be<T>();
    if (!r_.ok()) fail(fmt::format("{}: truncated", what));
    return v;
  }
  std::string string(std::string_view what) {
    std::optional<std::string> s = nullable(what);
    if (!s && st_.ok()) fail(fmt::format("{}: null where a string is required", what));
    return s.value_or("");
  }
  std::optional<std::string> nullable(std::string_view what) {
    std::optional<std::string> s;
    if (!st_.ok()) return s;
    Status st = wire::read_nullable_string(r_, s);
    if (!st.ok()) fail(fmt::format("{}: {}", what, st.message()));
    return s;
  }
  Bytes bytes(std::string_view what) {
    int64_t n = 0;
    if (!st_.ok()) return {};
    Status st = wire::read_prefix(r_, wire::Kind::bytes, false, n);
    if (!st.ok()) {
      fail(fmt::format("{}: {}", what, st.message()));
      return {};
    }
    if (n < 0) return {};  // Kafka writes empty, never null, but reads null as empty
    ByteView b = r_.bytes(static_cast<size_t>(n));
    return Bytes(b.begin(), b.end());
  }
  Status finish(std::string_view what) {
    if (st_.ok() && !r_.at_end()) {
      fail(fmt::format("{}: {} bytes after the end", what, r_.remaining()));
    }
    return st_;
  }
  void fail(std::string message) {
    if (st_.ok()) st_ = Status(Errc::corrupt, std::move(message));
  }
  bool ok() const { return st_.ok(); }

 private:
  Reader r_;
  Status st_;
};

}  // namespace

Bytes encode_key(const OffsetKey& key) {
  Bytes out;
  Writer w(out);
  w.be<int16_t>(kOffsetKeyVersion);
  put_string(w, key.group);
  put_string(w, key.topic);
  w.be<int32_t>(key.partition);
  return out;
}

Bytes encode_key(const GroupKey& key) {
  Bytes out;
  Writer w(out);
  w.be<int16_t>(kGroupKeyVersion);
  put_string(w, key.group);
  return out;
}

Bytes encode_value(const OffsetValue& v) {
  Bytes out;
  Writer w(out);
  if (v.expire_timestamp >= 0) {
    w.be<int16_t>(kOffsetValueVersionWithExpiry);
    w.be<int64_t>(v.offset);
    put_string(w, v.metadata);
    w.be<int64_t>(v.commit_timestamp);
    w.be<int64_t>(v.expire_timestamp);
    return out;
  }
  w.be<int16_t>(kOffsetValueVersion);
  w.be<int64_t>(v.offset);
  w.be<int32_t>(v.leader_epoch);
  put_string(w, v.metadata);
  w.be<int64_t>(v.commit_timestamp);
  return out;
}

Bytes encode_value(const GroupValue& v) {
  Bytes out;
  Writer w(out);
  w.be<int16_t>(kGroupValueVersion);
  put_string(w, v.protocol_type);
  w.be<int32_t>(v.generation);
  put_nullable(w, v.protocol);
  put_nullable(w, v.leader);
  w.be<int64_t>(v.current_state_timestamp);
  wire::write_prefix(w, wire::Kind::array, false, static_cast<int64_t>(v.members.size()));
  for (const StoredMember& m : v.members) {
    put_string(w, m.member_id);
    put_nullable(w, m.group_instance_id);
    put_string(w, m.client_id);
    put_string(w, m.client_host);
    w.be<int32_t>(m.rebalance_timeout_ms);
    w.be<int32_t>(m.session_timeout_ms);
    put_bytes(w, m.subscription);
    put_bytes(w, m.assignment);
  }
  return out;
}

Result<GroupRecordKey> decode_group_record_key(ByteView bytes) {
  In in(bytes);
  int16_t version = in.be<int16_t>("key version");
  if (!in.ok()) return in.finish("key");
  if (version == 0 || version == 1) {
    OffsetKey key;
    key.group = in.string("offset key group");
    key.topic = in.string("offset key topic");
    key.partition = in.be<int32_t>("offset key partition");
    GREGOR_RETURN_IF_ERROR(in.finish("offset key"));
    return GroupRecordKey(std::move(key));
  }
  if (version == 2) {
    GroupKey key;
    key.group = in.string("group key group");
    GREGOR_RETURN_IF_ERROR(in.finish("group key"));
    return GroupRecordKey(std::move(key));
  }
  return errorf(Errc::corrupt, "unknown __consumer_offsets key version {}", version);
}

Result<OffsetValue> decode_offset_value(ByteView bytes) {
  In in(bytes);
  int16_t version = in.be<int16_t>("offset value version");
  if (!in.ok()) return in.finish("offset value");
  if (version < 0 || version > 3) {
    return errorf(Errc::corrupt, "offset value version {} is not readable (0-3)", version);
  }
  OffsetValue v;
  v.offset = in.be<int64_t>("offset");
  if (version >= 3) v.leader_epoch = in.be<int32_t>("leader epoch");
  v.metadata = in.string("metadata");
  v.commit_timestamp = in.be<int64_t>("commit timestamp");
  if (version == 1) v.expire_timestamp = in.be<int64_t>("expire timestamp");
  GREGOR_RETURN_IF_ERROR(in.finish("offset value"));
  return v;
}

Result<GroupValue> decode_group_value(ByteView bytes) {
  In in(bytes);
  int16_t version = in.be<int16_t>("group value version");
  if (!in.ok()) return in.finish("group value");
  if (version < 0 || version > 3) {
    return errorf(Errc::corrupt, "group value version {} is not readable (0-3)", version);
  }
  GroupValue v;
  v.protocol_type = in.string("protocol type");
  v.generation = in.be<int32_t>("generation");
  v.protocol = in.nullable("protocol");
  v.leader = in.nullable("leader");
  if (version >= 2) v.current_state_timestamp = in.be<int64_t>("current state timestamp");
  int32_t count = in.be<int32_t>("member count");
  if (in.ok() && (count < 0 || count > kStoredMembersMax)) {
    in.fail(fmt::format("member count {} outside 0..{}", count, kStoredMembersMax));
  }
  for (int32_t i = 0; in.ok() && i < count; ++i) {
    StoredMember& m = v.members.emplace_back();
    m.member_id = in.string("member id");
    if (version >= 3) m.group_instance_id = in.nullable("group instance id");
    m.client_id = in.string("client id");
    m.client_host = in.string("client host");
    m.rebalance_timeout_ms = version >= 1 ? in.be<int32_t>("rebalance timeout") : -1;
    m.session_timeout_ms = in.be<int32_t>("session timeout");
    if (version == 0) m.rebalance_timeout_ms = m.session_timeout_ms;
    m.subscription = in.bytes("subscription");
    m.assignment = in.bytes("assignment");
  }
  GREGOR_RETURN_IF_ERROR(in.finish("group value"));
  return v;
}

int32_t java_string_hash(std::string_view s) {
  uint32_t h = 0;
  auto add = [&h](uint32_t unit) { h = 31 * h + unit; };
  auto byte = [&s](size_t i) { return static_cast<uint8_t>(s[i]); };
  auto continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  constexpr uint32_t kReplacement = 0xFFFD;
  size_t i = 0;
  while (i < s.size()) {
    uint8_t b = byte(i);
    uint32_t cp = kReplacement;
    size_t len = 1;
    if (b < 0x80) {
      cp = b;
    } else if ((b & 0xE0) == 0xC0 && b >= 0xC2 && continuation(i + 1)) {
      cp = ((b & 0x1Fu) << 6) | (byte(i + 1) & 0x3Fu);
      len = 2;
    } else if ((b & 0xF0) == 0xE0 && continuation(i + 1) && continuation(i + 2)) {
      uint32_t c = ((b & 0x0Fu) << 12) | ((byte(i + 1) & 0x3Fu) << 6) | (byte(i + 2) & 0x3Fu);
      if (c >= 0x800 && (c < 0xD800 || c > 0xDFFF)) {
        cp = c;
        len = 3;
      }
    } else if ((b & 0xF8) == 0xF0 && continuation(i + 1) && continuation(i + 2) &&
               continuation(i + 3)) {
      uint32_t c = ((b & 0x07u) << 18) | ((byte(i + 1) & 0x3Fu) << 12) |
                   ((byte(i + 2) & 0x3Fu) << 6) | (byte(i + 3) & 0x3Fu);
      if (c >= 0x10000 && c <= 0x10FFFF) {
        cp = c;
        len = 4;
      }
    }
    if (cp >= 0x10000) {  // a surrogate pair in UTF-16
      cp -= 0x10000;
      add(0xD800 + (cp >> 10));
      add(0xDC00 + (cp & 0x3FF));
    } else {
      add(cp);
    }
    i += len;
  }
  return static_cast<int32_t>(h);
}

int32_t offsets_partition_for(std::string_view group_id, int32_t partitions) {
  int32_t h = java_string_hash(group_id);
  // Kafka's Utils.abs: MIN_VALUE maps to 0 rather than overflowing.
  int32_t abs = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
  return abs % partitions;
}

}  // namespace gregor::broker
