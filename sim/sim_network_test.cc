// Proves SimNetwork's contract: TCP semantics on each connection (in order, nothing lost or
// duplicated while both ends live, nothing before the connect callback, nothing after close), the
// outcomes of connect (ok, refused, timed out, unreachable), and every fault of the model:
// latency, bandwidth, fragmentation, symmetric and one-way partitions, clogs, holds, resets,
// process crash (RST) versus power loss (silence), paused receivers, the user timeout and the
// counters. A RapidCheck property drives random latency, fragmentation, clogs, holds and
// partitions and checks that every received byte stream equals the sent one once healed.
#include "sim/sim_network.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gregor::sim {
namespace {

using net::ConnectionPtr;
// The class under test; inside this file `SimNetwork` names the test fixture, so that every
// test reads SimNetwork.* in the test list.
using Net = ::gregor::sim::SimNetwork;

// One end of a connection as node code would see it.
struct Peer {
  ConnectionPtr conn;
  std::string received;
  std::optional<Status> closed;
  int data_calls = 0;
  std::vector<std::string>* log = nullptr;  // optional shared event log

  void attach(ConnectionPtr c) {
    conn = std::move(c);
    conn->set_handlers({[this](ByteView b) {
                          received += as_chars(b);
                          ++data_calls;
                          if (log) log->push_back("data");
                        },
                        [this](const Status& s) { closed = s; }});
  }
  void send(std::string_view s) { conn->send(to_bytes(s)); }
};

SimLatency fixed_latency(Duration d) {
  return SimLatency{.min = d, .median = d, .tail_probability = 0, .tail_mean = {}, .max = d};
}

class SimNetwork : public ::testing::Test {
 protected:
  SimNetwork() {
    n1 = world.add_node("n1");
    n2 = world.add_node("n2");
    n3 = world.add_node("n3");
    make_net({});
  }

  void make_net(Net::Options options) {
    clients.clear();
    accepted.clear();
    listeners.clear();
    net = std::make_unique<Net>(world, std::move(options));
  }

  // Listens on node:port; every accepted connection becomes a Peer in `accepted`.
  void listen(NodeId node, uint16_t port = 9092) {
    auto l = net->endpoint(node).listen({world.node_name(node), port}, [this](ConnectionPtr c) {
      accepted.push_back(std::make_unique<Peer>());
      accepted.back()->attach(std::move(c));
    });
    ASSERT_TRUE(l.ok()) << l.status().to_string();
    listeners.push_back(std::move(*l));
  }

  // Connects and runs the world until the outcome is known.
  Result<ConnectionPtr> dial(NodeId from, NodeId to, uint16_t port = 9092) {
    std::optional<Result<ConnectionPtr>> out;
    net->endpoint(from).connect({world.node_name(to), port},
                                [&](Result<ConnectionPtr> r) { out = std::move(r); });
    EXPECT_TRUE(run_until([&] { return out.has_value(); }, seconds(60)));
    if (!out) return error(Errc::cancelled, "no outcome");
    return std::move(*out);
  }

  // An established connection from -> to (which must listen): {client, server}.
  std::pair<Peer*, Peer*> connect_pair(NodeId from, NodeId to, uint16_t port = 9092) {
    size_t before = accepted.size();
    auto c = dial(from, to, port);
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    if (!c.ok()) return {nullptr, nullptr};
    clients.push_back(std::make_unique<Peer>());
    clients.back()->attach(std::move(*c));
    EXPECT_EQ(accepted.size(), before + 1);
    return {clients.back().get(), accepted.back().get()};
  }

  bool run_until(const std::function<bool()>& pred, Duration limit = seconds(10)) {
    return world.run_until(pred, world.now() + limit);
  }

