// Proves KafkaClientConnection and MetadataClient against a real broker in the simulator: the
// ApiVersions handshake picks the highest common version of every api, typed requests match their
// responses, a missing response times out and fails everything in flight with a typed error, a
// reset or refused connection is a typed error, acks=0 completes on send, and the metadata client
// finds leaders, refreshes and reconnects after the broker restarts.
#include <gtest/gtest.h>

#include "client/client_sim_testing.h"
#include "client/connection.h"
#include "client/metadata.h"
#include "net/frame_reader.h"

namespace gregor::client {
namespace {

using testing::SimBrokerWorld;
namespace k = kafka;

std::shared_ptr<KafkaClientConnection> connect(SimBrokerWorld& w, ConnectionConfig config = {}) {
  auto conn =
      std::make_shared<KafkaClientConnection>(w.client_env(), net::Address{"broker", 9092}, config);
  std::optional<Status> done;
  conn->connect([&](const Status& s) { done = s; });
  EXPECT_TRUE(w.wait(done));
  EXPECT_TRUE(done && done->ok()) << (done ? done->to_string() : "");
  return conn;
}

TEST(Connection, HandshakeNegotiatesTheHighestCommonVersions) {
  SimBrokerWorld w;
  auto conn = connect(w);
  ASSERT_TRUE(conn->ready());
  EXPECT_EQ(conn->version(k::ApiKey::Produce), 7);
  EXPECT_EQ(conn->version(k::ApiKey::Fetch), 11);
  EXPECT_EQ(conn->version(k::ApiKey::Metadata), 6);
  EXPECT_EQ(conn->version(k::ApiKey::ListOffsets), 3);
  EXPECT_EQ(conn->version(k::ApiKey::ApiVersions), 3);
  EXPECT_EQ(conn->version(k::ApiKey::JoinGroup), 5);
  EXPECT_EQ(conn->version(k::ApiKey::OffsetFetch), 5);
}

// A broker that serves only ApiVersions and Metadata (an old or a partial implementation).
struct MetadataOnlyBroker final : sim::Service {
  explicit MetadataOnlyBroker(Env& env) {
    auto l = env.network.listen({"old", 9092}, [this](net::ConnectionPtr c) { accept(c); });
    EXPECT_TRUE(l.ok()) << l.status();
    if (l.ok()) listener = std::move(l).value();
  }
  void accept(net::ConnectionPtr c) {
    conns.push_back(c);
    auto reader = std::make_shared<net::FrameReader>(1 << 20);
    // `conns` owns the connection; its handler must not (a cycle would leak it).
    net::Connection* raw = c.get();
    c->set_handlers({[raw, reader](ByteView data) {
                       reader->feed(data);
                       while (true) {
                         auto frame = reader->next();
                         if (!frame.ok() || !*frame) return;
                         Reader r(**frame);
                         auto h = k::decode_request_header(r);
                         if (!h.ok() || h->api_key != k::ApiKey::ApiVersions) return raw->close();
                         k::ApiVersionsResponse resp;
                         resp.api_keys = {{static_cast<int16_t>(k::ApiKey::ApiVersions), 0, 3},
                                          {static_cast<int16_t>(k::ApiKey::Metadata), 0, 6}};
                         auto out = k::encode_response_frame(k::ApiKey::ApiVersions, h->api_version,
                                                             h->correlation_id, resp);
                         if (out.ok()) raw->send(std::move(out).value());
                       }
                     },
                     [](const Status&) {}});
  }
  std::unique_ptr<net::Listener> listener;
  std::vector<net::ConnectionPtr> conns;
};

TEST(Connection, AnApiTheBrokerDoesNotServeFailsInSendsCallback) {
  SimBrokerWorld w;
  w.cluster().add_process("old",
                          [](Env& env) { return std::make_unique<MetadataOnlyBroker>(env); });
  auto conn = std::make_shared<KafkaClientConnection>(w.client_env(), net::Address{"old", 9092},
                                                      ConnectionConfig{});
  std::optional<Status> done;
  conn->connect([&](const Status& s) { done = s; });
  ASSERT_TRUE(w.wait(done));
  ASSERT_TRUE(done->ok()) << *done;
  EXPECT_EQ(conn->version(k::ApiKey::Metadata), 6);
  // Nothing in common for the group apis, and send() says so.
  EXPECT_EQ(conn->version(k::ApiKey::JoinGroup), std::nullopt);
  std::optional<Result<k::HeartbeatResponse>> hb;
  conn->send(k::HeartbeatRequest{}, [&](Result<k::HeartbeatResponse> r) { hb = std::move(r); });
  EXPECT_FALSE(hb.has_value());  // never inside send()
  ASSERT_TRUE(w.wait(hb));
  EXPECT_EQ(hb->code(), Errc::invalid_argument);
}

// Found by the Admin's lost-response test: the metadata client handed a ready connection to a
// callback, the link closed before it ran, and the callback's send() on the closed connection was
// the last reference to it; the refusal was scheduled under the connection's own liveness token
// and never ran, so a metadata refresh stayed "in progress" forever.
TEST(Connection, ASendRefusedByAClosedConnectionFailsEvenIfTheConnectionIsGone) {
  SimBrokerWorld w;
  auto conn = connect(w);
  conn->close();
  std::optional<Result<k::MetadataResponse>> got;
  conn->send(k::MetadataRequest{}, [&](Result<k::MetadataResponse> r) { got = std::move(r); });
  conn.reset();  // the caller held the last reference
  ASSERT_TRUE(w.wait(got));
  EXPECT_EQ(got->code(), Errc::closed);
}

TEST(Connection, PipelinedRequestsGetTheirOwnResponses) {
  SimBrokerWorld w;
  auto conn = connect(w);
  std::vector<std::string> order;
  for (int i = 0; i < 5; ++i) {
    k::MetadataRequest req;
    req.topics.emplace();
    req.topics->push_back({"topic" + std::to_string(i)});
    req.allow_auto_topic_creation = false;
    conn->send(req, [&order, i](Result<k::MetadataResponse> r) {
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->topics.size(), 1u);
      EXPECT_EQ(r->topics[0].name, "topic" + std::to_string(i));
      order.push_back(r->topics[0].name);
    });
  }
  EXPECT_EQ(conn->in_flight(), 5u);
  ASSERT_TRUE(w.run_until([&] { return order.size() == 5; }));
  EXPECT_EQ(order, (std::vector<std::string>{"topic0", "topic1", "topic2", "topic3", "topic4"}));
}

TEST(Connection, AMissingResponseTimesOutAndFailsEverythingInFlight) {
  SimBrokerWorld w;
  ConnectionConfig config;
  config.request_timeout_ms = seconds(2);
  auto conn = connect(w, config);
  std::optional<Status> closed;
  conn->set_on_close([&](const Status& s) { closed = s; });
  auto hold = w.network().hold(w.broker_node(), w.client_node());
  std::vector<Errc> errors;
  for (int i = 0; i < 3; ++i) {
    conn->send(k::MetadataRequest{},
               [&](Result<k::MetadataResponse> r) { errors.push_back(r.code()); });
  }
  ASSERT_TRUE(w.wait(closed));
  EXPECT_EQ(closed->code(), Errc::timed_out);
  EXPECT_EQ(errors, (std::vector<Errc>{Errc::timed_out, Errc::timed_out, Errc::timed_out}));
  EXPECT_TRUE(conn->closed());
  w.network().release(hold);
}

TEST(Connection, AResetFailsPendingRequestsWithConnectionReset) {
  SimBrokerWorld w;
  auto conn = connect(w);
  std::optional<Status> closed;
  conn->set_on_close([&](const Status& s) { closed = s; });
  std::optional<Errc> failed;
  // A fetch that waits at the broker, so it is in flight when the reset comes.
  k::FetchRequest fetch;
  fetch.max_wait_ms = 10000;
  fetch.min_bytes = 1;
  conn->send(fetch, [&](Result<k::FetchResponse> r) { failed = r.code(); });
  w.world().run_for(milliseconds(5));
  EXPECT_EQ(w.network().reset_connection(w.client_node(), w.broker_node()), 1u);
  ASSERT_TRUE(w.wait(failed));
  EXPECT_EQ(*failed, Errc::connection_reset);
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->code(), Errc::connection_reset);
  // Sending on an ended connection is a typed error too.
  std::optional<Errc> after;
  conn->send(k::MetadataRequest{}, [&](Result<k::MetadataResponse> r) { after = r.code(); });
  ASSERT_TRUE(w.wait(after));
  EXPECT_EQ(*after, Errc::closed);
}

