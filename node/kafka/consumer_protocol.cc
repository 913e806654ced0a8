#include "node/kafka/consumer_protocol.h"

#include <algorithm>
#include <limits>

#include "node/kafka/protocol.h"

namespace gregor::kafka {
namespace {

// --- encoding (non-flexible: these embedded messages never use compact forms) ---

void write_string(Writer& w, std::string_view s) {
  GREGOR_ASSERT(s.size() <= kStringBytesMax, "string of {} bytes in the consumer protocol",
                s.size());
  wire::write_prefix(w, wire::Kind::string, false, static_cast<int64_t>(s.size()));
  w.str(s);
}

void write_count(Writer& w, size_t n) {
  GREGOR_ASSERT(n <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), "array of {}", n);
  wire::write_prefix(w, wire::Kind::array, false, static_cast<int64_t>(n));
}

void write_nullable_bytes(Writer& w, const std::optional<Bytes>& b) {
  if (!b) {
    wire::write_prefix(w, wire::Kind::bytes, false, -1);
    return;
  }
  GREGOR_ASSERT(b->size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()),
                "user_data of {} bytes", b->size());
  wire::write_prefix(w, wire::Kind::bytes, false, static_cast<int64_t>(b->size()));
  w.bytes(*b);
}

void write_topic_partitions(Writer& w, const std::vector<ConsumerTopicPartitions>& tps) {
  write_count(w, tps.size());
  for (const ConsumerTopicPartitions& tp : tps) {
    write_string(w, tp.topic);
    write_count(w, tp.partitions.size());
    for (int32_t p : tp.partitions) w.be<int32_t>(p);
  }
}

// --- decoding: every helper returns Errc::corrupt naming `what` on bad input ---

Status corrupt(std::string_view message, std::string_view what, std::string_view detail) {
  return errorf(Errc::corrupt, "{}: {}: {}", message, what, detail);
}

class Decoder {
 public:
  Decoder(ByteView in, std::string_view message) : r_(in), message_(message) {}

  Reader& reader() { return r_; }

  Status int16(int16_t& v, std::string_view what) {
    v = r_.be<int16_t>();
    return r_.ok() ? Status::Ok() : corrupt(message_, what, "truncated");
  }
  Status int32(int32_t& v, std::string_view what) {
    v = r_.be<int32_t>();
    return r_.ok() ? Status::Ok() : corrupt(message_, what, "truncated");
  }

  // An array count: non-null, within the input and within kConsumerProtocolArrayMax.
  Status count(size_t& n, std::string_view what) {
    int64_t raw = 0;
    Status st = wire::read_prefix(r_, wire::Kind::array, false, raw);
    if (!st.ok()) return corrupt(message_, what, trim(st.message()));
    if (raw < 0) return corrupt(message_, what, "null array");
    if (static_cast<uint64_t>(raw) > kConsumerProtocolArrayMax)
      return corrupt(message_, what,
                     fmt::format("{} elements > limit {}", raw, kConsumerProtocolArrayMax));
    n = static_cast<size_t>(raw);
    return Status::Ok();
  }

  Status string(std::string& s, std::string_view what) {
    std::optional<std::string> v;
    GREGOR_RETURN_IF_ERROR(nullable_string(v, what));
    if (!v) return corrupt(message_, what, "null string");
    s = std::move(*v);
    return Status::Ok();
  }

  Status nullable_string(std::optional<std::string>& s, std::string_view what) {
    int64_t n = 0;
    Status st = wire::read_prefix(r_, wire::Kind::string, false, n);
    if (!st.ok()) return corrupt(message_, what, trim(st.message()));
    if (n < 0) {
      s.reset();
    } else {
      s.emplace(as_chars(r_.bytes(static_cast<size_t>(n))));
    }
    return Status::Ok();
  }

  Status nullable_bytes(std::optional<Bytes>& b, std::string_view what) {
    int64_t n = 0;
    Status st = wire::read_prefix(r_, wire::Kind::bytes, false, n);
    if (!st.ok()) return corrupt(message_, what, trim(st.message()));
    if (n < 0) {
      b.reset();
    } else {
      ByteView v = r_.bytes(static_cast<size_t>(n));
      b.emplace(v.begin(), v.end());
    }
    return Status::Ok();
  }

  Status topic_partitions(std::vector<ConsumerTopicPartitions>& out, std::string_view what) {
    size_t topics = 0;
    GREGOR_RETURN_IF_ERROR(count(topics, what));
    out.clear();
    out.reserve(std::min<size_t>(topics, 64));  // grow as decoded: the count is untrusted
    for (size_t i = 0; i < topics; ++i) {
      ConsumerTopicPartitions tp;
      std::string at = fmt::format("{}[{}]", what, i);
      GREGOR_RETURN_IF_ERROR(string(tp.topic, at + ".topic"));
      size_t partitions = 0;
      GREGOR_RETURN_IF_ERROR(count(partitions, at + ".partitions"));
      // Each partition takes 4 bytes: check before reserving so a count cannot over-allocate.
      if (partitions > r_.remaining() / 4)
        return corrupt(
            message_, at + ".partitions",
            fmt::format("{} partitions > {} bytes remaining", partitions, r_.remaining()));
      tp.partitions.resize(partitions);
      for (size_t j = 0; j < partitions; ++j) tp.partitions[j] = r_.be<int32_t>();
      out.push_back(std::move(tp));
    }
    return Status::Ok();
  }

