// Proves the real Kafka message tables and the api layer:
// - every request and response struct round-trips at every version it knows (0..max_version,
//   which covers every served version): random values restricted to the fields of the version
//   (RapidCheck), encode, decode, equal; every strict prefix of an encoding and every encoding
//   with a byte appended is refused with Errc::corrupt; damaged encodings never crash;
// - the api table: served ranges, the inter-broker ranges (accepted, never advertised), header
//   versions, ApiVersions' v0 error answer, is_supported, visit_api dispatch, headers of unknown
//   apis, frames.
// Golden bytes written by hand from the protocol spec are in messages_golden_test.cc.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "node/kafka/api.h"
#include "node/kafka/messages_testing.h"

namespace gregor::kafka {
namespace {

template <typename T>
class MessageCodec : public ::testing::Test {};

using AllMessages = ::testing::Types<
    ProduceRequest, ProduceResponse, FetchRequest, FetchResponse, ListOffsetsRequest,
    ListOffsetsResponse, MetadataRequest, MetadataResponse, OffsetCommitRequest,
    OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse, FindCoordinatorRequest,
    FindCoordinatorResponse, JoinGroupRequest, JoinGroupResponse, HeartbeatRequest,
    HeartbeatResponse, LeaveGroupRequest, LeaveGroupResponse, SyncGroupRequest, SyncGroupResponse,
    DescribeGroupsRequest, DescribeGroupsResponse, ListGroupsRequest, ListGroupsResponse,
    ApiVersionsRequest, ApiVersionsResponse, CreateTopicsRequest, CreateTopicsResponse,
    DeleteTopicsRequest, DeleteTopicsResponse, InitProducerIdRequest, InitProducerIdResponse,
    DescribeConfigsRequest, DescribeConfigsResponse, OffsetForLeaderEpochRequest,
    OffsetForLeaderEpochResponse,
    // The controller listener's: KRaft quorum (messages_raft.h), broker-to-controller
    // (messages_controller.h).
    VoteRequest, VoteResponse, BeginQuorumEpochRequest, BeginQuorumEpochResponse,
    EndQuorumEpochRequest, EndQuorumEpochResponse, DescribeQuorumRequest, DescribeQuorumResponse,
    FetchSnapshotRequest, FetchSnapshotResponse, AlterPartitionRequest, AlterPartitionResponse,
    BrokerRegistrationRequest, BrokerRegistrationResponse, BrokerHeartbeatRequest,
    BrokerHeartbeatResponse, UnregisterBrokerRequest, UnregisterBrokerResponse,
    AllocateProducerIdsRequest, AllocateProducerIdsResponse>;

using testing::check_every_version;
TYPED_TEST_SUITE(MessageCodec, AllMessages, testing::MessageName);

TYPED_TEST(MessageCodec, RoundTripsAtEveryVersion) {
  using T = TypeParam;
  check_every_version<T>("round trip", [](int16_t v) {
    T msg = testing::random_message<T>(v);
    Result<Bytes> bytes = encode_to_bytes(msg, v);
    RC_ASSERT(bytes.ok());
    Result<T> back = decode<T>(*bytes, v);
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == msg);
  });
}

TYPED_TEST(MessageCodec, TruncatedOrExtendedIsCorrupt) {
  using T = TypeParam;
  check_every_version<T>("truncation", [](int16_t v) {
    Bytes bytes = encode_to_bytes(testing::random_message<T>(v), v).value();
    for (size_t n = 0; n < bytes.size(); ++n)
      RC_ASSERT(decode<T>(ByteView(bytes).first(n), v).code() == Errc::corrupt);
    bytes.push_back(*rc::gen::arbitrary<uint8_t>());
    RC_ASSERT(decode<T>(bytes, v).code() == Errc::corrupt);
  });
}

TYPED_TEST(MessageCodec, DamagedNeverCrashes) {
  using T = TypeParam;
  check_every_version<T>("damage", [](int16_t v) {
    Bytes bytes = encode_to_bytes(testing::random_message<T>(v), v).value();
    if (bytes.empty()) return;
    const auto flips = *rc::gen::container<std::vector<std::pair<size_t, uint8_t>>>(
        rc::gen::pair(rc::gen::inRange<size_t>(0, bytes.size()), rc::gen::arbitrary<uint8_t>()));
    for (auto [at, value] : flips) bytes[at] = value;
    Result<T> r = decode<T>(bytes, v);
    RC_ASSERT(r.ok() || r.code() == Errc::corrupt);
  });
}

TYPED_TEST(MessageCodec, UnknownVersionsAreRefused) {
  using T = TypeParam;
  EXPECT_EQ(encode_to_bytes(T{}, T::max_version + 1).code(), Errc::out_of_range);
  EXPECT_EQ(encode_to_bytes(T{}, -1).code(), Errc::out_of_range);
  EXPECT_EQ(decode<T>(Bytes{}, T::max_version + 1).code(), Errc::out_of_range);
}

TEST(Api, TableIsSortedAndServesWhatClientsNegotiate) {
  for (size_t i = 1; i < kApis.size(); ++i) EXPECT_LT(kApis[i - 1].key, kApis[i].key);
  EXPECT_TRUE(is_supported(ApiKey::Produce, 3));
  EXPECT_TRUE(is_supported(ApiKey::Produce, 7));
  EXPECT_FALSE(is_supported(ApiKey::Produce, 2));
  EXPECT_FALSE(is_supported(ApiKey::Produce, 8));
  EXPECT_TRUE(is_supported(ApiKey::Fetch, 4));
  EXPECT_TRUE(is_supported(ApiKey::Fetch, 11));
  EXPECT_FALSE(is_supported(ApiKey::Fetch, 3));
  EXPECT_TRUE(is_supported(ReplicationApiKey::OffsetForLeaderEpoch, 0));
  EXPECT_TRUE(is_supported(ReplicationApiKey::OffsetForLeaderEpoch, 3));
  EXPECT_FALSE(is_supported(ReplicationApiKey::OffsetForLeaderEpoch, 4));  // flexible: not served
  EXPECT_TRUE(is_supported(ApiKey::ListOffsets, 0));
  EXPECT_FALSE(is_supported(ApiKey::OffsetFetch, 0));
  EXPECT_TRUE(is_supported(ApiKey::ApiVersions, 3));
  EXPECT_FALSE(is_supported(ApiKey::ApiVersions, 4));
  EXPECT_FALSE(is_supported(static_cast<ApiKey>(17), 0));  // SaslHandshake: not served
  EXPECT_EQ(api_name(ApiKey::DescribeConfigs), "DescribeConfigs");
  EXPECT_EQ(api_name(ReplicationApiKey::OffsetForLeaderEpoch), "OffsetForLeaderEpoch");
  EXPECT_EQ(api_name(static_cast<ApiKey>(999)), "Unknown(999)");
  EXPECT_EQ(find_api(ApiKey::Fetch)->flexible_min, 12);
  EXPECT_EQ(find_api(ApiKey::CreateTopics)->flexible_min, 5);
  EXPECT_EQ(find_api(ApiKey::Metadata)->flexible_min, 9);
}

TEST(Api, InterBrokerFetchVersionsAreAcceptedButNotAdvertised) {
  // A follower's replica fetch (v12-15) is accepted; a client never hears of it.
  for (int16_t v = 4; v <= kReplicaFetchVersion; ++v) EXPECT_TRUE(is_supported(ApiKey::Fetch, v));
  EXPECT_EQ(kReplicaFetchVersion, 15);
  EXPECT_FALSE(is_supported(ApiKey::Fetch, 16));
  EXPECT_FALSE(is_supported(ApiKey::Fetch, -1));
  EXPECT_TRUE(
      is_supported(ReplicationApiKey::OffsetForLeaderEpoch, kReplicaOffsetForLeaderEpochVersion));
  // The extra ranges do not leak into other apis.
  EXPECT_FALSE(is_supported(ApiKey::Produce, 12));
  EXPECT_FALSE(is_supported(static_cast<ApiKey>(17), 12));
  EXPECT_EQ(find_api(ApiKey::Fetch)->max_version, 11);
  bool listed = false;
  for (const auto& entry : api_versions_response().api_keys) {
    if (entry.api_key != static_cast<int16_t>(ApiKey::Fetch)) continue;
    listed = true;
    EXPECT_EQ(entry.min_version, 4);
    EXPECT_EQ(entry.max_version, 11);
  }
  EXPECT_TRUE(listed);
  // v12+ frames use the flexible headers.
  EXPECT_EQ(request_header_version(ApiKey::Fetch, kReplicaFetchVersion), 2);
  EXPECT_EQ(response_header_version(ApiKey::Fetch, kReplicaFetchVersion), 1);
  EXPECT_EQ(request_header_version(ApiKey::Fetch, 11), 1);
}

TEST(Api, HeaderVersions) {
  EXPECT_EQ(request_header_version(ApiKey::Produce, 7), 1);
  EXPECT_EQ(request_header_version(ApiKey::Produce, 9), 2);
  EXPECT_EQ(request_header_version(ApiKey::ApiVersions, 2), 1);
  EXPECT_EQ(request_header_version(ApiKey::ApiVersions, 3), 2);
  EXPECT_EQ(request_header_version(ApiKey::ApiVersions, 4), 2);  // newer than we know
  EXPECT_EQ(request_header_version(static_cast<ApiKey>(99), 5), 1);
  EXPECT_EQ(response_header_version(ApiKey::Metadata, 6), 0);
  EXPECT_EQ(response_header_version(ApiKey::Metadata, 9), 1);
  EXPECT_EQ(response_header_version(ApiKey::ApiVersions, 3), 0);  // always v0
}

TEST(Api, VisitApiDispatchesToTheMessageTypes) {
  for (const ApiInfo& api : kApis) {
    std::string_view request =
        visit_api(api.key, [](auto traits) { return decltype(traits)::Request::message_name; });
    EXPECT_EQ(request, std::string(api.name) + "Request");
    ApiKey key =
        visit_api(api.key, [](auto traits) { return decltype(traits)::Response::api_key; });
    EXPECT_EQ(key, api.key);
  }
}

TEST(Api, UnsupportedApiVersionsIsAnsweredInV0) {
  // A client sends ApiVersions v4 (flexible, header v2); the broker answers v0 with
  // UNSUPPORTED_VERSION and its ranges, under response header v0.
  Result<Bytes> frame = encode_response_frame(
      ApiKey::ApiVersions, 0, 42, api_versions_response(ErrorCode::unsupported_version));
  ASSERT_TRUE(frame.ok()) << frame.status();
  Reader r(*frame);
  EXPECT_EQ(r.be<int32_t>(), static_cast<int32_t>(frame->size() - 4));
  EXPECT_EQ(decode_response_header(r, 0).value().correlation_id, 42);
  // error_code 35, then an int32 count (v0 is not flexible) of 19 entries of 3 int16s.
  EXPECT_EQ(r.remaining(), 2 + 4 + 19 * 6u);
  ApiVersionsResponse resp = decode<ApiVersionsResponse>(r, 0).value();
  EXPECT_EQ(resp.error_code, 35);
  ASSERT_EQ(resp.api_keys.size(), kApis.size());
  EXPECT_EQ(resp.api_keys[0], (ApiVersionsResponse::ApiVersion{0, 3, 7}));
  EXPECT_EQ(resp.api_keys[13], (ApiVersionsResponse::ApiVersion{18, 0, 3}));
  EXPECT_EQ(resp.api_keys[17], (ApiVersionsResponse::ApiVersion{23, 0, 3}));
}

TEST(Api, UnknownApiStillYieldsAHeader) {
  // api 999, version 3, correlation id 77, then bytes we cannot interpret.
  Bytes bytes = {0x03, 0xe7, 0x00, 0x03, 0x00, 0x00, 0x00, 0x4d, 0xff, 0x01};
  Reader r(bytes);
  Result<RequestHeader> h = decode_request_header(r);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(static_cast<int16_t>(h->api_key), 999);
  EXPECT_EQ(h->api_version, 3);
  EXPECT_EQ(h->correlation_id, 77);
  EXPECT_FALSE(h->client_id.has_value());
  EXPECT_EQ(r.position(), 8u);
}

TEST(Api, MalformedHeadersAreCorrupt) {
  for (size_t n = 0; n < 8; ++n) {
    Bytes bytes(n, 0);
    Reader r(bytes);
    EXPECT_EQ(decode_request_header(r).code(), Errc::corrupt) << n;
  }
  // Metadata v1, client id length -2.
  Bytes bad = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xfe};
  Reader r(bad);
  Result<RequestHeader> h = decode_request_header(r);
  EXPECT_EQ(h.code(), Errc::corrupt);
  EXPECT_EQ(h.status().message(), "RequestHeader: client_id: negative string length -2");
  // ApiVersions v3 (header v2) without its tagged-field section.
  Bytes no_tags = {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff};
  Reader r2(no_tags);
  EXPECT_EQ(decode_request_header(r2).code(), Errc::corrupt);
  Bytes empty;
  Reader r3(empty);
  EXPECT_EQ(decode_response_header(r3, 0).code(), Errc::corrupt);
}

