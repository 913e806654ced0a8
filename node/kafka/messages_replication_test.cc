// Proves the wire pieces of partition replication:
// - OffsetForLeaderEpoch (23): golden bytes written by hand from Kafka 3.7's JSON schemas (v3
//   request and response, their v0 forms without the later fields, the flexible v4 request, and
//   v3 request and response frames with their header versions): encode gives exactly the bytes,
//   decode gives the struct back, every strict prefix is refused as corrupt. (Every version's
//   round trip, truncation and damage are in messages_test.cc's typed suite.)
// - Fetch v15: the tagged replica_state (tag 1) is written after cluster_id (tag 0) and only when
//   set; replica_id leaves the wire; v14 and v15 are v13 again elsewhere (requests and
//   responses encode to the same bytes as v13 when replica_state is unset).
// - the inter-broker versions: a broker's Fetch v12-15 request frame passes the broker's path
//   (header, is_supported, body), and OffsetForLeaderEpoch dispatches through visit_api.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "node/kafka/api.h"
#include "node/kafka/messages_testing.h"

namespace gregor::kafka {
namespace {

using kafka::testing::hex;

template <typename T>
void expect_body(const T& msg, int16_t version, std::string_view h) {
  kafka::testing::expect_body_bytes(msg, version, hex(h));
}

OffsetForLeaderEpochRequest epoch_request() {
  OffsetForLeaderEpochRequest req;
  req.replica_id = 2;
  req.topics = {{.topic = "t",
                 .partitions = {{.partition = 0, .current_leader_epoch = 5, .leader_epoch = 4}}}};
  return req;
}

TEST(OffsetForLeaderEpoch, V3Request) {
  expect_body(epoch_request(), 3,
              "00000002"    // replica_id 2 (v3+)
              "00000001"    // topics: int32 count 1
              "0001 74"     //   topic "t"
              "00000001"    //   partitions: 1
              "00000000"    //     partition 0
              "00000005"    //     current_leader_epoch 5 (v2+)
              "00000004");  //    leader_epoch 4
  // v0 and v1: neither replica_id nor current_leader_epoch; a decoded v0 request keeps their
  // defaults (-2: not a broker, -1: unchecked).
  OffsetForLeaderEpochRequest v0 = epoch_request();
  v0.replica_id = kDebuggingReplicaId;
  v0.topics[0].partitions[0].current_leader_epoch = -1;
  expect_body(v0, 0, "00000001 0001 74 | 00000001 00000000 00000004");
  EXPECT_EQ(encode_to_bytes(epoch_request(), 1).value(), encode_to_bytes(v0, 1).value());
  // v2: current_leader_epoch, no replica_id.
  OffsetForLeaderEpochRequest v2 = epoch_request();
  v2.replica_id = kDebuggingReplicaId;
  expect_body(v2, 2, "00000001 0001 74 | 00000001 00000000 00000005 00000004");
}

TEST(OffsetForLeaderEpoch, V4RequestIsFlexible) {
  expect_body(epoch_request(), 4,
              "00000002"                          // replica_id 2
              "02 02 74"                          // topics: compact 1; topic: compact "t"
              "02 00000000 00000005 00000004 00"  // partitions: 1 {0, 5, 4, no tags}
              "00"                                // topic: no tags
              "00");                              // request: no tags
}

OffsetForLeaderEpochResponse epoch_response() {
  OffsetForLeaderEpochResponse resp;
  resp.throttle_time_ms = 3;
  resp.topics = {
      {.topic = "t",
       .partitions = {
           {.error_code = 0, .partition = 0, .leader_epoch = 4, .end_offset = 100},
           {.error_code = static_cast<int16_t>(ErrorCode::fenced_leader_epoch), .partition = 1}}}};
  return resp;
}

TEST(OffsetForLeaderEpoch, V3Response) {
  expect_body(epoch_response(), 3,
              "00000003"                                   // throttle_time_ms 3 (v2+)
              "00000001 0001 74"                           // topics: 1, "t"
              "00000002"                                   //   partitions: 2
              "0000 00000000 00000004 0000000000000064"    //     ok, 0, epoch 4, end offset 100
              "004a 00000001 ffffffff ffffffffffffffff");  //   FENCED_LEADER_EPOCH (74), 1, -1, -1
  // v0: no throttle_time_ms, no leader_epoch; decoded, they keep their defaults (0, -1).
  OffsetForLeaderEpochResponse v0 = epoch_response();
  v0.throttle_time_ms = 0;
  v0.topics[0].partitions[0].leader_epoch = -1;
  expect_body(v0, 0,
              "00000001 0001 74 | 00000002 | 0000 00000000 0000000000000064"
              " | 004a 00000001 ffffffffffffffff");
}

TEST(OffsetForLeaderEpoch, V3Frames) {
  // size 39 | header v1 (v3 is not flexible): key 23, version 3, correlation id 9, client_id
  // "b1" | the V3Request body
  RequestHeader header{.api_key = ReplicationApiKey::OffsetForLeaderEpoch,
                       .api_version = kReplicaOffsetForLeaderEpochVersion,
                       .correlation_id = 9,
                       .client_id = "b1"};
  Result<Bytes> frame = encode_request_frame(header, epoch_request());
  ASSERT_TRUE(frame.ok()) << frame.status();
  Bytes want =
      hex("00000027 | 0017 0003 00000009 0002 6231 | 00000002 00000001 0001 74 00000001 00000000"
          " 00000005 00000004");
  EXPECT_EQ(to_hex(*frame), to_hex(want));
  // The broker's path reads it back.
  Reader r(ByteView(want).subspan(4));
  Result<RequestHeader> back_header = decode_request_header(r);
  ASSERT_TRUE(back_header.ok()) << back_header.status();
  EXPECT_EQ(*back_header, header);
  EXPECT_TRUE(is_supported(back_header->api_key, back_header->api_version));
  EXPECT_EQ(decode<OffsetForLeaderEpochRequest>(r, 3).value(), epoch_request());
  // size 55 | header v0: correlation id 9 | the V3Response body
  Result<Bytes> resp_frame =
      encode_response_frame(ReplicationApiKey::OffsetForLeaderEpoch, 3, 9, epoch_response());
  ASSERT_TRUE(resp_frame.ok()) << resp_frame.status();
  EXPECT_EQ(to_hex(*resp_frame),
            to_hex(hex("00000037 | 00000009 | 00000003 00000001 0001 74 00000002"
                       " 0000 00000000 00000004 0000000000000064"
                       " 004a 00000001 ffffffff ffffffffffffffff")));
  // v4 (flexible) frames would use header v2 / v1; the broker does not serve v4.
  EXPECT_EQ(request_header_version(ReplicationApiKey::OffsetForLeaderEpoch, 4), 2);
  EXPECT_EQ(response_header_version(ReplicationApiKey::OffsetForLeaderEpoch, 4), 1);
  EXPECT_EQ(request_header_version(ReplicationApiKey::OffsetForLeaderEpoch, 3), 1);
}

TEST(OffsetForLeaderEpoch, DispatchAndHostileBodies) {
  std::string_view name = visit_api(ReplicationApiKey::OffsetForLeaderEpoch, [](auto traits) {
    return decltype(traits)::Response::message_name;
  });
  EXPECT_EQ(name, "OffsetForLeaderEpochResponse");
  EXPECT_EQ(static_cast<int16_t>(ReplicationApiKey::OffsetForLeaderEpoch), 23);
  EXPECT_EQ(decode<OffsetForLeaderEpochRequest>(hex("00000002 7fffffff"), 3).status().message(),
            "OffsetForLeaderEpochRequest v3: topics: array count 2147483647 > 0 remaining");
  EXPECT_EQ(
      decode<OffsetForLeaderEpochRequest>(hex("00000002 00000001 ffff"), 3).status().message(),
      "OffsetForLeaderEpochRequest v3: topics[0].topic: null in a non-nullable field");
}

// A follower's v15 fetch: the v13 golden of messages_golden_test.cc with replica_state instead
// of replica_id.
FetchRequest replica_fetch() {
  FetchRequest req;
  req.cluster_id = "c";
  req.replica_state = {.replica_id = 2, .replica_epoch = 7};
  req.max_wait_ms = 500;
  req.min_bytes = 1;
  FetchRequest::FetchTopic topic;
  topic.topic_id = {.high = 0, .low = 1};
  FetchRequest::FetchPartition partition;
  partition.current_leader_epoch = 5;
  partition.fetch_offset = 10;
  partition.last_fetched_epoch = 4;
  partition.partition_max_bytes = 0x100000;
  topic.partitions = {partition};
  req.topics = {topic};
  return req;
}

TEST(FetchV15, ReplicaStateIsTaggedFieldOne) {
  // no replica_id (v0-14) | max wait 500 | min bytes 1 | max bytes 0x7fffffff | isolation 0 |
  // session 0 | session epoch -1 | topics: 1 (02), topic id 0...01 | partitions: 1 (02),
  // partition 0, current leader epoch 5, fetch offset 10, last fetched epoch 4, log start offset
  // -1, partition max bytes 1 MiB, no tags | topic: no tags | forgotten topics: 0 (01) | rack id
  // "" (01) | tags: 2 fields: tag 0 (cluster_id, 2 bytes: compact "c"), tag 1 (replica_state, 13
  // bytes: replica id 2, replica epoch 7, its own empty tag section)
  constexpr std::string_view kBody =
      "000001f4 00000001 7fffffff 00 00000000 ffffffff"
      " | 02 00000000000000000000000000000001"
      " | 02 00000000 00000005 000000000000000a 00000004 ffffffffffffffff 00100000 00"
      " | 00 | 01 | 01 | 02 00 02 0263 01 0d 00000002 0000000000000007 00";
  expect_body(replica_fetch(), 15, kBody);
  // The frame: header v2 (flexible: a tag section after the non-compact client_id), size 108.
  RequestHeader header{.api_key = ApiKey::Fetch,
                       .api_version = kReplicaFetchVersion,
                       .correlation_id = 4,
                       .client_id = "b2"};
  Result<Bytes> frame = encode_request_frame(header, replica_fetch());
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(to_hex(*frame),
            to_hex(hex("0000006c | 0001 000f 00000004 0002 6232 00 | " + std::string(kBody))));

  // A default replica_state ({-1, -1}) is not written: only cluster_id's tag.
  FetchRequest consumer = replica_fetch();
  consumer.replica_state = {};
  expect_body(consumer, 15,
              "000001f4 00000001 7fffffff 00 00000000 ffffffff"
              " | 02 00000000000000000000000000000001"
              " | 02 00000000 00000005 000000000000000a 00000004 ffffffffffffffff 00100000 00"
              " | 00 | 01 | 01 | 01 00 02 0263");
  // Half a default is still written (replica id 2, epoch unknown).
  FetchRequest no_epoch = replica_fetch();
  no_epoch.cluster_id.reset();
  no_epoch.replica_state.replica_epoch = -1;
  expect_body(no_epoch, 15,
              "000001f4 00000001 7fffffff 00 00000000 ffffffff"
              " | 02 00000000000000000000000000000001"
              " | 02 00000000 00000005 000000000000000a 00000004 ffffffffffffffff 00100000 00"
              " | 00 | 01 | 01 | 01 01 0d 00000002 ffffffffffffffff 00");
  // replica_id is not on the wire in v15, replica_state not before it: neither reaches the wire
  // of the other's versions.
  FetchRequest both = replica_fetch();
  both.replica_id = 3;
  EXPECT_EQ(decode<FetchRequest>(encode_to_bytes(both, 15).value(), 15).value().replica_id, -1);
  EXPECT_EQ(decode<FetchRequest>(encode_to_bytes(both, 14).value(), 14).value().replica_state,
            FetchRequest::ReplicaState{});
}

TEST(FetchV15, ReplicaStateOnAnOlderVersionIsAnUnknownTag) {
  // A v14 body carrying tag 1 (as a v15 sender would write it) decodes: tag 1 is unknown in v14
  // and skipped, like any unknown tag.
  Bytes body =
      hex("00000002 000001f4 00000001 7fffffff 00 00000000 ffffffff | 01 | 01 | 01 |"
          " 01 01 0d 00000002 0000000000000007 00");
  Result<FetchRequest> req = decode<FetchRequest>(body, 14);
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->replica_id, 2);
  EXPECT_EQ(req->replica_state, FetchRequest::ReplicaState{});
}

// v14 is v13; v15 adds nothing to it but the request's replica_state in place of replica_id:
// with replica_state unset, a v15 request is v13's bytes without the leading int32 replica_id,
// and responses are v13's bytes in both.
RC_GTEST_PROP(FetchV15, SameBytesAsV13WithoutReplicaState, ()) {
  FetchRequest req = testing::random_message<FetchRequest>(13);
  Bytes v13 = encode_to_bytes(req, 13).value();
  RC_ASSERT(encode_to_bytes(req, 14).value() == v13);
  RC_ASSERT(encode_to_bytes(req, 15).value() == Bytes(v13.begin() + 4, v13.end()));
  FetchResponse resp = testing::random_message<FetchResponse>(13);
  Bytes resp13 = encode_to_bytes(resp, 13).value();
  RC_ASSERT(encode_to_bytes(resp, 14).value() == resp13);
  RC_ASSERT(encode_to_bytes(resp, 15).value() == resp13);
}

// A broker's replica fetch at any inter-broker version passes the broker's request path:
// header, is_supported, body.
RC_GTEST_PROP(FetchV15, InterBrokerFramesPassTheBrokerPath, ()) {
  const ApiInfo& range = *rc::gen::elementOf(kInterBrokerVersions);
  const auto version = testing::uniform<int16_t>(range.min_version, range.max_version + 1);
  RequestHeader h{.api_key = range.key,
                  .api_version = version,
                  .correlation_id = *rc::gen::arbitrary<int32_t>(),
                  .client_id = "broker-1"};
  visit_api(range.key, [&](auto traits) {
    using Req = typename decltype(traits)::Request;
    Req req = testing::random_message<Req>(version);
    Bytes frame = encode_request_frame(h, req).value();
    Reader r(ByteView(frame).subspan(4));
    RequestHeader back = decode_request_header(r).value();
    RC_ASSERT(back == h);
    RC_ASSERT(is_supported(back.api_key, back.api_version));
    RC_ASSERT(decode<Req>(r, version).value() == req);
    return 0;
  });
}

}  // namespace
}  // namespace gregor::kafka
