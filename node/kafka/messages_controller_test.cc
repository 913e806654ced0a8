// Proves the codecs of the APIs brokers call on the controller (messages_controller.h) and their
// place in the api layer:
// - golden bytes written by hand from Kafka 3.7's JSON schemas (AlterPartition v1 and v3 requests
//   and the v2 response, BrokerRegistration v3 and v0 requests and the response, BrokerHeartbeat
//   v1 with its tagged offline_log_dirs, v0 without, and the response with its non-zero default,
//   UnregisterBroker and AllocateProducerIds v0): encode gives exactly the bytes, decode gives the
//   struct back, every strict prefix is refused as corrupt;
// - every message at every version round-trips with random values (RapidCheck); a message filled
//   for the highest version and encoded at a lower one comes back with the fields absent from
//   that version at their defaults; every strict prefix and every appended byte is corrupt;
//   damaged encodings never crash;
// - the controller frame functions carry the new keys (request header v2, response header v1),
//   and the apis sit in kControllerApis, not in the broker's tables.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "node/kafka/api.h"
#include "node/kafka/messages_testing.h"

namespace gregor::kafka {
namespace {

constexpr Uuid kUuid{0x0123456789abcdef, 0xfedcba9876543210};
constexpr std::string_view kUuidHex = "0123456789abcdef fedcba9876543210";
constexpr Uuid kUuid2{0x1111111111111111, 0x2222222222222222};
constexpr std::string_view kUuid2Hex = "1111111111111111 2222222222222222";

// Hex digits with spaces and '|' ignored; "<uuid>" and "<uuid2>" stand for kUuid and kUuid2.
Bytes hex(std::string_view pattern) {
  std::string h(pattern);
  for (auto [name, value] : {std::pair{std::string_view("<uuid>"), kUuidHex},
                             std::pair{std::string_view("<uuid2>"), kUuid2Hex}})
    for (size_t at = h.find(name); at != std::string::npos; at = h.find(name))
      h.replace(at, name.size(), value);
  return testing::hex(h);
}

template <typename T>
void expect_body(const T& msg, int16_t version, std::string_view pattern) {
  testing::expect_body_bytes(msg, version, hex(pattern));
}

// ---- AlterPartition -----------------------------------------------------------------------------

TEST(ControllerGolden, AlterPartitionRequestV1) {
  AlterPartitionRequest req{.broker_id = 1, .broker_epoch = 42};
  req.topics.push_back({.topic_name = "t",
                        .partitions = {{.partition_index = 0,
                                        .leader_epoch = 5,
                                        .new_isr = {1, 2},
                                        .leader_recovery_state = 1,
                                        .partition_epoch = 7}}});
  expect_body(req, 1,
              "00000001"              // broker_id 1
              "000000000000002a"      // broker_epoch 42
              "02"                    // topics: compact array of 1
              "02 74"                 //   topic_name "t" (v0-1)
              "02"                    //   partitions: compact array of 1
              "00000000"              //     partition_index 0
              "00000005"              //     leader_epoch 5
              "03 00000001 00000002"  //     new_isr [1, 2] (v0-2): compact array of 2
              "01"                    //     leader_recovery_state 1 (v1+, int8)
              "00000007"              //     partition_epoch 7
              "00"                    //     partition: no tagged fields
              "00"                    //   topic: no tagged fields
              "00");                  // request: no tagged fields
}

TEST(ControllerGolden, AlterPartitionRequestV3) {
  AlterPartitionRequest req{.broker_id = 1, .broker_epoch = 42};
  req.topics.push_back(
      {.topic_id = kUuid,
       .partitions = {{.partition_index = 0,
                       .leader_epoch = 5,
                       .new_isr_with_epochs = {{.broker_id = 1, .broker_epoch = 42},
                                               {.broker_id = 2, .broker_epoch = -1}},
                       .leader_recovery_state = 0,
                       .partition_epoch = 7}}});
  expect_body(req, 3,
              "00000001"                   // broker_id 1
              "000000000000002a"           // broker_epoch 42
              "02"                         // topics: compact array of 1
              "<uuid>"                     //   topic_id (v2+): 16 bytes, high half first
              "02"                         //   partitions: compact array of 1
              "00000000"                   //     partition_index 0
              "00000005"                   //     leader_epoch 5
              "03"                         //     new_isr_with_epochs (v3+): compact array of 2
              "00000001 000000000000002a"  //     broker 1, epoch 42
              "00"                         //       no tagged fields
              "00000002 ffffffffffffffff"  //     broker 2, epoch -1 (not checked)
              "00"                         //       no tagged fields
              "00"                         //     leader_recovery_state 0
              "00000007"                   //     partition_epoch 7
              "00"                         //     partition: no tagged fields
              "00"                         //   topic: no tagged fields
              "00");                       // request: no tagged fields
}

TEST(ControllerGolden, AlterPartitionResponseV2) {
  AlterPartitionResponse resp;
  resp.topics.push_back({.topic_id = kUuid,
                         .partitions = {{.partition_index = 0,
                                         .error_code = 0,
                                         .leader_id = 1,
                                         .leader_epoch = 5,
                                         .isr = {1, 2},
                                         .leader_recovery_state = 0,
                                         .partition_epoch = 8}}});
  expect_body(resp, 2,
              "00000000"              // throttle_time_ms 0
              "0000"                  // error_code 0
              "02"                    // topics: compact array of 1
              "<uuid>"                //   topic_id (v2+)
              "02"                    //   partitions: compact array of 1
              "00000000"              //     partition_index 0
              "0000"                  //     error_code 0
              "00000001"              //     leader_id 1
              "00000005"              //     leader_epoch 5
              "03 00000001 00000002"  //     isr [1, 2]
              "00"                    //     leader_recovery_state 0 (v1+)
              "00000008"              //     partition_epoch 8
              "00"                    //     partition: no tagged fields
              "00"                    //   topic: no tagged fields
              "00");                  // response: no tagged fields
}

// ---- BrokerRegistration -------------------------------------------------------------------------

BrokerRegistrationRequest registration() {
  BrokerRegistrationRequest req{.broker_id = 1, .cluster_id = "c", .incarnation_id = kUuid};
  req.listeners.push_back(
      {.name = "PLAINTEXT", .host = "h1", .port = 9092, .security_protocol = 0});
  req.features.push_back(
      {.name = "metadata.version", .min_supported_version = 1, .max_supported_version = 19});
  req.rack.reset();
  req.is_migrating_zk_broker = true;
  req.log_dirs = {kUuid2};
  req.previous_broker_epoch = 10;
  return req;
}

// Everything up to and including rack (the v0 fields).
constexpr std::string_view kRegistrationV0Fields =
    "00000001"                             // broker_id 1
    "02 63"                                // cluster_id "c"
    "<uuid>"                               // incarnation_id
    "02"                                   // listeners: compact array of 1
    "0a 504c41494e54455854"                //   name "PLAINTEXT" (9 bytes)
    "03 6831"                              //   host "h1"
    "2384"                                 //   port 9092 (uint16)
    "0000"                                 //   security_protocol 0 (PLAINTEXT)
    "00"                                   //   listener: no tagged fields
    "02"                                   // features: compact array of 1
    "11 6d657461646174612e76657273696f6e"  //   name "metadata.version" (16 bytes)
    "0001"                                 //   min_supported_version 1
    "0013"                                 //   max_supported_version 19
    "00"                                   //   feature: no tagged fields
    "00";                                  // rack null: compact nullable string, 0

TEST(ControllerGolden, BrokerRegistrationRequestV3) {
  expect_body(registration(), 3,
              std::string(kRegistrationV0Fields) +
                  "01"                // is_migrating_zk_broker true (v1+)
                  "02 <uuid2>"        // log_dirs (v2+): compact array of 1 uuid
                  "000000000000000a"  // previous_broker_epoch 10 (v3+)
                  "00");              // request: no tagged fields
}

TEST(ControllerGolden, BrokerRegistrationRequestV0DropsLaterFields) {
  Bytes want = hex(std::string(kRegistrationV0Fields) + "00");  // + no tagged fields
  EXPECT_EQ(to_hex(encode_to_bytes(registration(), 0).value()), to_hex(want));
  BrokerRegistrationRequest expected = registration();
  expected.is_migrating_zk_broker = false;
  expected.log_dirs.clear();
  expected.previous_broker_epoch = -1;
  EXPECT_EQ(decode<BrokerRegistrationRequest>(want, 0).value(), expected);
  // A rack is a compact string like any other.
  BrokerRegistrationRequest racked = expected;
  racked.rack = "c";
  Bytes racked_bytes = encode_to_bytes(racked, 0).value();
  EXPECT_EQ(to_hex(ByteView(racked_bytes).last(3)), to_hex(hex("02 63 00")));
}

TEST(ControllerGolden, BrokerRegistrationResponseV0) {
  expect_body(BrokerRegistrationResponse{.broker_epoch = 42}, 0,
              "00000000"          // throttle_time_ms 0
              "0000"              // error_code 0
              "000000000000002a"  // broker_epoch 42
              "00");              // response: no tagged fields
}

// ---- BrokerHeartbeat ----------------------------------------------------------------------------

BrokerHeartbeatRequest heartbeat() {
  return {.broker_id = 1,
          .broker_epoch = 42,
          .current_metadata_offset = 100,
          .want_fence = false,
          .want_shut_down = true};
}

constexpr std::string_view kHeartbeatFields =
    "00000001"          // broker_id 1
    "000000000000002a"  // broker_epoch 42
    "0000000000000064"  // current_metadata_offset 100
    "00"                // want_fence false
    "01";               // want_shut_down true

TEST(ControllerGolden, BrokerHeartbeatRequestV1) {
  BrokerHeartbeatRequest req = heartbeat();
  expect_body(req, 1, std::string(kHeartbeatFields) + "00");  // offline_log_dirs empty: no tag
  req.offline_log_dirs = {kUuid};
  expect_body(req, 1,
              std::string(kHeartbeatFields) +
                  "01"           // tagged fields: 1
                  "00"           //   tag 0 (offline_log_dirs)
                  "11"           //   size 17
                  "02 <uuid>");  //   compact array of 1 uuid
  // v0 has no offline_log_dirs: not written, and decoded as empty.
  Bytes v0 = encode_to_bytes(req, 0).value();
  EXPECT_EQ(to_hex(v0), to_hex(hex(std::string(kHeartbeatFields) + "00")));
  EXPECT_EQ(decode<BrokerHeartbeatRequest>(v0, 0).value(), heartbeat());
}

TEST(ControllerGolden, BrokerHeartbeatResponseV0) {
  // is_fenced defaults to true (Kafka's "default": "true").
  expect_body(BrokerHeartbeatResponse{}, 0,
              "00000000"  // throttle_time_ms 0
              "0000"      // error_code 0
              "00"        // is_caught_up false
              "01"        // is_fenced true
              "00"        // should_shut_down false
              "00");      // response: no tagged fields
  expect_body(BrokerHeartbeatResponse{.is_caught_up = true, .is_fenced = false}, 1,
              "00000000 0000"
              "01"  // is_caught_up true
              "00"  // is_fenced false
              "00 00");
}

// ---- UnregisterBroker, AllocateProducerIds
// --------------------------------------------------------

TEST(ControllerGolden, UnregisterBrokerV0) {
  expect_body(UnregisterBrokerRequest{.broker_id = 3}, 0,
              "00000003"  // broker_id 3
              "00");      // request: no tagged fields
  expect_body(UnregisterBrokerResponse{.error_message = std::nullopt}, 0,
              "00000000"  // throttle_time_ms 0
              "0000"      // error_code 0
              "00"        // error_message null
              "00");      // response: no tagged fields
  expect_body(UnregisterBrokerResponse{.error_code = 102, .error_message = "gone"}, 0,
              "00000000"
              "0066"         // error_code 102 (BROKER_ID_NOT_REGISTERED)
              "05 676f6e65"  // error_message "gone"
              "00");
  // Kafka's default error_message is "" (no "default" in the JSON), not null.
  expect_body(UnregisterBrokerResponse{}, 0, "00000000 0000 01 00");
}

TEST(ControllerGolden, AllocateProducerIdsV0) {
  expect_body(AllocateProducerIdsRequest{.broker_id = 1, .broker_epoch = 42}, 0,
              "00000001"          // broker_id 1
              "000000000000002a"  // broker_epoch 42
              "00");              // request: no tagged fields
  expect_body(AllocateProducerIdsResponse{.producer_id_start = 1000, .producer_id_len = 1000}, 0,
              "00000000"          // throttle_time_ms 0
              "0000"              // error_code 0
              "00000000000003e8"  // producer_id_start 1000
              "000003e8"          // producer_id_len 1000
              "00");              // response: no tagged fields
}

// ---- Frames -------------------------------------------------------------------------------------

TEST(ControllerGolden, BrokerHeartbeatFrames) {
  RequestHeader h{.api_key = ControllerApiKey::BrokerHeartbeat,
                  .api_version = 1,
                  .correlation_id = 11,
                  .client_id = "b1"};
  Bytes frame = encode_controller_request_frame(h, heartbeat()).value();
  EXPECT_EQ(to_hex(frame), to_hex(hex(std::string("00000024"   // size 36: 13 header + 23 body
                                                  "003f"       // api_key 63
                                                  "0001"       // api_version 1
                                                  "0000000b"   // correlation_id 11
                                                  "0002 6231"  // client_id "b1" (int16 length)
                                                  "00 |") +    // header v2: no tagged fields
                                      std::string(kHeartbeatFields) +
                                      "00")));
  Reader r(ByteView(frame).subspan(4));
  EXPECT_EQ(decode_controller_request_header(r).value(), h);
  EXPECT_EQ(decode<BrokerHeartbeatRequest>(r, 1).value(), heartbeat());

  Bytes resp = encode_controller_response_frame(1, 11, BrokerHeartbeatResponse{}).value();
  EXPECT_EQ(to_hex(resp), to_hex(hex("0000000f"  // size 15
                                     "0000000b"  // correlation_id 11
                                     "00 |"      // header v1: no tagged fields
                                     "00000000 0000 00 01 00 00")));
}

// The apis of messages_controller.h (kControllerApis also holds the quorum's).
constexpr std::array kBrokerToControllerApis = {
    ControllerApiKey::AlterPartition, ControllerApiKey::BrokerRegistration,
    ControllerApiKey::BrokerHeartbeat, ControllerApiKey::UnregisterBroker,
    ControllerApiKey::AllocateProducerIds};

TEST(ControllerApi, FramesOfEveryVersion) {
  for (ApiKey key : kBrokerToControllerApis) {
    const ApiInfo* api = find_controller_api(key);
    ASSERT_NE(api, nullptr) << static_cast<int16_t>(key);
    for (int16_t v = api->min_version; v <= api->max_version; ++v) {
      visit_controller_api(key, [&](auto traits) {
        using T = decltype(traits);
        RequestHeader h{.api_key = key, .api_version = v, .correlation_id = 1000 + v};
        Bytes frame = encode_controller_request_frame(h, typename T::Request{}).value();
        Bytes body = encode_to_bytes(typename T::Request{}, v).value();
        // Header v2: key, version, correlation id, null client id, empty tagged section.
        EXPECT_EQ(to_hex(frame),
                  to_hex(hex(fmt::format("{:08x} {:04x} {:04x} {:08x} ffff 00", 11 + body.size(),
                                         static_cast<int16_t>(key), v, 1000 + v))) +
                      to_hex(body))
            << api->name << " v" << v;
        Reader r(ByteView(frame).subspan(4));
        EXPECT_EQ(decode_controller_request_header(r).value(), h);
        EXPECT_EQ(decode<typename T::Request>(r, v).value(), typename T::Request{});

        Bytes resp = encode_controller_response_frame(v, 7, typename T::Response{}).value();
        Bytes resp_body = encode_to_bytes(typename T::Response{}, v).value();
        EXPECT_EQ(to_hex(resp),
                  to_hex(hex(fmt::format("{:08x} 00000007 00", 5 + resp_body.size()))) +
                      to_hex(resp_body));
        return 0;
      });
    }
  }
}

// Request frames of every controller api, these included: RaftApi.RequestFramesRoundTrip.

TEST(ControllerApi, HeaderOfANewKeyRefusesTruncation) {
  Bytes header = hex("0040 0000 00000001 ffff 00");  // UnregisterBroker v0, header v2
  Reader whole(header);
  EXPECT_EQ(decode_controller_request_header(whole).value().api_key,
            ControllerApiKey::UnregisterBroker);
  for (size_t n = 0; n < header.size(); ++n) {
    Reader r(ByteView(header).first(n));
    EXPECT_EQ(decode_controller_request_header(r).code(), Errc::corrupt) << n;
  }
  RequestHeader wrong{.api_key = ControllerApiKey::BrokerRegistration};
  EXPECT_EQ(encode_controller_request_frame(wrong, BrokerHeartbeatRequest{}).code(),
            Errc::invalid_argument);
}

TEST(ControllerApi, Table) {
  struct Want {
    ApiKey key;
    int16_t wire;
    std::string_view name;
    int16_t max_version;
  };
  for (Want want : {Want{ControllerApiKey::AlterPartition, 56, "AlterPartition", 3},
                    Want{ControllerApiKey::BrokerRegistration, 62, "BrokerRegistration", 3},
                    Want{ControllerApiKey::BrokerHeartbeat, 63, "BrokerHeartbeat", 1},
                    Want{ControllerApiKey::UnregisterBroker, 64, "UnregisterBroker", 0},
                    Want{ControllerApiKey::AllocateProducerIds, 67, "AllocateProducerIds", 0}}) {
    EXPECT_EQ(static_cast<int16_t>(want.key), want.wire);
    const ApiInfo* api = find_controller_api(want.key);
    ASSERT_NE(api, nullptr) << want.name;
    EXPECT_EQ(api->name, want.name);
    EXPECT_EQ(api->min_version, 0) << want.name;
    EXPECT_EQ(api->max_version, want.max_version) << want.name;
    EXPECT_EQ(api->flexible_min, 0) << want.name;
    EXPECT_EQ(controller_request_header_version(want.key, 0), 2) << want.name;
    EXPECT_EQ(controller_response_header_version(want.key, 0), 1) << want.name;
    // Never served or advertised by the broker.
    EXPECT_EQ(find_api(want.key), nullptr) << want.name;
    EXPECT_FALSE(is_supported(want.key, 0)) << want.name;
    for (const auto& entry : api_versions_response().api_keys)
      EXPECT_NE(entry.api_key, want.wire) << want.name;
  }
  // The quorum's names still work through both spellings.
  static_assert(ControllerApiKey::Vote == RaftApiKey::Vote);
  static_assert(ControllerApiKey::FetchSnapshot == RaftApiKey::FetchSnapshot);
  EXPECT_EQ(kControllerApis.size(), 10u);
}

// ---- Properties ---------------------------------------------------------------------------------

template <typename T>
class ControllerMessageCodec : public ::testing::Test {};

using ControllerMessages =
    ::testing::Types<AlterPartitionRequest, AlterPartitionResponse, BrokerRegistrationRequest,
                     BrokerRegistrationResponse, BrokerHeartbeatRequest, BrokerHeartbeatResponse,
                     UnregisterBrokerRequest, UnregisterBrokerResponse, AllocateProducerIdsRequest,
                     AllocateProducerIdsResponse>;

TYPED_TEST_SUITE(ControllerMessageCodec, ControllerMessages, testing::MessageName);
using testing::check_every_version;

// What decoding `s` encoded in ctx's version must give: the fields absent from that version at
// their defaults, nested structs alike. (The messages here have no nullable arrays of structs.)
template <Struct S>
void keep_version_fields(S& s, const detail::Context& ctx) {
  detail::for_each_field<S>([&](const auto& f) {
    using M = typename std::decay_t<decltype(f)>::Member;
    M& m = s.*(f.member);
    if (!f.present(ctx.version, ctx.flexible)) {
      m = S{}.*(f.member);
    } else if constexpr (Struct<M>) {
      keep_version_fields(m, ctx);
    } else if constexpr (detail::kIsArray<M>) {
      if constexpr (Struct<typename M::value_type>)
        for (auto& e : m) keep_version_fields(e, ctx);
    }
    return true;
  });
}

// Round trips, truncation, damage and unknown versions: MessageCodec (messages_test.cc).

TYPED_TEST(ControllerMessageCodec, FieldsAbsentFromAVersionComeBackDefault) {
  using T = TypeParam;
  check_every_version<T>("absent fields", [](int16_t v) {
    T full = testing::random_message<T>(T::max_version);
    Result<Bytes> bytes = encode_to_bytes(full, v);
    RC_ASSERT(bytes.ok());
    Result<T> back = decode<T>(*bytes, v);
    RC_ASSERT(back.ok());
    T expected = full;
    keep_version_fields(expected, detail::Context{v, is_flexible<T>(v)});
    RC_ASSERT(*back == expected);
  });
}

}  // namespace
}  // namespace gregor::kafka