  // Reads the version header; `known` is the version whose fields to read (Kafka reads a newer
  // version as the newest it knows: newer versions only append).
  Status version(int16_t& wire_version, int16_t max_known, int16_t& known) {
    GREGOR_RETURN_IF_ERROR(int16(wire_version, "version"));
    if (wire_version < 0)
      return corrupt(message_, "version", fmt::format("negative version {}", wire_version));
    known = std::min(wire_version, max_known);
    return Status::Ok();
  }

  // Bytes left after the known fields: allowed only when the wire version is newer than what we
  // read (they are the newer fields).
  Status finish(int16_t wire_version, int16_t max_known) {
    if (wire_version > max_known || r_.remaining() == 0) return Status::Ok();
    return errorf(Errc::corrupt, "{} v{}: {} bytes after the last field", message_, wire_version,
                  r_.remaining());
  }

 private:
  // read_prefix's detail messages start with ": " (they are built to be prefixed by a path).
  static std::string_view trim(std::string_view s) { return s.starts_with(": ") ? s.substr(2) : s; }

  Reader r_;
  std::string_view message_;
};

}  // namespace

Bytes encode_subscription(const ConsumerSubscription& s) {
  GREGOR_ASSERT(s.version >= 0 && s.version <= kConsumerSubscriptionVersionMax,
                "subscription version {}", s.version);
  Bytes out;
  Writer w(out);
  w.be<int16_t>(s.version);
  write_count(w, s.topics.size());
  for (const std::string& t : s.topics) write_string(w, t);
  write_nullable_bytes(w, s.user_data);
  if (s.version >= 1) write_topic_partitions(w, s.owned_partitions);
  if (s.version >= 2) w.be<int32_t>(s.generation_id);
  if (s.version >= 3) {
    if (s.rack_id) GREGOR_ASSERT(s.rack_id->size() <= kStringBytesMax, "rack_id too long");
    wire::write_nullable_string(w, s.rack_id);
  }
  return out;
}

Bytes encode_assignment(const ConsumerAssignment& a) {
  GREGOR_ASSERT(a.version >= 0 && a.version <= kConsumerAssignmentVersionMax,
                "assignment version {}", a.version);
  Bytes out;
  Writer w(out);
  w.be<int16_t>(a.version);
  write_topic_partitions(w, a.partitions);
  write_nullable_bytes(w, a.user_data);
  return out;
}

Result<ConsumerSubscription> decode_subscription(ByteView bytes) {
  Decoder d(bytes, "ConsumerProtocolSubscription");
  ConsumerSubscription s;
  int16_t known = 0;
  GREGOR_RETURN_IF_ERROR(d.version(s.version, kConsumerSubscriptionVersionMax, known));
  size_t topics = 0;
  GREGOR_RETURN_IF_ERROR(d.count(topics, "topics"));
  s.topics.reserve(std::min<size_t>(topics, 64));
  for (size_t i = 0; i < topics; ++i) {
    std::string t;
    GREGOR_RETURN_IF_ERROR(d.string(t, fmt::format("topics[{}]", i)));
    s.topics.push_back(std::move(t));
  }
  GREGOR_RETURN_IF_ERROR(d.nullable_bytes(s.user_data, "user_data"));
  if (known >= 1)
    GREGOR_RETURN_IF_ERROR(d.topic_partitions(s.owned_partitions, "owned_partitions"));
  if (known >= 2) GREGOR_RETURN_IF_ERROR(d.int32(s.generation_id, "generation_id"));
  if (known >= 3) GREGOR_RETURN_IF_ERROR(d.nullable_string(s.rack_id, "rack_id"));
  GREGOR_RETURN_IF_ERROR(d.finish(s.version, kConsumerSubscriptionVersionMax));
  return s;
}

Result<ConsumerAssignment> decode_assignment(ByteView bytes) {
  Decoder d(bytes, "ConsumerProtocolAssignment");
  ConsumerAssignment a;
  int16_t known = 0;
  GREGOR_RETURN_IF_ERROR(d.version(a.version, kConsumerAssignmentVersionMax, known));
  GREGOR_RETURN_IF_ERROR(d.topic_partitions(a.partitions, "assigned_partitions"));
  GREGOR_RETURN_IF_ERROR(d.nullable_bytes(a.user_data, "user_data"));
  GREGOR_RETURN_IF_ERROR(d.finish(a.version, kConsumerAssignmentVersionMax));
  return a;
}

}  // namespace gregor::kafka
