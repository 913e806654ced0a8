// Proves the codecs produce and accept Kafka's exact bytes: every golden below was written by hand
// from the protocol guide (https://kafka.apache.org/protocol) and the JSON schemas, not produced
// by our encoder. Each is encoded from a struct and compared byte for byte, decoded back to the
// struct, and every strict prefix of it is refused as corrupt. Covers: request headers v1 and v2
// (client_id stays a non-compact string in v2), response headers v0 and v1, ApiVersions v0 and v3
// (compact strings and arrays, tagged fields, response header v0 under a flexible body),
// Metadata v1, Produce v3 (a records blob), Fetch v4 responses, Fetch v12/v13 (KRaft's
// flexible fetch: topic ids, tagged cluster_id, diverging_epoch/current_leader/snapshot_id),
// ListOffsets v0 (the old max_num_offsets format) and v1; and hostile variants of them: huge array
// counts, negative lengths, lengths past the end, trailing bytes.
#include <gtest/gtest.h>

#include "node/kafka/api.h"
#include "node/kafka/messages_testing.h"

namespace gregor::kafka {
namespace {

using kafka::testing::hex;

// Body golden: encodes to exactly `h`, decodes back to msg, every strict prefix is corrupt.
template <typename T>
void expect_body(const T& msg, int16_t version, std::string_view h) {
  kafka::testing::expect_body_bytes(msg, version, hex(h));
}

// Request frame golden: encode_request_frame gives `h`; the broker path reads it back.
template <typename T>
void expect_request_frame(const RequestHeader& header, const T& msg, std::string_view h) {
  Bytes want = hex(h);
  Result<Bytes> got = encode_request_frame(header, msg);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(to_hex(*got), to_hex(want));
  Reader r(ByteView(want).subspan(4));
  Result<RequestHeader> back_header = decode_request_header(r);
  ASSERT_TRUE(back_header.ok()) << back_header.status();
  EXPECT_EQ(*back_header, header);
  Result<T> back = decode<T>(r, header.api_version);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == msg);
}

template <typename T>
void expect_response_frame(int16_t version, int32_t correlation_id, const T& msg,
                           std::string_view h) {
  Result<Bytes> got = encode_response_frame(T::api_key, version, correlation_id, msg);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(to_hex(*got), to_hex(hex(h)));
}

TEST(Golden, RequestHeaderV1) {
  // Fetch v4: key 1, version 4, correlation id 0x01020304, client_id null (int16 -1).
  Bytes bytes = hex("0001 0004 01020304 ffff");
  Reader r(bytes);
  RequestHeader want{.api_key = ApiKey::Fetch, .api_version = 4, .correlation_id = 0x01020304};
  EXPECT_EQ(decode_request_header(r).value(), want);
  EXPECT_TRUE(r.at_end());
  Bytes out;
  Writer w(out);
  ASSERT_TRUE(encode_request_header(want, w).ok());
  EXPECT_EQ(out, bytes);
}

TEST(Golden, RequestHeaderV2) {
  // Produce v9 (flexible): client_id "ab" as a non-compact int16 string, then tagged fields; the
  // client sent one unknown tag (0, 2 bytes) that is skipped.
  Bytes bytes = hex("0000 0009 00000009 0002 6162 | 01 00 02 ffff");
  Reader r(bytes);
  RequestHeader want{
      .api_key = ApiKey::Produce, .api_version = 9, .correlation_id = 9, .client_id = "ab"};
  EXPECT_EQ(decode_request_header(r).value(), want);
  EXPECT_TRUE(r.at_end());
  Bytes out;
  Writer w(out);
  ASSERT_TRUE(encode_request_header(want, w).ok());
  EXPECT_EQ(to_hex(out), "00000009000000090002616200");
}

TEST(Golden, ResponseHeaders) {
  Bytes v0;
  Writer w0(v0);
  encode_response_header(42, 0, w0);
  EXPECT_EQ(to_hex(v0), "0000002a");
  Bytes v1;
  Writer w1(v1);
  encode_response_header(42, 1, w1);
  EXPECT_EQ(to_hex(v1), "0000002a00");
  Bytes with_tag = hex("0000002a | 01 05 01 ff");
  Reader r(with_tag);
  EXPECT_EQ(decode_response_header(r, 1).value().correlation_id, 42);
  EXPECT_TRUE(r.at_end());
}

TEST(Golden, ApiVersionsV0Request) {
  // size 13 | key 18, version 0, correlation id 1, client_id "cli" | empty body
  expect_request_frame(RequestHeader{.api_key = ApiKey::ApiVersions,
                                     .api_version = 0,
                                     .correlation_id = 1,
                                     .client_id = "cli"},
                       ApiVersionsRequest{}, "0000000d | 0012 0000 00000001 0003 636c69");
}

TEST(Golden, ApiVersionsV3Request) {
  // size 26 | header v2: key 18, version 3, correlation id 7, client_id "cli" (int16 length),
  // no tagged fields | body: compact strings "gregor" (length 6 + 1) and "0.1", no tagged fields
  expect_request_frame(
      RequestHeader{.api_key = ApiKey::ApiVersions,
                    .api_version = 3,
                    .correlation_id = 7,
                    .client_id = "cli"},
      ApiVersionsRequest{.client_software_name = "gregor", .client_software_version = "0.1"},
      "0000001a | 0012 0003 00000007 0003 636c69 00 | 07 677265676f72 04 302e31 00");
}

ApiVersionsResponse two_apis() {
  ApiVersionsResponse resp;
  resp.api_keys = {{.api_key = 0, .min_version = 3, .max_version = 7},
                   {.api_key = 18, .min_version = 0, .max_version = 3}};
  return resp;
}

TEST(Golden, ApiVersionsV3Response) {
  // size 26 | header v0 (ApiVersions always): correlation id 7 | error 0 | compact array of 2
  // (count + 1 = 3), each key/min/max + empty tagged fields | throttle 0 | no tagged fields
  expect_response_frame(3, 7, two_apis(),
                        "0000001a | 00000007 | 0000 | 03 0000 0003 0007 00 0012 0000 0003 00 |"
                        " 00000000 | 00");
  expect_body(two_apis(), 3, "0000 03 0000 0003 0007 00 0012 0000 0003 00 00000000 00");
}

TEST(Golden, ApiVersionsV3ResponseTaggedFields) {
  ApiVersionsResponse resp = two_apis();
  resp.supported_features = {{.name = "mv", .min_version = 1, .max_version = 7}};
  resp.finalized_features_epoch = 5;
  resp.zk_migration_ready = true;
  // tagged fields: 3 of them, in tag order; finalized_features (tag 2) is empty = its default.
  //   tag 0, 9 bytes: compact array of 1 {compact "mv", min 1, max 7, no tags}
  //   tag 1, 8 bytes: int64 5
  //   tag 3, 1 byte: true
  expect_body(resp, 3,
              "0000 03 0000 0003 0007 00 0012 0000 0003 00 00000000 |"
              " 03 | 00 09 02 03 6d76 0001 0007 00 | 01 08 0000000000000005 | 03 01 01");
}

TEST(Golden, ApiVersionsV0Response) {
  // error 35 (UNSUPPORTED_VERSION) | int32 array count 2 | key/min/max; no throttle in v0
  ApiVersionsResponse resp = two_apis();
  resp.error_code = 35;
  expect_body(resp, 0, "0023 | 00000002 | 0000 0003 0007 | 0012 0000 0003");
}

TEST(Golden, MetadataV1Request) {
  MetadataRequest req;
  req.topics = std::vector<MetadataRequest::MetadataRequestTopic>{{"a"}, {"bc"}};
  // size 22 | key 3, version 1, correlation id 2, client_id "c" | topics: 2, "a", "bc"
  expect_request_frame(
      RequestHeader{
          .api_key = ApiKey::Metadata, .api_version = 1, .correlation_id = 2, .client_id = "c"},
      req, "00000016 | 0003 0001 00000002 0001 63 | 00000002 0001 61 0002 6263");
  // Null topics (all topics) is int32 -1 from v1; in v0 null is not representable.
  MetadataRequest all;
  all.topics = std::nullopt;
  expect_body(all, 1, "ffffffff");
  EXPECT_EQ(encode_to_bytes(all, 0).code(), Errc::invalid_argument);
  EXPECT_EQ(decode<MetadataRequest>(hex("ffffffff"), 0).code(), Errc::corrupt);
}

ProduceRequest tiny_produce() {
  ProduceRequest req;
  req.acks = -1;
  req.timeout_ms = 30000;
  req.topic_data = {{.name = "t", .partition_data = {{.index = 0, .records = Bytes{1, 2, 3}}}}};
  return req;
}

TEST(Golden, ProduceV3Request) {
  // transactional_id null | acks -1 | timeout 30000 | topics: 1, "t" | partitions: 1, index 0,
  // records: int32 length 3 + bytes
  constexpr std::string_view body =
      "ffff | ffff | 00007530 | 00000001 0001 74 | 00000001 00000000 | 00000003 010203";
  expect_body(tiny_produce(), 3, body);
  // size 41 | key 0, version 3, correlation id 5, client_id "c" | body
  expect_request_frame(
      RequestHeader{
          .api_key = ApiKey::Produce, .api_version = 3, .correlation_id = 5, .client_id = "c"},
      tiny_produce(), "00000029 | 0000 0003 00000005 0001 63 | " + std::string(body));
  ProduceRequest tx = tiny_produce();
  tx.transactional_id = "tx";
  expect_body(
      tx, 3,
      "0002 7478 | ffff | 00007530 | 00000001 0001 74 | 00000001 00000000 | 00000003 010203");
  // v2 has no transactional_id: not written even when set.
  expect_body(tiny_produce(), 2,
              "ffff | 00007530 | 00000001 0001 74 | 00000001 00000000 | 00000003 010203");
}

TEST(Golden, ProduceV3HostileBodies) {
  auto message = [](std::string_view h) { return decode<ProduceRequest>(hex(h), 3).status(); };
  EXPECT_EQ(message("ffff ffff 00007530 7fffffff").message(),
            "ProduceRequest v3: topic_data: array count 2147483647 > 0 remaining");
  EXPECT_EQ(message("ffff ffff 00007530 00000001 fff0 74").message(),
            "ProduceRequest v3: topic_data[0].name: negative string length -16");
  EXPECT_EQ(
      message("ffff ffff 00007530 00000001 0001 74 00000001 00000000 00000064 010203").message(),
      "ProduceRequest v3: topic_data[0].partition_data[0].records: bytes length 100 > 3 "
      "remaining");
  EXPECT_EQ(message("ffff ffff 00007530 00000001 0001 74 00000001 00000000 ffffff00").message(),
            "ProduceRequest v3: topic_data[0].partition_data[0].records: negative bytes length "
            "-256");
  EXPECT_EQ(
      message("ffff ffff 00007530 00000001 0001 74 00000001 00000000 00000003 010203 ff").message(),
      "ProduceRequest v3: 1 bytes after the end of the body");
  // A null record set is legal on the wire (the broker rejects it later).
  EXPECT_TRUE(decode<ProduceRequest>(
                  hex("ffff ffff 00007530 00000001 0001 74 00000001 00000000 ffffffff"), 3)
                  .ok());
}

FetchResponse small_fetch() {
  FetchResponse resp;
  FetchResponse::PartitionData p;
  p.partition_index = 0;
  p.high_watermark = 10;
  p.last_stable_offset = 10;
  p.aborted_transactions = std::vector<FetchResponse::AbortedTransaction>{{7, 3}};
  p.records = Bytes{0xaa, 0xbb};
  resp.responses = {{.topic = "t", .partitions = {p}}};
  return resp;
}

TEST(Golden, FetchV4Response) {
  // throttle 0 | topics: 1, "t" | partitions: 1, index 0, error 0, high watermark 10, last
  // stable offset 10, aborted transactions: 1 {producer 7, first offset 3}, records: 2 bytes
  expect_body(small_fetch(), 4,
              "00000000 | 00000001 0001 74 | 00000001 00000000 0000 000000000000000a"
              " 000000000000000a | 00000001 0000000000000007 0000000000000003 | 00000002 aabb");
  // Null aborted transactions and null records.
  FetchResponse nulls = small_fetch();
  nulls.responses[0].partitions[0].aborted_transactions = std::nullopt;
  nulls.responses[0].partitions[0].records = std::nullopt;
  expect_body(nulls, 4,
              "00000000 | 00000001 0001 74 | 00000001 00000000 0000 000000000000000a"
              " 000000000000000a | ffffffff | ffffffff");
  // The frame: response header v0 (Fetch is not flexible before v12).
  expect_response_frame(4, 3, nulls,
                        "00000031 | 00000003 | 00000000 00000001 0001 74 00000001 00000000 0000"
                        " 000000000000000a 000000000000000a ffffffff ffffffff");
}

TEST(Golden, FetchV13RequestAndResponse) {
  // KRaft's follower fetch (flexible: compact arrays and strings, tagged-field sections).
  FetchRequest req;
  req.cluster_id = "c";
  req.replica_id = 2;
  req.max_wait_ms = 500;
  req.min_bytes = 1;
  FetchRequest::FetchTopic topic;
  topic.topic_id = {.high = 0, .low = 1};  // Kafka's METADATA_TOPIC_ID, AAAAAAAAAAAAAAAAAAAAAQ
  FetchRequest::FetchPartition partition;
  partition.current_leader_epoch = 5;
  partition.fetch_offset = 10;
  partition.last_fetched_epoch = 4;
  partition.partition_max_bytes = 0x100000;
  topic.partitions = {partition};
  req.topics = {topic};
  // replica 2 | max wait 500 | min bytes 1 | max bytes 0x7fffffff | isolation 0 | session 0 |
  // session epoch -1 | topics: 1 (compact 02), topic id 0...01 | partitions: 1 (02), partition 0,
  // current leader epoch 5, fetch offset 10, last fetched epoch 4, log start offset -1,
  // partition max bytes 1 MiB, no tags (00) | topic: no tags | forgotten topics: 0 (01) |
  // rack id "" (01) | tags: 1 field, tag 0 (cluster_id), 2 bytes: compact string "c" (02 63)
  expect_body(req, 13,
              "00000002 000001f4 00000001 7fffffff 00 00000000 ffffffff"
              " | 02 00000000000000000000000000000001"
              " | 02 00000000 00000005 000000000000000a 00000004 ffffffffffffffff 00100000 00"
              " | 00 | 01 | 01 | 01 00 02 0263");
  // v12: the topic by name ("m", compact 02 6d) instead of its id; forgotten topics also by name.
  req.topics[0].topic = "m";
  req.topics[0].topic_id = {};
  expect_body(req, 12,
              "00000002 000001f4 00000001 7fffffff 00 00000000 ffffffff"
              " | 02 026d"
              " | 02 00000000 00000005 000000000000000a 00000004 ffffffffffffffff 00100000 00"
              " | 00 | 01 | 01 | 01 00 02 0263");

  FetchResponse resp;
  FetchResponse::FetchableTopicResponse rt;
  rt.topic_id = {.high = 0, .low = 1};
  FetchResponse::PartitionData p;
  p.high_watermark = 7;
  p.preferred_read_replica = -1;
  p.diverging_epoch = {.epoch = 3, .end_offset = 9};
  p.current_leader = {.leader_id = 1, .leader_epoch = 5};
  rt.partitions = {p};
  resp.responses = {rt};
  // throttle 0 | error 0 | session 0 | responses: 1 (02), topic id 0...01 | partitions: 1 (02),
  // index 0, error 0, high watermark 7, last stable offset -1, log start offset -1, aborted
  // transactions: 0 (01), preferred read replica -1, records null (00), tags: 2 fields: tag 0
  // (diverging epoch, 13 bytes: epoch 3, end offset 9, its own empty tag section), tag 1
  // (current leader, 9 bytes: id 1, epoch 5, empty tag section); snapshot id {-1, -1} is the
  // default and not written | topic: no tags | no tags
  expect_body(resp, 13,
              "00000000 0000 00000000 | 02 00000000000000000000000000000001"
              " | 02 00000000 0000 0000000000000007 ffffffffffffffff ffffffffffffffff 01 ffffffff"
              " 00 | 02 00 0d 00000003 0000000000000009 00 01 09 00000001 00000005 00 | 00 | 00");
  // The snapshot id alone (tag 2, 13 bytes: end offset 20, epoch 2, no tags).
  resp.responses[0].partitions[0].diverging_epoch = {};
  resp.responses[0].partitions[0].current_leader = {};
  resp.responses[0].partitions[0].snapshot_id = {.end_offset = 20, .epoch = 2};
  expect_body(resp, 13,
              "00000000 0000 00000000 | 02 00000000000000000000000000000001"
              " | 02 00000000 0000 0000000000000007 ffffffffffffffff ffffffffffffffff 01 ffffffff"
              " 00 | 01 02 0d 0000000000000014 00000002 00 | 00 | 00");
}

TEST(Golden, ListOffsetsV0AndV1) {
  ListOffsetsRequest req;
  req.replica_id = -1;
  req.topics = {{.name = "t", .partitions = {{.partition_index = 0, .timestamp = -1}}}};
  // v0: replica -1 | topics: 1, "t" | partitions: 1, index 0, timestamp -1 (latest),
  // max_num_offsets 1 (its default)
  expect_body(req, 0, "ffffffff | 00000001 0001 74 | 00000001 00000000 ffffffffffffffff 00000001");
  // v1: no max_num_offsets.
  expect_body(req, 1, "ffffffff | 00000001 0001 74 | 00000001 00000000 ffffffffffffffff");

  ListOffsetsResponse resp;
  resp.topics = {
      {.name = "t",
       .partitions = {{.partition_index = 0, .error_code = 0, .old_style_offsets = {42}}}}};
  // v0: topics: 1, "t" | partitions: 1, index 0, error 0, old-style offsets: 1, 42
  expect_body(resp, 0, "00000001 0001 74 | 00000001 00000000 0000 00000001 000000000000002a");
}

TEST(Golden, NewerApiVersionsRequestIsReadableButUnsupported) {
  // A client's first request may be a version we do not know: ApiVersions v4 (header v2). The
  // header still decodes, so the broker can answer with v0 and UNSUPPORTED_VERSION.
  Bytes frame = hex("0012 0004 0000000b 0003 636c69 00 | 07 677265676f72 04 302e31 00");
  Reader r(frame);
  Result<RequestHeader> h = decode_request_header(r);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->api_version, 4);
  EXPECT_EQ(h->correlation_id, 11);
  EXPECT_FALSE(is_supported(h->api_key, h->api_version));
  EXPECT_EQ(decode<ApiVersionsRequest>(r, 4).code(), Errc::out_of_range);
}

}  // namespace
}  // namespace gregor::kafka