  World world{World::Options{42, {}}};
  NodeId n1 = 0, n2 = 0, n3 = 0;
  std::unique_ptr<Net> net;
  std::vector<std::unique_ptr<net::Listener>> listeners;
  std::vector<std::unique_ptr<Peer>> clients;
  std::vector<std::unique_ptr<Peer>> accepted;
};

TEST_F(SimNetwork, EchoRoundTrip) {
  std::vector<ConnectionPtr> server_conns;
  auto l = net->endpoint(n2).listen({"n2", 7}, [&](ConnectionPtr c) {
    net::Connection* raw = c.get();
    c->set_handlers({[raw](ByteView b) { raw->send(Bytes(b.begin(), b.end())); }, {}});
    server_conns.push_back(std::move(c));
  });
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)->address(), (net::Address{"n2", 7}));
  auto c = dial(n1, n2, 7);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  Peer client;
  client.attach(std::move(*c));
  EXPECT_EQ(client.conn->peer_address(), (net::Address{"n2", 7}));
  MonoTime start = world.now();
  client.send("hello");
  ASSERT_TRUE(run_until([&] { return client.received == "hello"; }));
  EXPECT_GT(world.now(), start);
  EXPECT_TRUE(client.conn->is_open());
  EXPECT_EQ(client.conn->send_queue_bytes(), 0u);
  ASSERT_EQ(server_conns.size(), 1u);
  EXPECT_EQ(server_conns[0]->peer_address().host, "n1");
}

TEST_F(SimNetwork, ManySendsArriveInOrderUnderRandomLatency) {
  Net::Options o;
  o.latency = {.min = microseconds(10),
               .median = milliseconds(1),
               .tail_probability = 0.1,
               .tail_mean = milliseconds(20),
               .max = milliseconds(500)};
  make_net(o);
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  std::string up, down;
  for (int i = 0; i < 1000; ++i) {
    std::string a = "c" + std::to_string(i) + ";", b = "s" + std::to_string(i) + ";";
    up += a;
    down += b;
    // Sends spread over time, three at each instant, in both directions.
    world.after(microseconds(i / 3 * 37), kWorldNode, [client, server, a, b] {
      client->send(a);
      server->send(b);
    });
  }
  ASSERT_TRUE(run_until([&] {
    return server->received.size() == up.size() && client->received.size() == down.size();
  }));
  EXPECT_EQ(server->received, up);
  EXPECT_EQ(client->received, down);
}

TEST_F(SimNetwork, ConnectWithoutListenerIsRefused) {
  MonoTime start = world.now();
  auto c = dial(n1, n2, 1234);
  EXPECT_EQ(c.code(), Errc::connection_refused);
  EXPECT_LT(world.now() - start, milliseconds(100));  // one round trip, not a timeout
  EXPECT_EQ(net->counters().connects_refused, 1u);
}

TEST_F(SimNetwork, ConnectToCrashedNodeIsRefused) {
  listen(n2);
  net->crash(n2, /*send_reset=*/true);
  world.kill(n2);
  EXPECT_EQ(dial(n1, n2).code(), Errc::connection_refused);
  // The listener went with the process: after a restart the port is free again.
  world.revive(n2);
  EXPECT_EQ(dial(n1, n2).code(), Errc::connection_refused);
  listen(n2);
  EXPECT_TRUE(dial(n1, n2).ok());
}

TEST_F(SimNetwork, ConnectToPoweredOffNodeTimesOut) {
  listen(n2);
  net->crash(n2, /*send_reset=*/false);
  world.kill(n2);
  MonoTime start = world.now();
  EXPECT_EQ(dial(n1, n2).code(), Errc::timed_out);
  EXPECT_EQ(world.now() - start, net->options().connect_timeout);
}

TEST_F(SimNetwork, UnknownHostIsUnreachable) {
  std::optional<Result<ConnectionPtr>> out;
  net->endpoint(n1).connect({"nowhere", 1}, [&](Result<ConnectionPtr> r) { out = std::move(r); });
  EXPECT_FALSE(out.has_value());  // never inside connect()
  ASSERT_TRUE(run_until([&] { return out.has_value(); }));
  EXPECT_EQ(out->code(), Errc::unreachable);
}