TEST(Connection, RefusedAndUnreachable) {
  SimBrokerWorld w;
  w.crash_broker();
  KafkaClientConnection refused(w.client_env(), {"broker", 9092}, {});
  std::optional<Status> r1;
  refused.connect([&](const Status& s) { r1 = s; });
  ASSERT_TRUE(w.wait(r1));
  EXPECT_EQ(r1->code(), Errc::connection_refused);
  KafkaClientConnection nowhere(w.client_env(), {"nosuchhost", 9092}, {});
  std::optional<Status> r2;
  nowhere.connect([&](const Status& s) { r2 = s; });
  ASSERT_TRUE(w.wait(r2));
  EXPECT_EQ(r2->code(), Errc::unreachable);
}

TEST(Connection, CloseByTheOwnerRunsNoCallback) {
  SimBrokerWorld w;
  auto conn = connect(w);
  bool called = false;
  conn->set_on_close([&](const Status&) { called = true; });
  conn->send(k::MetadataRequest{}, [&](Result<k::MetadataResponse>) { called = true; });
  conn->close();
  w.world().run_for(seconds(1));
  EXPECT_FALSE(called);
}

TEST(Connection, AcksZeroProduceCompletesOnSend) {
  SimBrokerWorld w;
  auto conn = connect(w);
  log::BatchBuilder builder({});
  Bytes value = testing::bytes_of("fire and forget");
  builder.add(0, std::nullopt, ByteView(value));
  k::ProduceRequest req;
  req.acks = 0;
  req.timeout_ms = 1000;
  req.topic_data.push_back({"t0", {{0, builder.build().value()}}});
  std::optional<Result<k::ProduceResponse>> resp;
  conn->send(req, [&](Result<k::ProduceResponse> r) { resp = std::move(r); });
  ASSERT_TRUE(w.wait(resp));
  ASSERT_TRUE(resp->ok()) << resp->status();
  EXPECT_TRUE((*resp)->responses.empty());
  EXPECT_EQ(conn->in_flight(), 0u);
}

