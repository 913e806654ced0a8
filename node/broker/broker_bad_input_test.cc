// Proves the broker survives bad input on one connection without harm to others: an oversized
// frame, garbage, a truncated frame, an unknown API, an unserved version and a malformed body
// each close only the offending connection (or leave it waiting for the rest of a frame), and
// another connection keeps being served. Requests beyond queued.max.requests wait their turn
// (backpressure, as Kafka's), and only a backlog past socket.request.max.bytes closes.
#include <gtest/gtest.h>

#include "node/broker/broker_test_util.h"

namespace gregor::broker {
namespace {

using testing::BrokerHarness;
namespace k = kafka;

Bytes frame_of(ByteView payload) {
  Bytes out;
  Writer w(out);
  w.be<int32_t>(static_cast<int32_t>(payload.size()));
  w.bytes(payload);
  return out;
}

Bytes header_only(int16_t api, int16_t version, int32_t correlation) {
  Bytes out;
  Writer w(out);
  w.be<int16_t>(api);
  w.be<int16_t>(version);
  w.be<int32_t>(correlation);
  w.be<int16_t>(-1);  // null client id
  return out;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(h.start().ok()); }
  // Sends bytes on a fresh connection and reports whether the broker closed it.
  bool closes(Bytes bytes) {
    EXPECT_TRUE(h.connect().ok());
    h.send_raw(std::move(bytes));
    h.run([&] { return !h.connected(); }, seconds(5));
    bool closed = !h.connected();
    // Whatever happened, a new connection is served.
    EXPECT_TRUE(h.connect().ok());
    auto ok = h.call(3, k::ApiVersionsRequest{"after", "1"});
    EXPECT_TRUE(ok.ok()) << ok.status();
    return closed;
  }
  BrokerHarness h{"\"socket.request.max.bytes\" = 4096\n\"queued.max.requests\" = 4\n"};
};

TEST_F(BadInputTest, OversizedFrameClosesTheConnection) {
  Bytes big(5000, 0x42);
  EXPECT_TRUE(closes(frame_of(big)));
  Bytes negative = {0xff, 0xff, 0xff, 0xf0};
  EXPECT_TRUE(closes(negative));
}

TEST_F(BadInputTest, GarbageClosesTheConnection) {
  Bytes garbage = {0x01, 0x02};
  EXPECT_TRUE(closes(frame_of(garbage)));
  Random rng(7);
  for (int i = 0; i < 50; ++i) {
    Bytes noise(static_cast<size_t>(rng.uniform(2, 300)));  // room for the api key
    for (auto& b : noise) b = static_cast<uint8_t>(rng.next_u64());
    noise[0] = 0;  // a known api key (0..31) with a random version and body
    noise[1] = static_cast<uint8_t>(noise[1] % 32);
    closes(frame_of(noise));  // answered or closed; the broker goes on either way
  }
  EXPECT_GT(h.broker().counters().bad_requests, 0u);
}

TEST_F(BadInputTest, UnknownApiAndUnservedVersionCloseTheConnection) {
  EXPECT_TRUE(closes(frame_of(header_only(999, 0, 1))));
  EXPECT_TRUE(closes(frame_of(header_only(0, 99, 2))));  // Produce v99
  EXPECT_TRUE(closes(frame_of(header_only(0, 2, 3))));   // Produce v2: below what we serve
  EXPECT_TRUE(closes(frame_of(header_only(11, 0, 4))));  // JoinGroup: not served yet
}

TEST_F(BadInputTest, MalformedBodyClosesTheConnection) {
  Bytes metadata = header_only(3, 1, 5);
  Writer w(metadata);
  w.be<int32_t>(1000000);  // a topic count far beyond the bytes that follow
  EXPECT_TRUE(closes(frame_of(metadata)));
  Bytes trailing = header_only(18, 0, 6);
  trailing.push_back(0x00);  // ApiVersions v0 has an empty body
  EXPECT_TRUE(closes(frame_of(trailing)));
}

TEST_F(BadInputTest, TruncatedFrameWaitsWithoutBlockingOthers) {
  ASSERT_TRUE(h.connect().ok());
  Bytes partial = frame_of(header_only(18, 0, 7));
  partial.resize(partial.size() - 3);
  h.send_raw(partial);
  // Another client meanwhile.
  std::optional<Result<net::ConnectionPtr>> other;
  h.client_network().connect(h.broker().address(), [&](auto c) { other = c; });
  h.run([&] { return other.has_value(); });
  ASSERT_TRUE(other && other->ok());
  bool answered = false;
  (**other)->set_handlers({[&](ByteView) { answered = true; }, [](const Status&) {}});
  kafka::RequestHeader hdr{k::ApiKey::ApiVersions, 0, 1, "other"};
  (**other)->send(kafka::encode_request_frame(hdr, k::ApiVersionsRequest{}).value());
  h.run([&] { return answered; }, seconds(5));
  EXPECT_TRUE(answered);
  EXPECT_TRUE(h.connected()) << "a partial frame is not an error: the rest may come";
  (**other)->close();
}

k::FetchRequest waiting_fetch(int32_t max_wait_ms) {
  k::FetchRequest wait;
  wait.max_wait_ms = max_wait_ms;
  wait.min_bytes = 1;
  wait.max_bytes = 1 << 20;
  wait.topics.push_back({"t", {{0, -1, 0, -1, 1 << 20}}});
  return wait;
}

void create_topic_t(BrokerHarness& h) {
  k::CreateTopicsRequest req;
  req.topics.push_back({"t", 1, 1, {}, {}});
  ASSERT_TRUE(h.call(4, req).ok());
}

TEST_F(BadInputTest, RequestsBeyondQueuedMaxWaitTheirTurn) {
  create_topic_t(h);
  ASSERT_TRUE(h.connect().ok());
  // Fetches of an empty log wait out max_wait_ms: the first four fill queued.max.requests = 4,
  // the last two are read and wait until answers go out, on a connection that stays open.
  MonoTime start = h.world().now();
  for (int i = 0; i < 6; ++i) h.send(11, waiting_fetch(300));
  h.run([&] { return h.responses_waiting() == 4 || !h.connected(); }, seconds(5));
  ASSERT_TRUE(h.connected());
  EXPECT_GE(h.world().now() - start, milliseconds(300));
  EXPECT_EQ(h.responses_waiting(), 4u);
  h.run([&] { return h.responses_waiting() == 6 || !h.connected(); }, seconds(5));
  ASSERT_TRUE(h.connected());
  EXPECT_EQ(h.responses_waiting(), 6u);
  EXPECT_GE(h.world().now() - start, milliseconds(600)) << "the fifth waited for a slot";
  EXPECT_TRUE(h.call(0, k::ApiVersionsRequest{}).ok());
}

TEST_F(BadInputTest, WaitingRequestsPastTheByteLimitCloseTheConnection) {
  create_topic_t(h);
  ASSERT_TRUE(h.connect().ok());
  for (int i = 0; i < 4; ++i) h.send(11, waiting_fetch(60000));
  // Behind the four in flight, up to 2 x socket.request.max.bytes (2 x 4096) may wait.
  for (int i = 0; i < 2; ++i) h.send_raw(frame_of(Bytes(3000, 0)));
  h.run_for(milliseconds(100));
  EXPECT_TRUE(h.connected()) << "6 KB waiting is within the limit";
  h.send_raw(frame_of(Bytes(3000, 0)));
  h.run([&] { return !h.connected(); }, seconds(5));
  EXPECT_FALSE(h.connected());
  EXPECT_TRUE(h.connect().ok());
  EXPECT_TRUE(h.call(0, k::ApiVersionsRequest{}).ok());
}

}  // namespace
}  // namespace gregor::broker
