// Proves the KRaft quorum codecs (messages_raft.h) and their place in the api layer:
// - golden bytes written by hand from Kafka 3.7's JSON schemas (Vote v0 request and response,
//   with and without Gregor's pre-vote tag; FetchSnapshot v0 request and response with their
//   tagged fields; BeginQuorumEpoch v0, which is not flexible; request and response frames with
//   their header versions): encode gives exactly the bytes, decode gives the struct back, every
//   strict prefix is refused as corrupt;
// - every message at every version round-trips with random values (RapidCheck), every strict
//   prefix and every appended byte is corrupt, damaged encodings never crash;
// - the controller apis stay out of the broker's tables: not in kApis, not supported, not in the
//   ApiVersions answer; their own table, dispatch and frames work.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "node/kafka/api.h"
#include "node/kafka/messages_testing.h"

namespace gregor::kafka {
namespace {

Bytes hex(std::string_view h) {
  Bytes out;
  std::string digits;
  for (char c : h)
    if (c != ' ' && c != '|') digits += c;
  for (size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

// "__cluster_metadata" (18 bytes), the KRaft metadata topic.
constexpr std::string_view kTopic = "__cluster_metadata";
constexpr std::string_view kTopicHex = "5f5f636c75737465725f6d65746164617461";

std::string with_topic(std::string_view pattern) {
  std::string out(pattern);
  for (size_t at = out.find("<topic>"); at != std::string::npos; at = out.find("<topic>"))
    out.replace(at, 7, kTopicHex);
  return out;
}

template <typename T>
void expect_body(const T& msg, int16_t version, std::string_view pattern) {
  Bytes want = hex(with_topic(pattern));
  Result<Bytes> got = encode_to_bytes(msg, version);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(to_hex(*got), to_hex(want)) << T::message_name << " v" << version;
  Result<T> back = decode<T>(want, version);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == msg) << T::message_name << " v" << version;
  for (size_t n = 0; n < want.size(); ++n)
    EXPECT_EQ(decode<T>(ByteView(want).first(n), version).code(), Errc::corrupt) << n;
}

VoteRequest vote_request(bool pre_vote) {
  VoteRequest req;
  req.cluster_id = "c";
  req.topics.push_back({.topic_name = std::string(kTopic),
                        .partitions = {{.partition_index = 0,
                                        .candidate_epoch = 5,
                                        .candidate_id = 1,
                                        .last_offset_epoch = 4,
                                        .last_offset = 100,
                                        .pre_vote = pre_vote}}});
  return req;
}

constexpr std::string_view kVoteRequestV0 =
    "02 63"              // cluster_id "c": compact nullable string, length + 1 = 2
    "02"                 // topics: compact array of 1
    "13 <topic>"         //   topic_name: compact string of 18
    "02"                 //   partitions: compact array of 1
    "00000000"           //     partition_index 0
    "00000005"           //     candidate_epoch 5
    "00000001"           //     candidate_id 1
    "00000004"           //     last_offset_epoch 4
    "0000000000000064";  //     last_offset 100
constexpr std::string_view kVoteRequestTail =
    "00"   //   topic: no tagged fields
    "00";  // request: no tagged fields

TEST(RaftGolden, VoteRequestV0) {
  // A plain vote writes no tagged field: byte-identical to Kafka 3.7.
  expect_body(vote_request(false), 0,
              std::string(kVoteRequestV0) + "00" + std::string(kVoteRequestTail));
  // A pre-vote: the partition's tagged section has 1 field, tag 10000 (uvarint 90 4e), size 1,
  // value true.
  expect_body(vote_request(true), 0,
              std::string(kVoteRequestV0) + "01 904e 01 01" + std::string(kVoteRequestTail));
}

TEST(RaftGolden, VoteResponseV0) {
  VoteResponse resp;
  resp.topics.push_back({.topic_name = std::string(kTopic),
                         .partitions = {{.partition_index = 0,
                                         .error_code = 0,
                                         .leader_id = -1,
                                         .leader_epoch = 5,
                                         .vote_granted = true}}});
  expect_body(resp, 0,
              "0000"        // error_code 0
              "02"          // topics: compact array of 1
              "13 <topic>"  //   topic_name
              "02"          //   partitions: compact array of 1
              "00000000"    //     partition_index 0
              "0000"        //     error_code 0
              "ffffffff"    //     leader_id -1 (unknown)
              "00000005"    //     leader_epoch 5
              "01"          //     vote_granted true
              "00"          //     partition: no tagged fields (pre_vote false is not written)
              "00"          //   topic: no tagged fields
              "00");        // response: no tagged fields
  resp.topics[0].partitions[0].pre_vote = true;
  resp.topics[0].partitions[0].vote_granted = false;
  expect_body(resp, 0,
              "0000 02 13 <topic> 02 00000000 0000 ffffffff 00000005"
              "00"             // vote_granted false
              "01 904e 01 01"  // tagged: pre_vote (tag 10000) = true
              "00 00");
}

TEST(RaftGolden, BeginQuorumEpochRequestV0IsNotFlexible) {
  BeginQuorumEpochRequest req;
  req.topics.push_back({.topic_name = std::string(kTopic),
                        .partitions = {{.partition_index = 0, .leader_id = 1, .leader_epoch = 5}}});
  expect_body(req, 0,
              "ffff"          // cluster_id null: int16 length -1
              "00000001"      // topics: int32 count 1
              "0012 <topic>"  //   topic_name: int16 length 18
              "00000001"      //   partitions: int32 count 1
              "00000000"      //     partition_index 0
              "00000001"      //     leader_id 1
              "00000005");    //     leader_epoch 5 (no tagged-field sections anywhere)
}

TEST(RaftGolden, FetchSnapshotRequestV0) {
  FetchSnapshotRequest req;
  req.cluster_id = "c";
  req.replica_id = 2;
  req.topics.push_back({.name = std::string(kTopic),
                        .partitions = {{.partition = 0,
                                        .current_leader_epoch = 5,
                                        .snapshot_id = {.end_offset = 100, .epoch = 4},
                                        .position = 0}}});
  expect_body(req, 0,
              "00000002"          // replica_id 2
              "7fffffff"          // max_bytes (Kafka's default)
              "02"                // topics: compact array of 1
              "13 <topic>"        //   name
              "02"                //   partitions: compact array of 1
              "00000000"          //     partition 0
              "00000005"          //     current_leader_epoch 5
              "0000000000000064"  //     snapshot_id.end_offset 100
              "00000004"          //     snapshot_id.epoch 4
              "00"                //     snapshot_id: no tagged fields
              "0000000000000000"  //     position 0
              "00"                //     partition: no tagged fields
              "00"                //   topic: no tagged fields
              "01 00 02 02 63");  // tagged: 1 field, tag 0 (cluster_id), size 2, compact "c"
  // Without a cluster id the tagged section is empty.
  req.cluster_id.reset();
  Bytes bytes = encode_to_bytes(req, 0).value();
  EXPECT_EQ(bytes.back(), 0x00);
}

TEST(RaftGolden, FetchSnapshotResponseV0) {
  FetchSnapshotResponse resp;
  resp.topics.push_back({.name = std::string(kTopic),
                         .partitions = {{.index = 0,
                                         .error_code = 0,
                                         .snapshot_id = {.end_offset = 100, .epoch = 4},
                                         .current_leader = {.leader_id = 1, .leader_epoch = 5},
                                         .size = 3,
                                         .position = 0,
                                         .unaligned_records = Bytes{'a', 'b', 'c'}}}});
  expect_body(resp, 0,
              "00000000"                   // throttle_time_ms 0
              "0000"                       // error_code 0
              "02"                         // topics: compact array of 1
              "13 <topic>"                 //   name
              "02"                         //   partitions: compact array of 1
              "00000000"                   //     index 0
              "0000"                       //     error_code 0
              "0000000000000064 00000004"  //     snapshot_id {100, 4}
              "00"                         //     snapshot_id: no tagged fields
              "0000000000000003"           //     size 3
              "0000000000000000"           //     position 0
              "04 616263"                  //     unaligned_records: compact bytes "abc"
              "01 00 09"                   //     tagged: 1 field, tag 0 (current_leader), 9 bytes
              "00000001 00000005 00"       //       leader_id 1, leader_epoch 5, no tagged fields
              "00"                         //   topic: no tagged fields
              "00");                       // response: no tagged fields
}

TEST(RaftGolden, Frames) {
  // Vote v0 is flexible: request header v2 (client_id stays a non-compact string, then an empty
  // tagged section), response header v1.
  RequestHeader h{.api_key = RaftApiKey::Vote, .api_version = 0, .correlation_id = 7};
  VoteRequest req = vote_request(false);
  std::string body = std::string(kVoteRequestV0) + "00" + std::string(kVoteRequestTail);
  Bytes body_bytes = hex(with_topic(body));
  Bytes frame = encode_controller_request_frame(h, req).value();
  EXPECT_EQ(to_hex(frame),
            to_hex(hex(fmt::format("{:08x} 0034 0000 00000007 ffff 00", 11 + body_bytes.size()))) +
                to_hex(body_bytes));
  Reader r(ByteView(frame).subspan(4));
  EXPECT_EQ(decode_controller_request_header(r).value(), h);
  EXPECT_EQ(decode<VoteRequest>(r, 0).value(), req);

  Bytes resp_frame = encode_controller_response_frame(0, 7, VoteResponse{}).value();
  EXPECT_EQ(to_hex(resp_frame), to_hex(hex("00000009 00000007 00 | 0000 01 00")));

  // BeginQuorumEpoch v0 is not: request header v1, response header v0.
  RequestHeader b{.api_key = RaftApiKey::BeginQuorumEpoch, .api_version = 0, .correlation_id = 9};
  Bytes bframe = encode_controller_request_frame(b, BeginQuorumEpochRequest{}).value();
  EXPECT_EQ(to_hex(bframe), to_hex(hex("00000010 0035 0000 00000009 ffff | ffff 00000000")));
  Bytes bresp = encode_controller_response_frame(0, 9, BeginQuorumEpochResponse{}).value();
  EXPECT_EQ(to_hex(bresp), to_hex(hex("0000000a 00000009 | 0000 00000000")));
}

// ---- Properties ---------------------------------------------------------------------------------

// Round trips, truncation, damage and unknown versions of every message here: MessageCodec
// (messages_test.cc) covers them with the broker's messages.

RC_GTEST_PROP(RaftApi, RequestFramesRoundTrip, ()) {
  const auto& api = *rc::gen::elementOf(kControllerApis);
  const auto version = testing::uniform<int16_t>(api.min_version, api.max_version + 1);
  RequestHeader h{
      .api_key = api.key, .api_version = version, .correlation_id = *rc::gen::arbitrary<int32_t>()};
  if (*rc::gen::arbitrary<bool>()) h.client_id = *rc::gen::arbitrary<std::string>();
  visit_controller_api(api.key, [&](auto traits) {
    using Req = typename decltype(traits)::Request;
    Req req = testing::random_message<Req>(version);
    Bytes frame = encode_controller_request_frame(h, req).value();
    Reader r(frame);
    RC_ASSERT(r.be<int32_t>() == static_cast<int32_t>(frame.size() - 4));
    RC_ASSERT(decode_controller_request_header(r).value() == h);
    RC_ASSERT(decode<Req>(r, version).value() == req);
    return 0;
  });
}

// ---- The api tables -----------------------------------------------------------------------------

TEST(RaftApi, NotServedOrAdvertisedByTheBroker) {
  for (const ApiInfo& api : kControllerApis) {
    EXPECT_EQ(find_api(api.key), nullptr) << api.name;
    for (int16_t v = 0; v <= api.max_version; ++v) EXPECT_FALSE(is_supported(api.key, v));
  }
  for (const auto& entry : api_versions_response().api_keys)
    EXPECT_EQ(find_controller_api(static_cast<ApiKey>(entry.api_key)), nullptr);
  EXPECT_EQ(api_versions_response().api_keys.size(), kApis.size());
}

TEST(RaftApi, TableAndDispatch) {
  for (size_t i = 1; i < kControllerApis.size(); ++i)
    EXPECT_LT(kControllerApis[i - 1].key, kControllerApis[i].key);
  for (const ApiInfo& api : kControllerApis) {
    std::string_view request = visit_controller_api(
        api.key, [](auto traits) { return decltype(traits)::Request::message_name; });
    EXPECT_EQ(request, std::string(api.name) + "Request");
  }
  EXPECT_EQ(static_cast<int16_t>(RaftApiKey::Vote), 52);
  EXPECT_EQ(static_cast<int16_t>(RaftApiKey::FetchSnapshot), 59);
  EXPECT_EQ(find_controller_api(RaftApiKey::DescribeQuorum)->max_version, 1);
  EXPECT_EQ(find_controller_api(ApiKey::Fetch), nullptr);
  EXPECT_EQ(controller_request_header_version(RaftApiKey::Vote, 0), 2);
  EXPECT_EQ(controller_response_header_version(RaftApiKey::Vote, 0), 1);
  EXPECT_EQ(controller_request_header_version(RaftApiKey::EndQuorumEpoch, 0), 1);
  EXPECT_EQ(controller_response_header_version(RaftApiKey::EndQuorumEpoch, 0), 0);
}

TEST(RaftApi, ControllerHeaderRefusesOtherApisAndTruncation) {
  Bytes fetch = hex("0001 0004 00000001 ffff");
  Reader r(fetch);
  EXPECT_EQ(decode_controller_request_header(r).code(), Errc::invalid_argument);
  Bytes vote = hex("0034 0000 00000001 ffff 00");
  for (size_t n = 0; n < vote.size(); ++n) {
    Reader rn(ByteView(vote).first(n));
    EXPECT_EQ(decode_controller_request_header(rn).code(), Errc::corrupt) << n;
  }
  RequestHeader wrong{.api_key = RaftApiKey::BeginQuorumEpoch};
  EXPECT_EQ(encode_controller_request_frame(wrong, VoteRequest{}).code(), Errc::invalid_argument);
}

}  // namespace
}  // namespace gregor::kafka
