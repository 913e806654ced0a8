#include "node/kafka/protocol.h"

namespace gregor::kafka {
namespace wire {

void write_prefix(Writer& w, Kind kind, bool compact, int64_t n) {
  if (compact) {
    w.uvarint(static_cast<uint64_t>(n + 1));
  } else if (kind == Kind::string) {
    w.be<int16_t>(static_cast<int16_t>(n));
  } else {
    w.be<int32_t>(static_cast<int32_t>(n));
  }
}

namespace {

std::string_view noun(Kind kind) {
  switch (kind) {
    case Kind::string:
      return "string length";
    case Kind::bytes:
      return "bytes length";
    case Kind::array:
      return "array count";
  }
  return "length";
}

// Reads the raw prefix: -1 means null, anything below is returned as read (rejected by the
// caller), and compact values past int32 are clamped to an impossible length.
bool read_raw_prefix(Reader& r, Kind kind, bool compact, int64_t& n) {
  if (compact) {
    uint64_t u = r.uvarint();
    // Kafka reads these as 32-bit varints; anything larger cannot fit a request anyway.
    n = u > uint64_t{std::numeric_limits<uint32_t>::max()} ? std::numeric_limits<int64_t>::max()
                                                           : static_cast<int64_t>(u) - 1;
  } else if (kind == Kind::string) {
    n = r.be<int16_t>();
  } else {
    n = r.be<int32_t>();
  }
  return r.ok();
}

}  // namespace

Status read_prefix(Reader& r, Kind kind, bool compact, int64_t& n) {
  if (!read_raw_prefix(r, kind, compact, n))
    return detail::leaf_error(Errc::corrupt, fmt::format("truncated {}", noun(kind)));
  if (n < -1)
    return detail::leaf_error(Errc::corrupt, fmt::format("negative {} {}", noun(kind), n));
  if (kind == Kind::string && n > static_cast<int64_t>(kStringBytesMax))
    return detail::leaf_error(Errc::corrupt,
                              fmt::format("{} {} > {}", noun(kind), n, kStringBytesMax));
  // For arrays this bounds the count by the input size (every element takes at least a byte in
  // practice; Kafka applies the same rule), so a forged count cannot allocate much.
  if (n > static_cast<int64_t>(r.remaining()))
    return detail::leaf_error(Errc::corrupt,
                              fmt::format("{} {} > {} remaining", noun(kind), n, r.remaining()));
  return Status::Ok();
}

void write_nullable_string(Writer& w, const std::optional<std::string>& s) {
  write_prefix(w, Kind::string, false, s ? static_cast<int64_t>(s->size()) : -1);
  if (s) w.str(*s);
}

Status read_nullable_string(Reader& r, std::optional<std::string>& s) {
  int64_t n = 0;
  GREGOR_RETURN_IF_ERROR(read_prefix(r, Kind::string, false, n));
  if (n < 0) {
    s.reset();
  } else {
    s.emplace(as_chars(r.bytes(static_cast<size_t>(n))));
  }
  return Status::Ok();
}

void write_empty_tagged_fields(Writer& w) {
  w.uvarint(0);
}

Status skip_tagged_fields(Reader& r) {
  uint64_t count = r.uvarint();
  if (!r.ok()) return detail::leaf_error(Errc::corrupt, "tagged fields: truncated count");
  if (count > r.remaining())
    return detail::leaf_error(
        Errc::corrupt, fmt::format("tagged fields: count {} > {} remaining", count, r.remaining()));
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t tag = r.uvarint();
    uint64_t size = r.uvarint();
    if (!r.ok()) return detail::leaf_error(Errc::corrupt, "tagged fields: truncated tag or size");
    if (size > r.remaining())
      return detail::leaf_error(
          Errc::corrupt,
          fmt::format("tagged field {}: size {} > {} remaining", tag, size, r.remaining()));
    r.skip(size);
  }
  return Status::Ok();
}

}  // namespace wire

namespace detail {

Status leaf_error(Errc code, std::string detail) {
  return Status(code, ": " + detail);
}

// Joins a field name to the path below it: "name" + "[2].x: ..." or "name" + ": ..." as is,
// "name" + "x: ..." with a dot.
Status within(const Status& st, std::string_view field) {
  const std::string& m = st.message();
  bool joined = !m.empty() && (m[0] == '[' || m[0] == ':');
  return Status(st.code(), fmt::format("{}{}{}", field, joined ? "" : ".", m));
}

Status within_index(const Status& st, size_t index) {
  const std::string& m = st.message();
  bool joined = !m.empty() && (m[0] == '[' || m[0] == ':');
  return Status(st.code(), fmt::format("[{}]{}{}", index, joined ? "" : ".", m));
}

Status at_message(std::string_view message, int16_t version, const Status& st) {
  std::string_view m = st.message();
  if (m.starts_with(": ")) m.remove_prefix(2);  // an error of the struct itself, no field path
  return Status(st.code(), fmt::format("{} v{}: {}", message, version, m));
}

Status check_version(std::string_view message, int16_t version, int16_t max_version) {
  if (version >= 0 && version <= max_version) return Status::Ok();
  return errorf(Errc::out_of_range, "{}: version {} outside the known versions 0-{}", message,
                version, max_version);
}

}  // namespace detail
}  // namespace gregor::kafka