TEST(MetadataClient, FindsLeadersAndRefreshesAfterTheBrokerRestarts) {
  SimBrokerWorld w;
  CommonConfig config;
  config.bootstrap_servers = w.bootstrap();
  MetadataClient metadata(w.client_env(), config);
  int changes = 0;
  metadata.set_on_change([&] { ++changes; });
  metadata.track({"orders"});  // auto-created by the broker (num.partitions = 1)
  std::optional<Status> refreshed;
  metadata.refresh([&](const Status& s) { refreshed = s; });
  ASSERT_TRUE(w.wait(refreshed));
  ASSERT_TRUE(refreshed->ok()) << *refreshed;
  ASSERT_TRUE(w.run_until([&] { return metadata.leader({"orders", 0}).has_value(); }));
  EXPECT_EQ(metadata.leader({"orders", 0}), 0);
  EXPECT_EQ(metadata.leader({"orders", 1}), std::nullopt);
  EXPECT_EQ(metadata.broker_address(0), (net::Address{"broker", 9092}));
  EXPECT_GT(changes, 0);

  // The connection ends with the broker; the client reconnects to the restarted one.
  auto conn = metadata.ready_connection(0);
  ASSERT_NE(conn, nullptr);
  w.crash_broker();
  ASSERT_TRUE(w.run_until([&] { return conn->closed(); }));
  ASSERT_TRUE(w.restart_broker());
  std::optional<Result<MetadataClient::ConnectionPtr>> again;
  metadata.connection_to(0, [&](Result<MetadataClient::ConnectionPtr> r) { again = r; });
  ASSERT_TRUE(w.wait(again));
  ASSERT_TRUE(again->ok()) << again->status();
  EXPECT_NE(again->value(), conn);
  EXPECT_TRUE(again->value()->ready());
}

}  // namespace
}  // namespace gregor::client
