// RpcChannel and RpcServer over the simulated network: answers leave in request order whatever
// order the handler answers in; a controller api and a broker api travel on the same connection;
// a request without an answer times out and fails everything in flight; a peer that is down
// fails at once and is not retried before the backoff; a frame the server cannot read closes the
// connection (the requests in flight fail, the next send reconnects).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "client/client_sim_testing.h"
#include "node/kafka/messages_raft.h"
#include "node/rpc/rpc_channel.h"
#include "node/rpc/rpc_server.h"
#include "sim/cluster.h"

namespace gregor::rpc {
namespace {

using client::testing::ClientHost;

constexpr uint16_t kPort = 9093;

// A server that holds every Vote request and answers them when told, and answers ApiVersions
// at once.
struct EchoServer final : sim::Service {
  explicit EchoServer(Env& env)
      : server(env, [this](const kafka::RequestHeader& h, Reader& body, Responder r) {
          if (h.api_key == kafka::ApiKey::ApiVersions) {
            return r.reply(kafka::api_versions_response());
          }
          if (h.api_key != kafka::RaftApiKey::Vote) return r.close_connection();
          auto req = kafka::decode<kafka::VoteRequest>(body, h.api_version);
          EXPECT_TRUE(req.ok());
          held.push_back(
              {req.ok() ? req->topics[0].partitions[0].candidate_epoch : -1, std::move(r)});
        }) {
    EXPECT_TRUE(server.listen(net::Address{"server", kPort}).ok());
  }
  // Answers the held request i with its own epoch as the responder's epoch.
  void answer(size_t i) {
    kafka::VoteResponse resp;
    kafka::VoteResponse::PartitionData pd;
    pd.leader_epoch = held[i].first;
    kafka::VoteResponse::TopicData td;
    td.topic_name = "__cluster_metadata";
    td.partitions.push_back(pd);
    resp.topics.push_back(td);
    held[i].second.reply(resp);
  }
  RpcServer server;
  std::vector<std::pair<int32_t, Responder>> held;
};

class RpcWorld {
 public:
  RpcWorld() : cluster_(options()) {
    server_ =
        cluster_.add_process("server", [](Env& env) { return std::make_unique<EchoServer>(env); });
    client_ =
        cluster_.add_process("client", [](Env& env) { return std::make_unique<ClientHost>(env); });
  }
  EchoServer* server() { return cluster_.service_as<EchoServer>(server_); }
  Env& client_env() { return cluster_.service_as<ClientHost>(client_)->env; }
  sim::Cluster& cluster() { return cluster_; }
  sim::NodeId server_node() const { return server_; }
  bool run_until(const std::function<bool()>& pred, Duration timeout = seconds(30)) {
    return cluster_.world().run_until(pred, cluster_.world().now() + timeout);
  }
  void run_for(Duration d) { cluster_.world().run_for(d); }