TEST_F(SimNetwork, ConnectAcrossPartitionTimesOut) {
  listen(n2);
  net->partition({n1}, {n2, n3});
  MonoTime start = world.now();
  EXPECT_EQ(dial(n1, n2).code(), Errc::timed_out);
  EXPECT_EQ(world.now() - start, seconds(3));
  EXPECT_EQ(net->counters().connects_timed_out, 1u);
  net->heal({n1}, {n2, n3});
  EXPECT_TRUE(dial(n1, n2).ok());
}

TEST_F(SimNetwork, PartitionHoldsBytesThenDeliversInOrderAfterHeal) {
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  client->send("before;");
  net->partition({n1}, {n2});  // "before;" is in flight: it is held too
  std::string up = "before;", down;
  for (int i = 0; i < 100; ++i) {
    up += "u" + std::to_string(i) + ";";
    down += "d" + std::to_string(i) + ";";
    client->send("u" + std::to_string(i) + ";");
    server->send("d" + std::to_string(i) + ";");
  }
  world.run_for(seconds(30));
  EXPECT_EQ(server->received, "");
  EXPECT_EQ(client->received, "");
  EXPECT_EQ(client->conn->send_queue_bytes(), up.size());
  EXPECT_TRUE(net->is_blocked(n1, n2));
  EXPECT_GE(net->counters().stalls_partitioned, 2u);
  net->heal_all();
  ASSERT_TRUE(run_until([&] {
    return server->received.size() == up.size() && client->received.size() == down.size();
  }));
  EXPECT_EQ(server->received, up);
  EXPECT_EQ(client->received, down);
  EXPECT_FALSE(client->closed.has_value());
  EXPECT_FALSE(server->closed.has_value());
}

TEST_F(SimNetwork, OneWayBlockStopsOnlyThatDirection) {
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  net->block(n1, n2);
  EXPECT_TRUE(net->is_blocked(n1, n2));
  EXPECT_FALSE(net->is_blocked(n2, n1));
  client->send("up");
  server->send("down");
  world.run_for(seconds(5));
  EXPECT_EQ(client->received, "down");
  EXPECT_EQ(server->received, "");
  net->heal(n1, n2);
  ASSERT_TRUE(run_until([&] { return server->received == "up"; }));
}

TEST_F(SimNetwork, ClogEndsByItself) {
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  MonoTime start = world.now();
  net->clog(n2, seconds(2));
  client->send("x");
  world.run_for(seconds(1));
  EXPECT_EQ(server->received, "");
  ASSERT_TRUE(run_until([&] { return server->received == "x"; }));
  EXPECT_GE(world.now(), start + seconds(2));
  EXPECT_LT(world.now(), start + seconds(3));
  EXPECT_FALSE(net->is_blocked(n1, n2));
  EXPECT_EQ(net->counters().stalls_clogged, 1u);
}

TEST_F(SimNetwork, HoldKeepsMessagesUntilRelease) {
  Net::Options o;
  o.user_timeout = seconds(1);  // holds never time out
  make_net(o);
  std::vector<ConnectionPtr> server_conns;
  auto l = net->endpoint(n2).listen({"n2", 9092}, [&](ConnectionPtr c) {
    net::Connection* raw = c.get();
    c->set_handlers({[raw](ByteView b) { raw->send(Bytes(b.begin(), b.end())); }, {}});
    server_conns.push_back(std::move(c));
  });
  ASSERT_TRUE(l.ok());
  auto c = dial(n1, n2);
  ASSERT_TRUE(c.ok());
  Peer client;
  client.attach(std::move(*c));
  Net::HoldId h = net->hold(n2, n1);  // responses to n1 wait
  EXPECT_TRUE(net->is_held(n2, n1));
  client.send("req");
  world.run_for(seconds(20));
  EXPECT_EQ(client.received, "");
  EXPECT_FALSE(client.closed.has_value());
  EXPECT_EQ(server_conns[0]->send_queue_bytes(), 3u);  // the request got through; the echo waits
  net->release(h);
  ASSERT_TRUE(run_until([&] { return client.received == "req"; }));
  EXPECT_EQ(net->counters().stalls_held, 1u);
  EXPECT_EQ(net->counters().user_timeouts, 0u);
}