TEST(Api, FramesCheckTheirMessageType) {
  RequestHeader h{.api_key = ApiKey::Fetch, .api_version = 4, .correlation_id = 1};
  EXPECT_EQ(encode_request_frame(h, ProduceRequest{}).code(), Errc::invalid_argument);
  EXPECT_EQ(encode_response_frame(ApiKey::Fetch, 4, 1, ProduceResponse{}).code(),
            Errc::invalid_argument);
  EXPECT_EQ(encode_response_frame(ApiKey::Fetch, 16, 1, FetchResponse{}).code(),
            Errc::out_of_range);
}

RC_GTEST_PROP(Api, RequestFramesRoundTripThroughTheBrokerPath, ()) {
  const auto& api = *rc::gen::elementOf(kApis);
  const auto version = testing::uniform<int16_t>(api.min_version, api.max_version + 1);
  RequestHeader h{
      .api_key = api.key, .api_version = version, .correlation_id = *rc::gen::arbitrary<int32_t>()};
  if (*rc::gen::arbitrary<bool>()) h.client_id = *rc::gen::arbitrary<std::string>();
  visit_api(api.key, [&](auto traits) {
    using Req = typename decltype(traits)::Request;
    Req req = testing::random_message<Req>(version);
    Bytes frame = encode_request_frame(h, req).value();
    Reader r(frame);
    RC_ASSERT(r.be<int32_t>() == static_cast<int32_t>(frame.size() - 4));
    RC_ASSERT(decode_request_header(r).value() == h);
    RC_ASSERT(decode<Req>(r, version).value() == req);
    return 0;
  });
}

}  // namespace
}  // namespace gregor::kafka
