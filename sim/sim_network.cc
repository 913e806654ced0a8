// SimNetwork, part 1: per-node views, listeners, the connect handshake, latency and bandwidth.
// Streams are in sim_network_stream.cc, faults and crashes in sim_network_faults.cc.
#include "sim/sim_network.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "base/assert.h"
#include "sim/sim_network_internal.h"

namespace gregor::sim {

using simnet::Conn;
using simnet::EndState;

struct SimNetwork::Dial {
  uint64_t conn_id = 0;
  NodeId from = 0;
  uint32_t incarnation = 0;  // of `from` when it called connect()
  NodeId to = 0;
  net::Address address;
  MonoTime started{};
  net::Network::ConnectFn done;
};

SimNetwork::SimNetwork(World& world, Options options)
    : world_(world),
      options_(std::move(options)),
      latency_rng_(world.rng("net")),
      fault_rng_(world.rng("net.fault")),
      alive_(std::make_shared<int>(0)),
      next_port_(options_.ephemeral_port_first) {}

SimNetwork::~SimNetwork() {
  // Handles held by node code may outlive us: make them inert rather than dangling.
  for (auto& [id, c] : conns_) c->net = nullptr;
  for (auto& [key, record] : listeners_) record.listener->detach();
}

net::Network& SimNetwork::endpoint(NodeId n) {
  GREGOR_ASSERT(n != kWorldNode && n <= world_.node_count(), "endpoint of unknown node {}", n);
  auto& slot = endpoints_[n];
  if (!slot) slot = std::make_unique<simnet::SimEndpoint>(*this, n);
  return *slot;
}

std::optional<NodeId> SimNetwork::node_by_name(const std::string& host) {
  // Nodes are only ever added to a World, so new names can be entered incrementally.
  for (; named_nodes_ < world_.node_count(); ++named_nodes_) {
    NodeId n = static_cast<NodeId>(named_nodes_ + 1);
    node_ids_.emplace(world_.node_name(n), n);
  }
  auto it = node_ids_.find(host);
  if (it == node_ids_.end()) return std::nullopt;
  return it->second;
}

uint16_t SimNetwork::next_ephemeral_port() {
  uint16_t port = next_port_;
  next_port_ = next_port_ == UINT16_MAX ? options_.ephemeral_port_first
                                        : static_cast<uint16_t>(next_port_ + 1);
  return port;
}

uint16_t SimNetwork::pick_listen_port(NodeId n) {
  for (uint32_t tries = 0; tries <= UINT16_MAX; ++tries) {
    uint16_t port = next_ephemeral_port();
    if (port != 0 && !listeners_.contains({n, port})) return port;
  }
  return 0;
}

Result<std::unique_ptr<net::Listener>> SimNetwork::listen(NodeId n, const net::Address& address,
                                                          net::Network::AcceptFn on_accept) {
  const std::string& name = world_.node_name(n);
  if (!on_accept) return error(Errc::invalid_argument, "listen without an accept callback");
  if (!address.host.empty() && address.host != name && address.host != "0.0.0.0" &&
      address.host != "::") {
    return errorf(Errc::invalid_argument, "cannot listen on {}: this host is {}",
                  address.to_string(), name);
  }
  uint16_t port = address.port != 0 ? address.port : pick_listen_port(n);
  if (port == 0) return errorf(Errc::address_in_use, "no free port on {}", name);
  ListenerKey key{n, port};
  if (listeners_.contains(key)) return errorf(Errc::address_in_use, "{}:{} is in use", name, port);
  uint64_t id = next_listener_id_++;
  auto listener = std::make_unique<simnet::SimListener>(this, key, id, net::Address{name, port});
  listeners_.emplace(
      key, ListenerRecord{id, listener.get(),
                          std::make_shared<net::Network::AcceptFn>(std::move(on_accept))});
  world_.trace(n, "net.listen", TraceFields().add("port", port));
  return std::unique_ptr<net::Listener>(std::move(listener));
}

void SimNetwork::unlisten(const ListenerKey& key, uint64_t id) {
  auto it = listeners_.find(key);
  // After a restart the port may belong to a new listener of the next incarnation: keep that.
  if (it == listeners_.end() || it->second.id != id) return;
  listeners_.erase(it);
  world_.trace(key.first, "net.unlisten", TraceFields().add("port", key.second));
}

void SimNetwork::connect(NodeId from, const net::Address& address, net::Network::ConnectFn done) {
  GREGOR_ASSERT(done, "connect without a callback");
  auto dial = std::make_shared<Dial>(Dial{next_conn_id_++, from, world_.incarnation(from), 0,
                                          address, world_.now(), std::move(done)});
  ++counters_.connects;
  world_.trace(from, "net.connect",
               TraceFields().add("conn", dial->conn_id).add("to", address.to_string()));
  std::optional<NodeId> to = node_by_name(address.host);
  if (!to) {
    fail_connect(dial, Errc::unreachable, world_.now());
    return;
  }
  dial->to = *to;
  post(world_.now() + sample_latency(from, *to), kWorldNode, [this, dial] { on_syn(dial); });
}

// Runs (as a world event) when the SYN reaches the target: the outcome depends on the state
// of the target and the links at that moment.
void SimNetwork::on_syn(const std::shared_ptr<Dial>& dial) {
  if (world_.state(dial->from) == NodeState::down ||
      world_.incarnation(dial->from) != dial->incarnation) {
    return;  // the connecting process died; nobody is waiting
  }
  NodeId to = dial->to;
  MonoTime reply = world_.now() + sample_latency(to, dial->from);
  MonoTime give_up = dial->started + options_.connect_timeout;
  if (is_blocked(dial->from, to) || is_blocked(to, dial->from)) {
    fail_connect(dial, Errc::timed_out, give_up);  // SYN or SYN-ACK lost until the timeout
    return;
  }
  if (world_.state(to) == NodeState::down) {
    // A crashed process leaves a running kernel that answers RST; a machine without power
    // answers nothing.
    fail_connect(dial, powered_off_.contains(to) ? Errc::timed_out : Errc::connection_refused,
                 powered_off_.contains(to) ? give_up : reply);
    return;
  }
  if (refused_nodes_.contains(to) || fault_rng_.chance(options_.refuse_probability)) {
    ++counters_.refusals_injected;
    world_.trace(kWorldNode, "net.fault",
                 TraceFields().add("fault", "refuse").add("conn", dial->conn_id));
    fail_connect(dial, Errc::connection_refused, reply);
    return;
  }
  ListenerKey key{to, dial->address.port};
  auto it = listeners_.find(key);
  if (it == listeners_.end()) {
    fail_connect(dial, Errc::connection_refused, reply);
    return;
  }
  establish(dial, key, it->second, reply);
}

void SimNetwork::fail_connect(const std::shared_ptr<Dial>& dial, Errc code, MonoTime when) {
  switch (code) {
    case Errc::connection_refused:
      ++counters_.connects_refused;
      break;
    case Errc::timed_out:
      ++counters_.connects_timed_out;
      break;
    default:
      ++counters_.connects_unreachable;
      break;
  }
  post(when, dial->from, [this, dial, code] {
    world_.trace(dial->from, "net.connect_failed",
                 TraceFields().add("conn", dial->conn_id).add("error", errc_name(code)));
    auto done = std::move(dial->done);
    done(errorf(code, "connect to {}: {}", dial->address.to_string(), errc_name(code)));
  });
}

void SimNetwork::establish(const std::shared_ptr<Dial>& dial, const ListenerKey& key,
                           const ListenerRecord& record, MonoTime handover) {
  auto c = std::make_shared<Conn>();
  c->id = dial->conn_id;
  c->net = this;
  NodeId from = dial->from;
  NodeId to = dial->to;
  net::Address client{world_.node_name(from), next_ephemeral_port()};
  net::Address server{world_.node_name(to), key.second};
  c->end[0].node = from;
  c->end[0].incarnation = dial->incarnation;
  c->end[0].local = client;
  c->end[0].peer = server;
  c->end[1].node = to;
  c->end[1].incarnation = world_.incarnation(to);
  c->end[1].local = server;
  c->end[1].peer = client;
  c->flow[0].from = c->flow[1].to = from;
  c->flow[0].to = c->flow[1].from = to;
  c->flow[0].not_before = c->flow[0].last_due = world_.now();
  // Nothing the acceptor sends may arrive before the connector holds the connection.
  c->flow[1].not_before = c->flow[1].last_due = handover;
  conns_.emplace(c->id, c);
  uint64_t id = c->id;
  // Scheduled before the accept so that, at equal times, the handover precedes anything sent
  // from the accept callback.
  post(handover, from, [this, id, dial] { complete_connect(id, dial); });
  post(world_.now(), to,
       [this, id, key, listener_id = record.id] { accept(id, key, listener_id); });
}

void SimNetwork::complete_connect(uint64_t conn_id, const std::shared_ptr<Dial>& dial) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end() || it->second->end[0].state != EndState::connecting) return;
  ConnPtr c = it->second;
  c->end[0].state = EndState::open;
  auto handle = std::make_shared<simnet::SimConnection>(c, 0);
  c->end[0].handle = handle;
  ++counters_.connects_ok;
  world_.trace(dial->from, "net.connected",
               TraceFields().add("conn", conn_id).add("local", c->end[0].local.to_string()));
  auto done = std::move(dial->done);
  done(net::ConnectionPtr(std::move(handle)));
}