TEST_F(SimNetwork, ResetGivesConnectionResetOnBothEnds) {
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  client->send("in flight");
  EXPECT_EQ(net->reset_connection(n2, n1), 1u);
  EXPECT_FALSE(client->closed.has_value());  // callbacks come from the loop
  ASSERT_TRUE(run_until([&] { return client->closed && server->closed; }));
  EXPECT_EQ(client->closed->code(), Errc::connection_reset);
  EXPECT_EQ(server->closed->code(), Errc::connection_reset);
  EXPECT_EQ(server->received, "");  // dropped
  EXPECT_FALSE(client->conn->is_open());
  EXPECT_EQ(net->connection_count(), 0u);
  EXPECT_EQ(net->counters().resets, 2u);

  auto [c2, s2] = connect_pair(n1, n2);
  ASSERT_TRUE(c2 && s2);
  EXPECT_TRUE(net->reset_random_connection().has_value());
  ASSERT_TRUE(run_until([&] { return c2->closed && s2->closed; }));
  EXPECT_FALSE(net->reset_random_connection().has_value());
}

TEST_F(SimNetwork, ProcessCrashResetsPeersAfterInFlightData) {
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  server->send("last words");
  net->crash(n2, /*send_reset=*/true);
  world.kill(n2);
  ASSERT_TRUE(run_until([&] { return client->closed.has_value(); }));
  EXPECT_EQ(client->received, "last words");
  EXPECT_EQ(client->closed->code(), Errc::connection_reset);
  EXPECT_FALSE(server->closed.has_value());  // no callback on the dead node
  EXPECT_FALSE(server->conn->is_open());
}

TEST_F(SimNetwork, PowerLossTellsPeersNothing) {
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  server->send("lost");
  net->crash(n2, /*send_reset=*/false);
  world.kill(n2);
  client->send("into the void");
  world.run_for(seconds(120));
  EXPECT_FALSE(client->closed.has_value());
  EXPECT_TRUE(client->conn->is_open());
  EXPECT_EQ(client->received, "");
  EXPECT_EQ(client->conn->send_queue_bytes(), 13u);  // never acknowledged
  EXPECT_EQ(net->counters().stalls_vanished, 1u);
}

TEST_F(SimNetwork, PowerLossWithUserTimeoutTimesOut) {
  Net::Options o;
  o.user_timeout = seconds(10);
  make_net(o);
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  net->crash(n2, /*send_reset=*/false);
  world.kill(n2);
  MonoTime start = world.now();
  client->send("anyone?");
  ASSERT_TRUE(run_until([&] { return client->closed.has_value(); }, seconds(60)));
  EXPECT_EQ(client->closed->code(), Errc::timed_out);
  EXPECT_EQ(world.now() - start, seconds(10));
  EXPECT_EQ(net->connection_count(), 0u);
}

TEST_F(SimNetwork, UserTimeoutGivesUpAcrossPartition) {
  Net::Options o;
  o.user_timeout = seconds(5);
  make_net(o);
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  net->partition({n1}, {n2});
  client->send("stuck");
  world.run_for(seconds(6));
  ASSERT_TRUE(client->closed.has_value());
  EXPECT_EQ(client->closed->code(), Errc::timed_out);
  EXPECT_FALSE(server->closed.has_value());  // its RST waits at the partition
  net->heal_all();
  ASSERT_TRUE(run_until([&] { return server->closed.has_value(); }));
  EXPECT_EQ(server->closed->code(), Errc::connection_reset);
  EXPECT_EQ(server->received, "");
  EXPECT_EQ(net->counters().user_timeouts, 1u);
}

