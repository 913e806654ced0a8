// The APIs Gregor's broker serves: the api table (name, served versions, first flexible
// version), request and response headers, whole frames, and type-level dispatch from an ApiKey
// to its message types. Include this header for the whole protocol layer.
//
// A broker's path for one frame (after the 4-byte size prefix is stripped):
//
//   Reader r(frame);
//   Result<RequestHeader> h = decode_request_header(r);        // corrupt -> close
//   if (!is_supported(h->api_key, h->api_version)) ...          // ApiVersions: v0 error answer
//   visit_api(h->api_key, [&](auto api) {
//     using Api = decltype(api);
//     Result<typename Api::Request> req = decode<typename Api::Request>(r, h->api_version);
//     typename Api::Response resp = handle(*req);
//     return encode_response_frame(Api::key, h->api_version, h->correlation_id, resp);
//   });
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "node/kafka/error_code.h"
#include "node/kafka/messages.h"
#include "node/kafka/messages_controller.h"
#include "node/kafka/messages_raft.h"

namespace gregor::kafka {

struct ApiInfo {
  ApiKey key;
  std::string_view name;  // Kafka's name: "Produce", "ApiVersions", ...
  int16_t min_version;    // the versions the broker serves (inclusive)
  int16_t max_version;
  int16_t flexible_min;  // Kafka's first flexible version (may be above max_version)
};

// Sorted by key. Served ranges are what common clients negotiate; all but ApiVersions v3 are
// non-flexible versions. Being listed here is what a broker may serve and advertise; KafkaApis's
// own list (node/broker) decides what it does serve.
inline constexpr std::array<ApiInfo, 19> kApis = {{
    {ApiKey::Produce, "Produce", 3, 7, ProduceRequest::flexible_min},
    {ApiKey::Fetch, "Fetch", 4, 11, FetchRequest::flexible_min},
    {ApiKey::ListOffsets, "ListOffsets", 0, 3, ListOffsetsRequest::flexible_min},
    {ApiKey::Metadata, "Metadata", 0, 6, MetadataRequest::flexible_min},
    {ApiKey::OffsetCommit, "OffsetCommit", 0, 7, OffsetCommitRequest::flexible_min},
    {ApiKey::OffsetFetch, "OffsetFetch", 1, 5, OffsetFetchRequest::flexible_min},
    {ApiKey::FindCoordinator, "FindCoordinator", 0, 2, FindCoordinatorRequest::flexible_min},
    {ApiKey::JoinGroup, "JoinGroup", 0, 5, JoinGroupRequest::flexible_min},
    {ApiKey::Heartbeat, "Heartbeat", 0, 3, HeartbeatRequest::flexible_min},
    {ApiKey::LeaveGroup, "LeaveGroup", 0, 3, LeaveGroupRequest::flexible_min},
    {ApiKey::SyncGroup, "SyncGroup", 0, 3, SyncGroupRequest::flexible_min},
    {ApiKey::DescribeGroups, "DescribeGroups", 0, 2, DescribeGroupsRequest::flexible_min},
    {ApiKey::ListGroups, "ListGroups", 0, 2, ListGroupsRequest::flexible_min},
    {ApiKey::ApiVersions, "ApiVersions", 0, 3, ApiVersionsRequest::flexible_min},
    {ApiKey::CreateTopics, "CreateTopics", 0, 4, CreateTopicsRequest::flexible_min},
    {ApiKey::DeleteTopics, "DeleteTopics", 0, 1, DeleteTopicsRequest::flexible_min},
    {ApiKey::InitProducerId, "InitProducerId", 0, 1, InitProducerIdRequest::flexible_min},
    {ReplicationApiKey::OffsetForLeaderEpoch, "OffsetForLeaderEpoch", 0, 3,
     OffsetForLeaderEpochRequest::flexible_min},
    {ApiKey::DescribeConfigs, "DescribeConfigs", 0, 1, DescribeConfigsRequest::flexible_min},
}};

// Versions a broker accepts from other brokers beyond kApis' range, never advertised (the
// ApiVersions answer lists kApis only). A replica fetch needs Fetch v15 (replica_state with the
// follower's broker epoch, KIP-903; diverging_epoch from v12), but a client offered v13+ would
// pick it and name topics by id, which needs Metadata v10+, which Gregor does not serve: so
// Fetch stays advertised at 4-11 and v12-15 are accepted only because a broker asked for them.
// Each entry is an api of kApis, with versions its messages describe. Sorted by key.
inline constexpr std::array<ApiInfo, 1> kInterBrokerVersions = {{
    {ApiKey::Fetch, "Fetch", 12, 15, FetchRequest::flexible_min},
}};

// The versions a broker's replica fetcher sends (to a broker accepting kInterBrokerVersions).
inline constexpr int16_t kReplicaFetchVersion = 15;
// The OffsetForLeaderEpoch version a follower sends to find where to truncate its log: the
// newest non-flexible one, served in kApis' range (v3 has replica_id, v2 current_leader_epoch).
inline constexpr int16_t kReplicaOffsetForLeaderEpochVersion = 3;

// The controller-listener APIs: the KRaft quorum's (messages_raft.h) and those brokers call on
// the controller (messages_controller.h), served by a controller listener only. They live in
// this separate table, never in kApis, because everything built on kApis serves or advertises:
// find_api / is_supported (the broker's request path), api_versions_response(), the broker's
// ApiVersions answer (KafkaApis filters kApis by its kServed list), client version negotiation
// (client/connection.cc), visit_api and the fuzz seed corpus. Nothing of the broker or the client
// reads this table, so a broker does not advertise these APIs and answers them as unknown.
// Their request and response headers need the controller_* frame functions below: the generic
// header functions see their keys as unknown (header v1) and refuse them at compile time.
// Sorted by key (ControllerApiKey constants); the served range is every version the messages
// describe. Code iterates the table and dispatches with visit_controller_api: a new entry needs
// its ApiTraits and a line there (detail::controller_versions_known checks both).
inline constexpr std::array<ApiInfo, 10> kControllerApis = {{
    {ControllerApiKey::Vote, "Vote", 0, 0, VoteRequest::flexible_min},
    {ControllerApiKey::BeginQuorumEpoch, "BeginQuorumEpoch", 0, 0,
     BeginQuorumEpochRequest::flexible_min},
    {ControllerApiKey::EndQuorumEpoch, "EndQuorumEpoch", 0, 0, EndQuorumEpochRequest::flexible_min},
    {ControllerApiKey::DescribeQuorum, "DescribeQuorum", 0, 1, DescribeQuorumRequest::flexible_min},
    {ControllerApiKey::AlterPartition, "AlterPartition", 0, 3, AlterPartitionRequest::flexible_min},
    {ControllerApiKey::FetchSnapshot, "FetchSnapshot", 0, 0, FetchSnapshotRequest::flexible_min},
    {ControllerApiKey::BrokerRegistration, "BrokerRegistration", 0, 3,
     BrokerRegistrationRequest::flexible_min},
    {ControllerApiKey::BrokerHeartbeat, "BrokerHeartbeat", 0, 1,
     BrokerHeartbeatRequest::flexible_min},
    {ControllerApiKey::UnregisterBroker, "UnregisterBroker", 0, 0,
     UnregisterBrokerRequest::flexible_min},
    {ControllerApiKey::AllocateProducerIds, "AllocateProducerIds", 0, 0,
     AllocateProducerIdsRequest::flexible_min},
}};

// The kControllerApis entry of a key, or nullptr.
constexpr const ApiInfo* find_controller_api(ApiKey key) {
  for (const ApiInfo& api : kControllerApis)
    if (api.key == key) return &api;
  return nullptr;
}
// For static_asserts: GCC's UBSan instrumentation makes a pointer comparison with nullptr
// non-constant, so compile-time checks compare keys instead.
constexpr bool is_controller_api(ApiKey key) {
  for (const ApiInfo& api : kControllerApis)
    if (api.key == key) return true;
  return false;
}

// The table entry of a key, or nullptr for a key Gregor's broker does not know (kApis only).
const ApiInfo* find_api(ApiKey key);
// Kafka's name of the api, or "Unknown(<n>)".
std::string api_name(ApiKey key);
// Whether the broker accepts `version` of `key`: in its kApis range or its kInterBrokerVersions
// range. (Advertised ranges are kApis' alone: see api_versions_response().)
bool is_supported(ApiKey key, int16_t version);

// The body of an ApiVersions response listing kApis. The broker answers an unsupported
// ApiVersions version with this and error_code = unsupported_version, encoded as v0.
ApiVersionsResponse api_versions_response(ErrorCode error = ErrorCode::none);

// --- Headers ---------------------------------------------------------------------------------

struct RequestHeader {
  ApiKey api_key = ApiKey::ApiVersions;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;  // a non-compact nullable string in every version
  bool operator==(const RequestHeader&) const = default;
};

struct ResponseHeader {
  int32_t correlation_id = 0;
  bool operator==(const ResponseHeader&) const = default;
};

// Request header v1 (key, version, correlation id, client id) before the api's first flexible
// version, v2 (v1 + tagged fields) from it. An unknown key yields 1.
int16_t request_header_version(ApiKey key, int16_t version);
// Response header v0 (correlation id) before the first flexible version, v1 (+ tagged fields)
// from it; ApiVersions responses always use v0.
int16_t response_header_version(ApiKey key, int16_t version);

// Reads key and version first, then the rest of the header in the version they imply; unknown
// tagged fields are skipped. For a key outside kApis the header version cannot be known: the
// result carries key, version and correlation id with client_id unset, and r stops after the
// correlation id (the body cannot be decoded anyway). Errc::corrupt on a short or malformed
// header.
Result<RequestHeader> decode_request_header(Reader& r);
// Writes the header in request_header_version(api_key, api_version). Errc::invalid_argument for a
// client id over 32767 bytes.
Status encode_request_header(const RequestHeader& header, Writer& w);

// header_version is 0 or 1 (response_header_version()).
void encode_response_header(int32_t correlation_id, int16_t header_version, Writer& w);
Result<ResponseHeader> decode_response_header(Reader& r, int16_t header_version);

// --- Frames: int32 size, header, body ---------------------------------------------------------

namespace detail {
// Writes the size prefix of a frame that starts at `start`; Errc::limit_exceeded past int32.
Status finish_frame(Bytes& frame, size_t start);
}  // namespace detail

// Bytes to reserve for a message's frame before encoding it. Fetch answers and Produce requests
// carry record sets of up to megabytes: their frame is allocated once at about its final size,
// instead of doubling through every size below it (a copy and fresh pages at each step). 0, no
// reservation, for every other message.
template <Message M>
size_t frame_bytes_hint(const M&) {
  return 0;
}
size_t frame_bytes_hint(const FetchResponse& resp);
size_t frame_bytes_hint(const ProduceRequest& req);

// A whole response frame. Errc::invalid_argument when Resp is not `api`'s response; otherwise
// the errors of encode().
template <Message Resp>
Result<Bytes> encode_response_frame(ApiKey api, int16_t version, int32_t correlation_id,
                                    const Resp& resp) {
  static_assert(!is_controller_api(Resp::api_key),
                "controller APIs: use encode_controller_response_frame");
  if (api != Resp::api_key)
    return errorf(Errc::invalid_argument, "{} is not a response of {}", Resp::message_name,
                  api_name(api));
  Bytes frame;
  frame.reserve(frame_bytes_hint(resp));
  Writer w(frame);
  w.be<int32_t>(0);
  encode_response_header(correlation_id, response_header_version(api, version), w);
  GREGOR_RETURN_IF_ERROR(encode(resp, version, w));
  GREGOR_RETURN_IF_ERROR(detail::finish_frame(frame, 0));
  return frame;
}

// A whole request frame (for clients). Errc::invalid_argument when Req is not the header's api's
// request; otherwise the errors of encode_request_header() and encode().
template <Message Req>
Result<Bytes> encode_request_frame(const RequestHeader& header, const Req& req) {
  static_assert(!is_controller_api(Req::api_key),
                "controller APIs: use encode_controller_request_frame");
  if (header.api_key != Req::api_key)
    return errorf(Errc::invalid_argument, "{} is not a request of {}", Req::message_name,
                  api_name(header.api_key));
  Bytes frame;
  frame.reserve(frame_bytes_hint(req));
  Writer w(frame);
  w.be<int32_t>(0);
  GREGOR_RETURN_IF_ERROR(encode_request_header(header, w));
  GREGOR_RETURN_IF_ERROR(encode(req, header.api_version, w));
  GREGOR_RETURN_IF_ERROR(detail::finish_frame(frame, 0));
  return frame;
}

// --- Controller frames (kControllerApis) -------------------------------------------------------

// Header versions of a controller api: v2 requests / v1 responses from its first flexible
// version (all are flexible from v0 but Begin/EndQuorumEpoch, whose v0 is not), like the
// broker's.
constexpr int16_t controller_request_header_version(ApiKey key, int16_t version) {
  const ApiInfo* api = find_controller_api(key);
  return api && version >= api->flexible_min ? 2 : 1;
}
constexpr int16_t controller_response_header_version(ApiKey key, int16_t version) {
  const ApiInfo* api = find_controller_api(key);
  return api && version >= api->flexible_min ? 1 : 0;
}

// A request header of a controller api. Errc::corrupt on a short or malformed header,
// Errc::invalid_argument for a key outside kControllerApis.
inline Result<RequestHeader> decode_controller_request_header(Reader& r) {
  RequestHeader h;
  h.api_key = static_cast<ApiKey>(r.be<int16_t>());
  h.api_version = r.be<int16_t>();
  h.correlation_id = r.be<int32_t>();
  if (!r.ok()) return error(Errc::corrupt, "RequestHeader: truncated");
  if (!find_controller_api(h.api_key))
    return errorf(Errc::invalid_argument, "RequestHeader: api {} is not a controller api",
                  static_cast<int16_t>(h.api_key));
  Status st = wire::read_nullable_string(r, h.client_id);
  if (!st.ok()) return errorf(Errc::corrupt, "RequestHeader: client_id{}", st.message());
  if (controller_request_header_version(h.api_key, h.api_version) >= 2) {
    st = wire::skip_tagged_fields(r);
    if (!st.ok()) return errorf(Errc::corrupt, "RequestHeader{}", st.message());
  }
  return h;
}

// A whole request frame of a controller api; the errors of encode_request_frame().
template <Message Req>
Result<Bytes> encode_controller_request_frame(const RequestHeader& header, const Req& req) {
  static_assert(is_controller_api(Req::api_key), "not a controller api");
  if (header.api_key != Req::api_key)
    return errorf(Errc::invalid_argument, "{} is not a request of api {}", Req::message_name,
                  static_cast<int16_t>(header.api_key));
  if (header.client_id && header.client_id->size() > kStringBytesMax)
    return errorf(Errc::invalid_argument, "RequestHeader: client_id of {} bytes > {}",
                  header.client_id->size(), kStringBytesMax);
  Bytes frame;
  Writer w(frame);
  w.be<int32_t>(0);
  w.be<int16_t>(static_cast<int16_t>(header.api_key));
  w.be<int16_t>(header.api_version);
  w.be<int32_t>(header.correlation_id);
  wire::write_nullable_string(w, header.client_id);
  if (controller_request_header_version(header.api_key, header.api_version) >= 2)
    wire::write_empty_tagged_fields(w);
  GREGOR_RETURN_IF_ERROR(encode(req, header.api_version, w));
  GREGOR_RETURN_IF_ERROR(detail::finish_frame(frame, 0));
  return frame;
}

// A whole response frame of a controller api; the errors of encode().
template <Message Resp>
Result<Bytes> encode_controller_response_frame(int16_t version, int32_t correlation_id,
                                               const Resp& resp) {
  static_assert(is_controller_api(Resp::api_key), "not a controller api");
  Bytes frame;
  Writer w(frame);
  w.be<int32_t>(0);
  encode_response_header(correlation_id, controller_response_header_version(Resp::api_key, version),
                         w);
  GREGOR_RETURN_IF_ERROR(encode(resp, version, w));
  GREGOR_RETURN_IF_ERROR(detail::finish_frame(frame, 0));
  return frame;
}

// --- Type-level dispatch ------------------------------------------------------------------------

// ApiTraits<K>: the message types of api K.
template <ApiKey K>
struct ApiTraits;

#define GREGOR_KAFKA_API_TRAITS(K, Req, Resp)                   \
  template <>                                                   \
  struct ApiTraits<ApiKey::K> {                                 \
    static constexpr ApiKey key = ApiKey::K;                    \
    using Request = Req;                                        \
    using Response = Resp;                                      \
    static_assert(Req::api_key == key && Resp::api_key == key); \
    static_assert(Req::flexible_min == Resp::flexible_min);     \
  }
GREGOR_KAFKA_API_TRAITS(Produce, ProduceRequest, ProduceResponse);
GREGOR_KAFKA_API_TRAITS(Fetch, FetchRequest, FetchResponse);
GREGOR_KAFKA_API_TRAITS(ListOffsets, ListOffsetsRequest, ListOffsetsResponse);
GREGOR_KAFKA_API_TRAITS(Metadata, MetadataRequest, MetadataResponse);
GREGOR_KAFKA_API_TRAITS(OffsetCommit, OffsetCommitRequest, OffsetCommitResponse);
GREGOR_KAFKA_API_TRAITS(OffsetFetch, OffsetFetchRequest, OffsetFetchResponse);
GREGOR_KAFKA_API_TRAITS(FindCoordinator, FindCoordinatorRequest, FindCoordinatorResponse);
GREGOR_KAFKA_API_TRAITS(JoinGroup, JoinGroupRequest, JoinGroupResponse);
GREGOR_KAFKA_API_TRAITS(Heartbeat, HeartbeatRequest, HeartbeatResponse);
GREGOR_KAFKA_API_TRAITS(LeaveGroup, LeaveGroupRequest, LeaveGroupResponse);
GREGOR_KAFKA_API_TRAITS(SyncGroup, SyncGroupRequest, SyncGroupResponse);
GREGOR_KAFKA_API_TRAITS(DescribeGroups, DescribeGroupsRequest, DescribeGroupsResponse);
GREGOR_KAFKA_API_TRAITS(ListGroups, ListGroupsRequest, ListGroupsResponse);
GREGOR_KAFKA_API_TRAITS(ApiVersions, ApiVersionsRequest, ApiVersionsResponse);
GREGOR_KAFKA_API_TRAITS(CreateTopics, CreateTopicsRequest, CreateTopicsResponse);
GREGOR_KAFKA_API_TRAITS(DeleteTopics, DeleteTopicsRequest, DeleteTopicsResponse);
GREGOR_KAFKA_API_TRAITS(InitProducerId, InitProducerIdRequest, InitProducerIdResponse);
GREGOR_KAFKA_API_TRAITS(DescribeConfigs, DescribeConfigsRequest, DescribeConfigsResponse);

// OffsetForLeaderEpoch's key is a ReplicationApiKey constant, not an ApiKey enumerator.
template <>
struct ApiTraits<ReplicationApiKey::OffsetForLeaderEpoch> {
  static constexpr ApiKey key = ReplicationApiKey::OffsetForLeaderEpoch;
  using Request = OffsetForLeaderEpochRequest;
  using Response = OffsetForLeaderEpochResponse;
  static_assert(Request::api_key == key && Response::api_key == key);
  static_assert(Request::flexible_min == Response::flexible_min);
};

// The controller apis (their keys are ControllerApiKey constants, not ApiKey enumerators).
#define GREGOR_KAFKA_CONTROLLER_API_TRAITS(K, Req, Resp)        \
  template <>                                                   \
  struct ApiTraits<ControllerApiKey::K> {                       \
    static constexpr ApiKey key = ControllerApiKey::K;          \
    using Request = Req;                                        \
    using Response = Resp;                                      \
    static_assert(Req::api_key == key && Resp::api_key == key); \
    static_assert(Req::flexible_min == Resp::flexible_min);     \
  }
GREGOR_KAFKA_CONTROLLER_API_TRAITS(Vote, VoteRequest, VoteResponse);
GREGOR_KAFKA_CONTROLLER_API_TRAITS(BeginQuorumEpoch, BeginQuorumEpochRequest,
                                   BeginQuorumEpochResponse);
GREGOR_KAFKA_CONTROLLER_API_TRAITS(EndQuorumEpoch, EndQuorumEpochRequest, EndQuorumEpochResponse);
GREGOR_KAFKA_CONTROLLER_API_TRAITS(DescribeQuorum, DescribeQuorumRequest, DescribeQuorumResponse);
GREGOR_KAFKA_CONTROLLER_API_TRAITS(FetchSnapshot, FetchSnapshotRequest, FetchSnapshotResponse);
GREGOR_KAFKA_CONTROLLER_API_TRAITS(AlterPartition, AlterPartitionRequest, AlterPartitionResponse);
GREGOR_KAFKA_CONTROLLER_API_TRAITS(BrokerRegistration, BrokerRegistrationRequest,
                                   BrokerRegistrationResponse);
GREGOR_KAFKA_CONTROLLER_API_TRAITS(BrokerHeartbeat, BrokerHeartbeatRequest,
                                   BrokerHeartbeatResponse);
GREGOR_KAFKA_CONTROLLER_API_TRAITS(UnregisterBroker, UnregisterBrokerRequest,
                                   UnregisterBrokerResponse);
GREGOR_KAFKA_CONTROLLER_API_TRAITS(AllocateProducerIds, AllocateProducerIdsRequest,
                                   AllocateProducerIdsResponse);
#undef GREGOR_KAFKA_CONTROLLER_API_TRAITS
#undef GREGOR_KAFKA_API_TRAITS

// Calls f(ApiTraits<key>{}) and returns its result; every instantiation must return the same
// type. `key` must be in kApis (check find_api or is_supported first): an unknown key is a caller
// bug and asserts.
template <typename F>
constexpr decltype(auto) visit_api(ApiKey key, F&& f) {
  // Keys that are constants, not enumerators: before the switch, where -Wswitch refuses them.
  if (key == ReplicationApiKey::OffsetForLeaderEpoch)
    return f(ApiTraits<ReplicationApiKey::OffsetForLeaderEpoch>{});
  switch (key) {
#define GREGOR_KAFKA_VISIT(K) \
  case ApiKey::K:             \
    return f(ApiTraits<ApiKey::K>{})
    GREGOR_KAFKA_VISIT(Produce);
    GREGOR_KAFKA_VISIT(Fetch);
    GREGOR_KAFKA_VISIT(ListOffsets);
    GREGOR_KAFKA_VISIT(Metadata);
    GREGOR_KAFKA_VISIT(OffsetCommit);
    GREGOR_KAFKA_VISIT(OffsetFetch);
    GREGOR_KAFKA_VISIT(FindCoordinator);
    GREGOR_KAFKA_VISIT(JoinGroup);
    GREGOR_KAFKA_VISIT(Heartbeat);
    GREGOR_KAFKA_VISIT(LeaveGroup);
    GREGOR_KAFKA_VISIT(SyncGroup);
    GREGOR_KAFKA_VISIT(DescribeGroups);
    GREGOR_KAFKA_VISIT(ListGroups);
    GREGOR_KAFKA_VISIT(ApiVersions);
    GREGOR_KAFKA_VISIT(CreateTopics);
    GREGOR_KAFKA_VISIT(DeleteTopics);
    GREGOR_KAFKA_VISIT(InitProducerId);
    GREGOR_KAFKA_VISIT(DescribeConfigs);
#undef GREGOR_KAFKA_VISIT
  }
  GREGOR_UNREACHABLE("visit_api: unknown api key {}", static_cast<int16_t>(key));
}

// visit_api for kControllerApis: calls f(ApiTraits<key>{}). `key` must be in kControllerApis
// (check find_controller_api first): an unknown key is a caller bug and asserts. (An if chain:
// a switch on ApiKey with values outside the enum would not compile under -Wswitch.)
template <typename F>
constexpr decltype(auto) visit_controller_api(ApiKey key, F&& f) {
#define GREGOR_KAFKA_VISIT(K) \
  if (key == ControllerApiKey::K) return f(ApiTraits<ControllerApiKey::K>{})
  GREGOR_KAFKA_VISIT(Vote);
  GREGOR_KAFKA_VISIT(BeginQuorumEpoch);
  GREGOR_KAFKA_VISIT(EndQuorumEpoch);
  GREGOR_KAFKA_VISIT(DescribeQuorum);
  GREGOR_KAFKA_VISIT(AlterPartition);
  GREGOR_KAFKA_VISIT(FetchSnapshot);
  GREGOR_KAFKA_VISIT(BrokerRegistration);
  GREGOR_KAFKA_VISIT(BrokerHeartbeat);
  GREGOR_KAFKA_VISIT(UnregisterBroker);
  GREGOR_KAFKA_VISIT(AllocateProducerIds);
#undef GREGOR_KAFKA_VISIT
  GREGOR_UNREACHABLE("visit_controller_api: unknown api key {}", static_cast<int16_t>(key));
}

namespace detail {
// The controller apis are sorted, disjoint from the broker's, and their served ranges are known
// (visiting every entry also proves visit_controller_api knows it: an unknown key would reach
// GREGOR_UNREACHABLE, which is not a constant expression).
consteval bool controller_versions_known() {
  for (size_t i = 1; i < kControllerApis.size(); ++i)
    if (!(kControllerApis[i - 1].key < kControllerApis[i].key)) return false;
  for (const ApiInfo& api : kControllerApis) {
    for (const ApiInfo& broker_api : kApis)
      if (broker_api.key == api.key) return false;
    bool ok = visit_controller_api(api.key, [&](auto traits) {
      using T = decltype(traits);
      return api.min_version >= 0 && api.max_version <= T::Request::max_version &&
             api.max_version <= T::Response::max_version &&
             api.flexible_min == T::Response::flexible_min;
    });
    if (!ok) return false;
  }
  return true;
}
static_assert(controller_versions_known());

// The served range of every api lies within the versions its messages describe.
consteval bool served_versions_known() {
  for (size_t i = 1; i < kApis.size(); ++i)
    if (!(kApis[i - 1].key < kApis[i].key)) return false;
  for (const ApiInfo& api : kApis) {
    bool ok = visit_api(api.key, [&](auto traits) {
      using T = decltype(traits);
      return api.min_version >= 0 && api.max_version <= T::Request::max_version &&
             api.max_version <= T::Response::max_version &&
             api.flexible_min == T::Response::flexible_min;
    });
    if (!ok) return false;
  }
  return true;
}
static_assert(served_versions_known());

// Every inter-broker range belongs to an api of kApis (same name and flexible_min), lies within
// the versions its messages describe, and the replica versions are accepted.
consteval bool inter_broker_versions_known() {
  for (const ApiInfo& extra : kInterBrokerVersions) {
    bool listed = false;
    for (const ApiInfo& api : kApis)
      listed = listed || (api.key == extra.key && api.name == extra.name &&
                          api.flexible_min == extra.flexible_min);
    if (!listed) return false;
    bool ok = visit_api(extra.key, [&](auto traits) {
      using T = decltype(traits);
      return extra.min_version >= 0 && extra.min_version <= extra.max_version &&
             extra.max_version <= T::Request::max_version &&
             extra.max_version <= T::Response::max_version;
    });
    if (!ok) return false;
  }
  auto accepted = [](const auto& table, ApiKey key, int16_t version) {
    for (const ApiInfo& api : table)
      if (api.key == key && version >= api.min_version && version <= api.max_version) return true;
    return false;
  };
  return (accepted(kApis, ApiKey::Fetch, kReplicaFetchVersion) ||
          accepted(kInterBrokerVersions, ApiKey::Fetch, kReplicaFetchVersion)) &&
         accepted(kApis, ReplicationApiKey::OffsetForLeaderEpoch,
                  kReplicaOffsetForLeaderEpochVersion);
}
static_assert(inter_broker_versions_known());
}  // namespace detail

}  // namespace gregor::kafka
