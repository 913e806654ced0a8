#include "node/kafka/api.h"

#include <algorithm>
#include <limits>

namespace gregor::kafka {

const ApiInfo* find_api(ApiKey key) {
  auto it = std::lower_bound(kApis.begin(), kApis.end(), key,
                             [](const ApiInfo& api, ApiKey k) { return api.key < k; });
  return it != kApis.end() && it->key == key ? &*it : nullptr;
}

std::string api_name(ApiKey key) {
  const ApiInfo* api = find_api(key);
  return api ? std::string(api->name) : fmt::format("Unknown({})", static_cast<int16_t>(key));
}

bool is_supported(ApiKey key, int16_t version) {
  auto in = [version](const ApiInfo& api) {
    return version >= api.min_version && version <= api.max_version;
  };
  const ApiInfo* api = find_api(key);
  if (!api) return false;
  if (in(*api)) return true;
  return std::any_of(kInterBrokerVersions.begin(), kInterBrokerVersions.end(),
                     [&](const ApiInfo& extra) { return extra.key == key && in(extra); });
}

ApiVersionsResponse api_versions_response(ErrorCode error) {
  ApiVersionsResponse resp;
  resp.error_code = static_cast<int16_t>(error);
  for (const ApiInfo& api : kApis)
    resp.api_keys.push_back({.api_key = static_cast<int16_t>(api.key),
                             .min_version = api.min_version,
                             .max_version = api.max_version});
  return resp;
}

int16_t request_header_version(ApiKey key, int16_t version) {
  const ApiInfo* api = find_api(key);
  return api && version >= api->flexible_min ? 2 : 1;
}

int16_t response_header_version(ApiKey key, int16_t version) {
  // Clients read the ApiVersions response before they know what the broker speaks (KIP-511).
  if (key == ApiKey::ApiVersions) return 0;
  const ApiInfo* api = find_api(key);
  return api && version >= api->flexible_min ? 1 : 0;
}

Result<RequestHeader> decode_request_header(Reader& r) {
  RequestHeader h;
  h.api_key = static_cast<ApiKey>(r.be<int16_t>());
  h.api_version = r.be<int16_t>();
  h.correlation_id = r.be<int32_t>();
  if (!r.ok()) return error(Errc::corrupt, "RequestHeader: truncated");
  if (!find_api(h.api_key)) return h;
  Status st = wire::read_nullable_string(r, h.client_id);
  if (!st.ok()) return errorf(Errc::corrupt, "RequestHeader: client_id{}", st.message());
  if (request_header_version(h.api_key, h.api_version) >= 2) {
    st = wire::skip_tagged_fields(r);
    if (!st.ok()) return errorf(Errc::corrupt, "RequestHeader{}", st.message());
  }
  return h;
}

Status encode_request_header(const RequestHeader& h, Writer& w) {
  if (h.client_id && h.client_id->size() > kStringBytesMax)
    return errorf(Errc::invalid_argument, "RequestHeader: client_id of {} bytes > {}",
                  h.client_id->size(), kStringBytesMax);
  w.be<int16_t>(static_cast<int16_t>(h.api_key));
  w.be<int16_t>(h.api_version);
  w.be<int32_t>(h.correlation_id);
  wire::write_nullable_string(w, h.client_id);
  if (request_header_version(h.api_key, h.api_version) >= 2) wire::write_empty_tagged_fields(w);
  return Status::Ok();
}

void encode_response_header(int32_t correlation_id, int16_t header_version, Writer& w) {
  w.be<int32_t>(correlation_id);
  if (header_version >= 1) wire::write_empty_tagged_fields(w);
}

Result<ResponseHeader> decode_response_header(Reader& r, int16_t header_version) {
  ResponseHeader h;
  h.correlation_id = r.be<int32_t>();
  if (!r.ok()) return error(Errc::corrupt, "ResponseHeader: truncated");
  if (header_version >= 1) {
    Status st = wire::skip_tagged_fields(r);
    if (!st.ok()) return errorf(Errc::corrupt, "ResponseHeader{}", st.message());
  }
  return h;
}

namespace {
// Per topic and per partition: names, ids, offsets, errors, tagged fields; generous, since a
// too-small hint only costs one more doubling of the frame.
constexpr size_t kFrameHintFixedBytes = 256;
constexpr size_t kFrameHintTopicBytes = 512;
constexpr size_t kFrameHintPartitionBytes = 128;
}  // namespace

size_t frame_bytes_hint(const FetchResponse& resp) {
  size_t n = kFrameHintFixedBytes;
  for (const auto& topic : resp.responses) {
    n += kFrameHintTopicBytes;
    for (const auto& p : topic.partitions) {
      n += kFrameHintPartitionBytes + (p.records ? p.records->size() : 0);
      // Each aborted transaction: producer id and first offset, two int64s.
      if (p.aborted_transactions) n += p.aborted_transactions->size() * 2 * sizeof(int64_t);
    }
  }
  return n;
}

size_t frame_bytes_hint(const ProduceRequest& req) {
  size_t n = kFrameHintFixedBytes + (req.transactional_id ? req.transactional_id->size() : 0);
  for (const auto& topic : req.topic_data) {
    n += kFrameHintTopicBytes;
    for (const auto& p : topic.partition_data) {
      n += kFrameHintPartitionBytes + (p.records ? p.records->size() : 0);
    }
  }
  return n;
}

namespace detail {

Status finish_frame(Bytes& frame, size_t start) {
  size_t size = frame.size() - start - 4;
  if (size > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return errorf(Errc::limit_exceeded, "frame of {} bytes > int32 max", size);
  Writer(frame).patch_be<int32_t>(start, static_cast<int32_t>(size));
  return Status::Ok();
}

}  // namespace detail
}  // namespace gregor::kafka