TEST_F(SimNetwork, FragmentationDeliversTheSameByteStream) {
  Net::Options o;
  o.fragment_probability = 1.0;
  o.coalesce = false;
  make_net(o);
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  std::string sent;
  Random rng(3);
  for (int i = 0; i < 200; ++i) {
    std::string m(rng.uniform(2, 500), 'a');
    for (char& ch : m) ch = static_cast<char>('a' + rng.uniform(0, 25));
    sent += m;
    client->send(m);
  }
  ASSERT_TRUE(run_until([&] { return server->received.size() == sent.size(); }));
  EXPECT_EQ(server->received, sent);
  EXPECT_GT(server->data_calls, 200);
  EXPECT_EQ(net->counters().fragmented, 200u);
}

TEST_F(SimNetwork, PausedNodeGetsDeliveriesAfterResume) {
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  world.pause(n2);
  client->send("one;");
  client->send("two;");
  world.run_for(seconds(5));
  EXPECT_EQ(server->received, "");
  world.resume(n2);
  ASSERT_TRUE(run_until([&] { return server->received == "one;two;"; }, milliseconds(1)));
}

// Faults that drop bytes queued for a paused node must not disturb the World's deferred events.
TEST_F(SimNetwork, ResetAndCrashWhileReceiverIsPaused) {
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  auto [client3, server3] = connect_pair(n3, n2);
  ASSERT_TRUE(client && server && client3 && server3);
  world.pause(n2);
  client->send("dropped");
  client3->send("sent before the crash");
  world.run_for(seconds(1));
  net->reset_connection(n1, n2);
  net->crash(n3, /*send_reset=*/true);
  world.kill(n3);
  world.run_for(seconds(1));
  EXPECT_EQ(client->closed->code(), Errc::connection_reset);
  EXPECT_FALSE(server->closed.has_value());
  world.resume(n2);
  ASSERT_TRUE(run_until([&] { return server->closed && server3->closed; }));
  EXPECT_EQ(server->closed->code(), Errc::connection_reset);
  EXPECT_EQ(server3->closed->code(), Errc::connection_reset);
  EXPECT_EQ(server->received, "");
  EXPECT_EQ(server3->received, "sent before the crash");  // in flight: it precedes the RST
}

TEST_F(SimNetwork, AcceptOnPausedNodeWaitsForResume) {
  listen(n2);
  world.pause(n2);
  std::optional<Result<ConnectionPtr>> out;
  net->endpoint(n1).connect({"n2", 9092}, [&](Result<ConnectionPtr> r) { out = std::move(r); });
  ASSERT_TRUE(run_until([&] { return out.has_value(); }));
  ASSERT_TRUE(out->ok());  // the kernel completes the handshake of a stopped process
  Peer client;
  client.attach(std::move(**out));
  client.send("hi");
  world.run_for(seconds(1));
  EXPECT_TRUE(accepted.empty());
  world.resume(n2);
  ASSERT_TRUE(run_until([&] { return !accepted.empty() && accepted[0]->received == "hi"; }));
}

