// Metadata record codecs: the engine's struct walkers under Kafka's metadata frame (see the
// header for why records do not go through kafka::encode/decode).
#include "node/controller/metadata_records.h"

#include <fmt/format.h>

namespace gregor::metadata {

namespace {

// Every metadata record schema is flexible from version 0.
kafka::detail::Context context(int16_t version) {
  return kafka::detail::Context{version, true};
}

// The alternative of MetadataRecord whose record_type is `type`, default-constructed.
template <size_t I = 0>
std::optional<MetadataRecord> record_of_type(int64_t type) {
  if constexpr (I == std::variant_size_v<MetadataRecord>) {
    return std::nullopt;
  } else {
    using T = std::variant_alternative_t<I, MetadataRecord>;
    if (static_cast<int64_t>(T::record_type) == type) return MetadataRecord(std::in_place_index<I>);
    return record_of_type<I + 1>(type);
  }
}

}  // namespace

template <Record T>
Status encode_body(const T& record, int16_t version, Writer& w) {
  GREGOR_RETURN_IF_ERROR(kafka::detail::check_version(T::record_name, version, T::max_version));
  Status st = kafka::detail::write_struct(record, context(version), w);
  return st.ok() ? st : kafka::detail::at_message(T::record_name, version, st);
}

template <Record T>
Result<T> decode_body(Reader& r, int16_t version) {
  GREGOR_RETURN_IF_ERROR(kafka::detail::check_version(T::record_name, version, T::max_version));
  T record{};
  Status st = kafka::detail::read_struct(record, context(version), r);
  if (!st.ok()) return kafka::detail::at_message(T::record_name, version, st);
  if (!r.at_end())
    return errorf(Errc::corrupt, "{} v{}: {} bytes after the end of the body", T::record_name,
                  version, r.remaining());
  return record;
}

#define GREGOR_METADATA_DEFINE_CODEC(T)                       \
  template Status encode_body<T>(const T&, int16_t, Writer&); \
  template Result<T> decode_body<T>(Reader&, int16_t)
GREGOR_METADATA_DEFINE_CODEC(RegisterBrokerRecord);
GREGOR_METADATA_DEFINE_CODEC(UnregisterBrokerRecord);
GREGOR_METADATA_DEFINE_CODEC(TopicRecord);
GREGOR_METADATA_DEFINE_CODEC(PartitionRecord);
GREGOR_METADATA_DEFINE_CODEC(ConfigRecord);
GREGOR_METADATA_DEFINE_CODEC(PartitionChangeRecord);
GREGOR_METADATA_DEFINE_CODEC(FenceBrokerRecord);
GREGOR_METADATA_DEFINE_CODEC(UnfenceBrokerRecord);
GREGOR_METADATA_DEFINE_CODEC(RemoveTopicRecord);
GREGOR_METADATA_DEFINE_CODEC(FeatureLevelRecord);
GREGOR_METADATA_DEFINE_CODEC(ProducerIdsRecord);
GREGOR_METADATA_DEFINE_CODEC(BrokerRegistrationChangeRecord);
GREGOR_METADATA_DEFINE_CODEC(NoOpRecord);
#undef GREGOR_METADATA_DEFINE_CODEC

std::string_view record_name(const MetadataRecord& record) {
  return std::visit([](const auto& r) { return std::string_view(r.record_name); }, record);
}

Result<Bytes> encode_record(const MetadataRecord& record) {
  int16_t version = std::visit([](const auto& r) { return r.write_version; }, record);
  return encode_record(record, version);
}

Result<Bytes> encode_record(const MetadataRecord& record, int16_t version) {
  Bytes out;
  Writer w(out);
  Status st = std::visit(
      [&](const auto& r) {
        GREGOR_RETURN_IF_ERROR(kafka::detail::check_version(r.record_name, version, r.max_version));
        w.uvarint(kRecordFrameVersion);
        w.uvarint(static_cast<uint64_t>(r.record_type));
        w.uvarint(static_cast<uint64_t>(version));
        return encode_body(r, version, w);
      },
      record);
  if (!st.ok()) return st;
  return out;
}

Result<DecodedRecord> decode_record(ByteView bytes) {
  Reader r(bytes);
  uint64_t frame_version = r.uvarint();
  uint64_t type = r.uvarint();
  uint64_t version = r.uvarint();
  if (!r.ok()) return error(Errc::corrupt, "metadata record: truncated frame header");
  if (frame_version != kRecordFrameVersion)
    return errorf(Errc::corrupt, "metadata record: frame version {} (only {} is known)",
                  frame_version, kRecordFrameVersion);
  std::optional<MetadataRecord> record =
      type <= 0x7fff ? record_of_type(static_cast<int64_t>(type)) : std::nullopt;
  if (!record) return errorf(Errc::corrupt, "metadata record: unknown record type {}", type);
  if (version > 0x7fff)
    return errorf(Errc::corrupt, "{}: version {} too large", record_name(*record), version);
  Status st = std::visit(
      [&](auto& out) {
        using T = std::decay_t<decltype(out)>;
        Result<T> body = decode_body<T>(r, static_cast<int16_t>(version));
        if (!body.ok()) return body.status();
        out = std::move(*body);
        return Status::Ok();
      },
      *record);
  if (!st.ok()) {
    // An unknown version is damage here, not a caller's mistake.
    return st.code() == Errc::out_of_range ? Status(Errc::corrupt, st.message()) : st;
  }
  return DecodedRecord{std::move(*record), static_cast<int16_t>(version)};
}

Result<Bytes> encode_records(std::span<const MetadataRecord> records) {
  Bytes out;
  Writer w(out);
  for (size_t i = 0; i < records.size(); ++i) {
    Result<Bytes> framed = encode_record(records[i]);
    if (!framed.ok())
      return Status(framed.code(), fmt::format("record {}: {}", i, framed.status().message()));
    w.uvarint(framed->size());
    w.bytes(*framed);
  }
  return out;
}

Result<std::vector<MetadataRecord>> decode_records(ByteView bytes) {
  Reader r(bytes);
  std::vector<MetadataRecord> records;
  while (!r.at_end()) {
    if (records.size() >= kRecordsPerSequenceMax)
      return errorf(Errc::corrupt, "more than {} records", kRecordsPerSequenceMax);
    uint64_t size = r.uvarint();
    if (!r.ok()) return errorf(Errc::corrupt, "record {}: truncated length", records.size());
    if (size > r.remaining())
      return errorf(Errc::corrupt, "record {}: length {} > {} remaining", records.size(), size,
                    r.remaining());
    Result<DecodedRecord> decoded = decode_record(r.bytes(static_cast<size_t>(size)));
    if (!decoded.ok())
      return Status(Errc::corrupt,
                    fmt::format("record {}: {}", records.size(), decoded.status().message()));
    records.push_back(std::move(decoded->record));
  }
  return records;
}

}  // namespace gregor::metadata