 private:
  static sim::Cluster::Options options() {
    sim::Cluster::Options o;
    o.seed = 7;
    return o;
  }
  sim::Cluster cluster_;
  sim::NodeId server_ = 0;
  sim::NodeId client_ = 0;
};

kafka::VoteRequest vote(int32_t epoch) {
  kafka::VoteRequest req;
  kafka::VoteRequest::PartitionData pd;
  pd.candidate_epoch = epoch;
  pd.candidate_id = 1;
  kafka::VoteRequest::TopicData td;
  td.topic_name = "__cluster_metadata";
  td.partitions.push_back(pd);
  req.topics.push_back(td);
  return req;
}

TEST(Rpc, AnswersLeaveInRequestOrderWhateverOrderTheHandlerAnswersIn) {
  RpcWorld w;
  RpcChannel ch(w.client_env(), net::Address{"server", kPort});
  std::vector<int32_t> got;
  for (int32_t epoch : {10, 11, 12}) {
    ch.send(vote(epoch), 0, [&](Result<kafka::VoteResponse> r) {
      ASSERT_TRUE(r.ok()) << r.status();
      got.push_back(r->topics[0].partitions[0].leader_epoch);
    });
  }
  // A broker api on the same connection, answered at once by the handler but sent after the
  // votes: it must wait for them.
  std::optional<Result<kafka::ApiVersionsResponse>> versions;
  ch.send(kafka::ApiVersionsRequest{}, 0,
          [&](Result<kafka::ApiVersionsResponse> r) { versions = std::move(r); });
  ASSERT_TRUE(w.run_until([&] { return w.server()->held.size() == 3; }));
  w.server()->answer(2);
  w.server()->answer(0);
  w.run_for(milliseconds(100));
  EXPECT_EQ(got, (std::vector<int32_t>{10}));  // 1 holds back 2 and the ApiVersions answer
  EXPECT_FALSE(versions.has_value());
  w.server()->answer(1);
  ASSERT_TRUE(w.run_until([&] { return versions.has_value(); }));
  EXPECT_EQ(got, (std::vector<int32_t>{10, 11, 12}));
  ASSERT_TRUE(versions->ok());
  EXPECT_FALSE((*versions)->api_keys.empty());
}

TEST(Rpc, RequestWithoutAnswerTimesOutAndFailsEverythingInFlight) {
  RpcWorld w;
  RpcChannelConfig cfg;
  cfg.request_timeout = seconds(2);
  RpcChannel ch(w.client_env(), net::Address{"server", kPort}, cfg);
  std::vector<Status> failed;
  for (int32_t epoch : {1, 2}) {
    ch.send(vote(epoch), 0, [&](Result<kafka::VoteResponse> r) { failed.push_back(r.status()); });
  }
  ASSERT_TRUE(w.run_until([&] { return failed.size() == 2; }, seconds(10)));
  EXPECT_EQ(failed[0].code(), Errc::timed_out);
  EXPECT_EQ(failed[1].code(), Errc::timed_out);
  EXPECT_FALSE(ch.connected());
  // The next request reconnects and is answered.
  std::optional<Result<kafka::VoteResponse>> again;
  ch.send(vote(3), 0, [&](Result<kafka::VoteResponse> r) { again = std::move(r); });
  ASSERT_TRUE(w.run_until([&] { return w.server()->held.size() == 3; }));
  w.server()->answer(2);
  ASSERT_TRUE(w.run_until([&] { return again.has_value(); }));
  EXPECT_TRUE(again->ok());
}

TEST(Rpc, DownPeerFailsFastAndIsNotRetriedBeforeTheBackoff) {
  RpcWorld w;
  w.cluster().crash(w.server_node());
  RpcChannelConfig cfg;
  cfg.reconnect_backoff = seconds(1);
  RpcChannel ch(w.client_env(), net::Address{"server", kPort}, cfg);
  std::optional<Status> first;
  ch.send(vote(1), 0, [&](Result<kafka::VoteResponse> r) { first = r.status(); });
  ASSERT_TRUE(w.run_until([&] { return first.has_value(); }, seconds(10)));
  EXPECT_FALSE(first->ok());
  std::optional<Status> second;
  ch.send(vote(2), 0, [&](Result<kafka::VoteResponse> r) { second = r.status(); });
  ASSERT_TRUE(w.run_until([&] { return second.has_value(); }, milliseconds(1)));
  EXPECT_EQ(second->code(), Errc::unreachable) << *second;
}

TEST(Rpc, UnreadableRequestClosesTheConnection) {
  RpcWorld w;
  RpcChannel ch(w.client_env(), net::Address{"server", kPort});
  std::optional<Status> held;
  ch.send(vote(1), 0, [&](Result<kafka::VoteResponse> r) { held = r.status(); });
  ASSERT_TRUE(w.run_until([&] { return w.server()->held.size() == 1; }));
  // EndQuorumEpoch is a controller api this handler refuses: it closes the connection, which
  // fails the vote still in flight on it.
  std::optional<Status> refused;
  ch.send(kafka::EndQuorumEpochRequest{}, 0,
          [&](Result<kafka::EndQuorumEpochResponse> r) { refused = r.status(); });
  ASSERT_TRUE(w.run_until([&] { return refused.has_value() && held.has_value(); }));
  EXPECT_FALSE(refused->ok());
  EXPECT_FALSE(held->ok());
  // The late answer to the first request goes nowhere (its connection ended) and hurts nobody.
  w.server()->answer(0);
  w.run_for(milliseconds(100));
}

}  // namespace
}  // namespace gregor::rpc