TEST_F(SimNetwork, BandwidthLimitSlowsALargeTransfer) {
  Net::Options o;
  o.latency = fixed_latency(milliseconds(1));
  o.bandwidth_bytes_per_s = 1'000'000;
  make_net(o);
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  MonoTime start = world.now();
  for (int i = 0; i < 10; ++i) client->send(std::string(100'000, 'b'));
  ASSERT_TRUE(run_until([&] { return server->received.size() == 1'000'000; }));
  // 1 MB at 1 MB/s, plus one latency for the last byte.
  EXPECT_EQ(world.now() - start, seconds(1) + milliseconds(1));

  net->set_link_bandwidth(n1, n2, 0);  // per-link override: unlimited
  start = world.now();
  client->send(std::string(1'000'000, 'c'));
  ASSERT_TRUE(run_until([&] { return server->received.size() == 2'000'000; }));
  EXPECT_EQ(world.now() - start, milliseconds(1));
}

TEST_F(SimNetwork, OrderlyCloseDeliversDataThenClosed) {
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  client->send("abc");
  client->conn->close();
  EXPECT_FALSE(client->conn->is_open());
  client->send("ignored");
  ASSERT_TRUE(run_until([&] { return server->closed.has_value(); }));
  EXPECT_EQ(server->received, "abc");
  EXPECT_EQ(server->closed->code(), Errc::closed);
  EXPECT_FALSE(server->conn->is_open());
  EXPECT_FALSE(client->closed.has_value());
  EXPECT_EQ(net->connection_count(), 0u);
}

TEST_F(SimNetwork, NoCallbacksAfterLocalClose) {
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  server->send("too late");
  server->conn->close();
  client->conn->close();
  world.run_for(seconds(1));
  EXPECT_EQ(client->received, "");
  EXPECT_FALSE(client->closed.has_value());
  EXPECT_FALSE(server->closed.has_value());
}

TEST_F(SimNetwork, DroppedHandleClosesOrderly) {
  auto l = net->endpoint(n2).listen({"n2", 9092}, [](ConnectionPtr c) { c->send(to_bytes("x")); });
  ASSERT_TRUE(l.ok());
  auto c = dial(n1, n2);
  ASSERT_TRUE(c.ok());
  Peer client;
  client.attach(std::move(*c));
  ASSERT_TRUE(run_until([&] { return client.closed.has_value(); }));
  EXPECT_EQ(client.received, "x");
  EXPECT_EQ(client.closed->code(), Errc::closed);
}

TEST_F(SimNetwork, NothingArrivesBeforeTheConnectCallback) {
  std::vector<std::string> log;
  auto l = net->endpoint(n2).listen({"n2", 9092}, [&](ConnectionPtr c) {
    log.push_back("accept");
    c->send(to_bytes("greeting"));
    accepted.push_back(std::make_unique<Peer>());
    accepted.back()->attach(std::move(c));
  });
  ASSERT_TRUE(l.ok());
  Peer client;
  client.log = &log;
  net->endpoint(n1).connect({"n2", 9092}, [&](Result<ConnectionPtr> r) {
    ASSERT_TRUE(r.ok());
    log.push_back("connected");
    client.attach(std::move(*r));
  });
  ASSERT_TRUE(run_until([&] { return client.received == "greeting"; }));
  EXPECT_EQ(log, (std::vector<std::string>{"accept", "connected", "data"}));
}

TEST_F(SimNetwork, ListenErrors) {
  listen(n2, 9092);
  auto again = net->endpoint(n2).listen({"n2", 9092}, [](ConnectionPtr) {});
  EXPECT_EQ(again.code(), Errc::address_in_use);
  auto foreign = net->endpoint(n2).listen({"n1", 9093}, [](ConnectionPtr) {});
  EXPECT_EQ(foreign.code(), Errc::invalid_argument);
  auto any = net->endpoint(n2).listen({"n2", 0}, [](ConnectionPtr) {});
  ASSERT_TRUE(any.ok());
  EXPECT_NE((*any)->address().port, 0);
  uint16_t port = (*any)->address().port;
  EXPECT_TRUE(dial(n1, n2, port).ok());
  any->reset();  // destroying a listener stops accepting
  EXPECT_EQ(dial(n1, n2, port).code(), Errc::connection_refused);
}

TEST_F(SimNetwork, RefuseFaultRefusesConnects) {
  listen(n2);
  net->refuse_connects(n2, true);
  EXPECT_EQ(dial(n1, n2).code(), Errc::connection_refused);
  net->refuse_connects(n2, false);
  EXPECT_TRUE(dial(n1, n2).ok());
  net->options().refuse_probability = 1.0;
  EXPECT_EQ(dial(n1, n2).code(), Errc::connection_refused);
  EXPECT_EQ(net->counters().refusals_injected, 2u);
}

TEST_F(SimNetwork, CountersCount) {
  listen(n2);
  auto [client, server] = connect_pair(n1, n2);
  ASSERT_TRUE(client && server);
  client->send("12345");
  client->send("678");
  ASSERT_TRUE(run_until([&] { return server->received.size() == 8; }));
  (void)dial(n1, n3);
  client->conn->close();
  ASSERT_TRUE(run_until([&] { return server->closed.has_value(); }));
  const Net::Counters& k = net->counters();
  EXPECT_EQ(k.connects, 2u);
  EXPECT_EQ(k.connects_ok, 1u);
  EXPECT_EQ(k.accepts, 1u);
  EXPECT_EQ(k.connects_refused, 1u);
  EXPECT_EQ(k.messages_sent, 2u);
  EXPECT_EQ(k.bytes_sent, 8u);
  EXPECT_EQ(k.bytes_delivered, 8u);
  EXPECT_GE(k.deliveries, 1u);
  EXPECT_EQ(k.closes, 1u);
  EXPECT_EQ(k.eofs, 1u);
  EXPECT_EQ(k.bytes_dropped, 0u);
  net->clog(n3, seconds(1));
  net->partition({n1}, {n3});
  EXPECT_EQ(net->counters().faults, 2u);
}

// A small scenario with every kind of event; its trace hash must depend only on the seed.
uint64_t scenario_trace_hash(uint64_t seed) {
  World world(World::Options{seed, {}});
  NodeId a = world.add_node("a"), b = world.add_node("b");
  Net::Options o;
  o.fragment_probability = 0.5;
  o.trace_messages = true;
  Net net(world, o);
  std::vector<ConnectionPtr> conns;
  auto l = net.endpoint(b).listen({"b", 1}, [&](ConnectionPtr c) {
    net::Connection* raw = c.get();
    c->set_handlers({[raw](ByteView v) { raw->send(Bytes(v.begin(), v.end())); }, {}});
    conns.push_back(std::move(c));
  });
  net.endpoint(a).connect({"b", 1}, [&](Result<ConnectionPtr> r) {
    for (int i = 0; i < 50; ++i) (*r)->send(Bytes(100, static_cast<uint8_t>(i)));
    conns.push_back(std::move(*r));
  });
  world.after(milliseconds(1), kWorldNode, [&] { net.clog(a, milliseconds(300)); });
  world.run_for(seconds(5));
  return world.trace_log().hash();
}

TEST_F(SimNetwork, SameSeedSameTrace) {
  EXPECT_EQ(scenario_trace_hash(5), scenario_trace_hash(5));
  EXPECT_NE(scenario_trace_hash(5), scenario_trace_hash(6));
}

// --- property: byte streams survive latency, fragmentation, clogs, holds, partitions and pauses.

struct Stream {
  Peer* from;
  Peer* to;
  std::string sent;
};

// Opens conn_count connections between random nodes (a node may connect to itself); returns
// both directions of each.
std::vector<Stream> open_streams(World& world, Net& net, const std::vector<NodeId>& nodes,
                                 std::vector<std::unique_ptr<Peer>>& peers, Random& rng,
                                 int conn_count) {
  std::vector<Stream> streams;
  for (int i = 0; i < conn_count; ++i) {
    NodeId from = nodes[rng.uniform(0, 2)], to = nodes[rng.uniform(0, 2)];
    std::optional<Result<ConnectionPtr>> out;
    net.endpoint(from).connect({world.node_name(to), 9},
                               [&](Result<ConnectionPtr> r) { out = std::move(r); });
    RC_ASSERT(world.run_until([&] { return out.has_value(); }, world.now() + seconds(10)));
    RC_ASSERT(out->ok());
    Peer* server = peers.back().get();  // accepted at SYN arrival, before the connect callback
    peers.push_back(std::make_unique<Peer>());
    peers.back()->attach(std::move(**out));
    streams.push_back({peers.back().get(), server, ""});
    streams.push_back({server, peers.back().get(), ""});
  }
  return streams;
}

// One random step: a send (most often) or a fault.
void random_step(World& world, Net& net, const std::vector<NodeId>& nodes,
                 std::vector<Stream>& streams, std::vector<Net::HoldId>& holds, Random& rng) {
  uint64_t action = rng.uniform(0, 12);
  NodeId x = nodes[rng.uniform(0, 2)], y = nodes[rng.uniform(0, 2)];
  if (action <= 5) {
    Stream& s = streams[rng.uniform(0, streams.size() - 1)];
    std::string m(rng.uniform(1, 3000), ' ');
    for (char& ch : m) ch = static_cast<char>(rng.uniform(0, 255));
    s.sent += m;
    s.from->send(m);
  } else if (action == 6) {
    net.partition({x}, {y});
  } else if (action == 7) {
    net.block(x, y);
  } else if (action == 8) {
    net.clog(x, milliseconds(rng.uniform(0, 2000)));
  } else if (action == 9) {
    holds.push_back(net.hold(x, y));
  } else if (action == 10 && !holds.empty()) {
    net.release(holds[rng.uniform(0, holds.size() - 1)]);
  } else if (action == 11) {
    // Only the receiving side of a paused node waits: its sends come from the test driver.
    if (world.state(x) == NodeState::paused) {
      world.resume(x);
    } else {
      world.pause(x);
    }
  } else {
    net.heal(x, y);
  }
}

void byte_streams_survive_faults() {
  const auto seed = *rc::gen::arbitrary<uint64_t>();
  const auto conn_count = *rc::gen::inRange(1, 5);
  const auto steps = *rc::gen::inRange(1, 150);
  const auto fragment = *rc::gen::element(0.0, 0.3, 1.0);
  const auto coalesce = *rc::gen::arbitrary<bool>();
  World world(World::Options{seed, {}});
  std::vector<NodeId> nodes = {world.add_node("a"), world.add_node("b"), world.add_node("c")};
  Net::Options o;
  o.latency = {.min = microseconds(10),
               .median = microseconds(500),
               .tail_probability = 0.05,
               .tail_mean = milliseconds(10),
               .max = milliseconds(200)};
  o.fragment_probability = fragment;
  o.coalesce = coalesce;
  Net net(world, o);
  std::vector<std::unique_ptr<net::Listener>> listeners;
  std::vector<std::unique_ptr<Peer>> peers;
  for (NodeId n : nodes) {
    auto l = net.endpoint(n).listen({world.node_name(n), 9}, [&](ConnectionPtr c) {
      peers.push_back(std::make_unique<Peer>());
      peers.back()->attach(std::move(c));
    });
    RC_ASSERT(l.ok());
    listeners.push_back(std::move(l).value());
  }
  Random rng(seed ^ 0x5eed);
  std::vector<Stream> streams = open_streams(world, net, nodes, peers, rng, conn_count);
  std::vector<Net::HoldId> holds;
  for (int step = 0; step < steps; ++step) {
    random_step(world, net, nodes, streams, holds, rng);
    world.run_for(microseconds(rng.uniform(0, 50'000)));
  }
  net.heal_all();
  for (Net::HoldId h : holds) net.release(h);
  for (NodeId n : nodes) {
    if (world.state(n) == NodeState::paused) world.resume(n);
  }
  world.run_for(seconds(120));
  for (const Stream& s : streams) {
    RC_ASSERT(s.to->received.size() == s.sent.size());
    RC_ASSERT(s.to->received == s.sent);
    RC_ASSERT(!s.to->closed.has_value());
  }
  RC_ASSERT(net.connection_count() == static_cast<size_t>(conn_count));
  // Shows in the output how often each fault actually stopped bytes on their way.
  RC_CLASSIFY(net.counters().stalls_partitioned > 0, "partitioned");
  RC_CLASSIFY(net.counters().stalls_clogged > 0, "clogged");
  RC_CLASSIFY(net.counters().stalls_held > 0, "held");
  RC_CLASSIFY(world.counters().events_deferred > 0, "paused");
}

// Run through rc::check rather than RC_GTEST_PROP so that it lists as SimNetwork.* too.
TEST_F(SimNetwork, ByteStreamsSurviveFaults) {
  EXPECT_TRUE(rc::check("byte streams survive faults", byte_streams_survive_faults));
}

}  // namespace
}  // namespace gregor::sim