void SimNetwork::accept(uint64_t conn_id, ListenerKey key, uint64_t listener_id) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end() || it->second->end[1].state != EndState::connecting) return;
  ConnPtr c = it->second;
  auto lit = listeners_.find(key);
  if (lit == listeners_.end() || lit->second.id != listener_id) {
    // The listener went away while the connection waited in its backlog: the kernel resets it.
    crash_end(*c, 1, true);
    maybe_erase(*c);
    return;
  }
  c->end[1].state = EndState::open;
  auto handle = std::make_shared<simnet::SimConnection>(c, 1);
  c->end[1].handle = handle;
  ++counters_.accepts;
  world_.trace(key.first, "net.accept",
               TraceFields().add("conn", conn_id).add("peer", c->end[1].peer.to_string()));
  // A copy: the callback may destroy its listener.
  std::shared_ptr<net::Network::AcceptFn> on_accept = lit->second.on_accept;
  (*on_accept)(std::move(handle));
}

Duration SimNetwork::sample_latency(NodeId from, NodeId to) {
  const SimLatency* l = &options_.latency;
  auto it = links_.find({from, to});
  if (it != links_.end() && it->second.latency) l = &*it->second.latency;
  double ns = static_cast<double>(to_ns(l->min));
  // Exponential with median (median - min): its mean is that over ln 2.
  double spread = static_cast<double>(to_ns(l->median - l->min));
  if (spread > 0) ns += -std::log1p(-latency_rng_.unit()) * spread / std::numbers::ln2;
  if (l->tail_probability > 0 && latency_rng_.chance(l->tail_probability)) {
    ns += -std::log1p(-latency_rng_.unit()) * static_cast<double>(to_ns(l->tail_mean));
  }
  if (l->max > Duration::zero()) ns = std::min(ns, static_cast<double>(to_ns(l->max)));
  return Duration(static_cast<int64_t>(std::max(ns, 0.0)));
}

MonoTime SimNetwork::arrival(NodeId from, NodeId to, size_t bytes) {
  MonoTime sent = world_.now();
  Link& link = links_[{from, to}];
  uint64_t bandwidth = link.bandwidth_bytes_per_s.value_or(options_.bandwidth_bytes_per_s);
  if (bandwidth > 0 && bytes > 0) {
    // Transmissions share the link one after another, whichever connection they belong to.
    MonoTime start = std::max(sent, link.busy_until);
    auto ns = static_cast<unsigned __int128>(bytes) * 1'000'000'000u / bandwidth;
    sent = start + Duration(static_cast<int64_t>(ns));
    link.busy_until = sent;
  }
  return sent + sample_latency(from, to);
}

}  // namespace gregor::sim
