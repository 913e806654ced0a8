// The simulated network: net::Network for every simulated process, with TCP semantics on each
// connection and the network fault model of DESIGN.md section 3.
//
// Addresses. A process of node n listens on Address{world.node_name(n), port}; connecting to a host
// name that is no node gives Errc::unreachable.
//
// Streams. A connection has two directions. Each is a queue of segments (data, FIN, RST) with
// delivery times: a send arrives at max(the previous arrival in that direction, the end of its
// transmission on the link + one latency sample), so bytes are never reordered, duplicated or
// lost while both ends live. Every delivery is a World event owned by the receiving node, so a
// crashed node's deliveries are dropped and a paused node's deferred by the World. Callbacks
// never run inside listen, connect, send, close or any method of this class.
//
// Link state (partitions, one-way blocks, clogs, holds) is checked when a segment arrives. A
// segment that meets a blocked link waits at it, with everything behind it in that direction,
// and is retransmitted (a new latency sample) when the link clears: bytes are held, never lost.
// Links of a node to itself are never blocked or held.
//
// Handshake. The SYN takes one latency sample; at its arrival the outcome is decided:
//   link blocked either way, or target powered off  -> timed_out, connect_timeout after connect()
//   target crashed, refuse fault, no listener         -> connection_refused, one round trip
//   otherwise: the listener's accept callback runs on the target at SYN arrival and the
//   connector's callback one latency later; nothing the acceptor sends arrives before it.
// Holds do not apply to handshakes (they are aimed at a connection's messages).
//
// Ends. close() queues a FIN after the data already sent; the peer gets on_close(Errc::closed)
// after that data. No callback of an end runs after its own close(). Dropping the last
// ConnectionPtr of an open end closes it the same way. After on_close an end is closed too.
//
// Processes. The cluster calls crash(n, send_reset) when node n's process dies, before
// destroying the node's objects (or after World::kill): destructors of a dead process's handles
// then close nothing. A process crash sends RST to every peer after the bytes it had already
// sent; a power loss sends nothing more (its bytes in flight are lost), and bytes sent to the dead
// end wait unacknowledged (send_queue_bytes grows) until Options::user_timeout, if set, gives up
// on them. Connects to a crashed node are refused, to a powered-off one they time out, until the
// node runs again and listens.
//
// Lifetime: the World must outlive the network; connections and listeners handed out may outlive
// it (they turn inert).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "base/time.h"
#include "net/network.h"
#include "sim/world.h"

namespace gregor::sim {

namespace simnet {
struct Conn;
struct Segment;
class SimConnection;
class SimListener;
class SimEndpoint;
}  // namespace simnet

// One-way latency: min + an exponential part whose median lands at `median`, plus, with
// probability tail_probability, an extra exponential part of mean tail_mean (the heavy tail);
// the total is capped at max.
struct SimLatency {
  Duration min = microseconds(50);
  Duration median = microseconds(200);
  double tail_probability = 0.001;
  Duration tail_mean = milliseconds(20);
  Duration max = seconds(1);
};

struct SimNetworkOptions {
  SimLatency latency;
  uint64_t bandwidth_bytes_per_s = 0;  // per directed link; 0 = unlimited
  Duration connect_timeout = seconds(3);
  double refuse_probability = 0;    // each connect is refused with this probability
  double fragment_probability = 0;  // each send is split into several pieces
  uint32_t fragment_pieces_max = 4;
  Duration fragment_gap_max = microseconds(100);  // between the arrivals of two pieces
  // Deliver arrived bytes of several sends in one on_data call, as a socket read would.
  bool coalesce = true;
  // Like TCP_USER_TIMEOUT: a direction whose bytes wait at a partition, clog or dead machine
  // longer than this is given up: the sender gets on_close(timed_out) and the receiver an RST
  // that travels like data. Zero: wait forever. Holds never time out.
  Duration user_timeout = Duration::zero();
  bool trace_messages = false;  // one net.deliver trace line per delivery
  uint16_t ephemeral_port_first = 32768;
};

struct SimNetworkCounters {
  uint64_t connects = 0;  // connect() calls
  uint64_t connects_ok = 0;
  uint64_t connects_refused = 0;   // every cause
  uint64_t refusals_injected = 0;  // of which by the refuse fault
  uint64_t connects_timed_out = 0;
  uint64_t connects_unreachable = 0;
  uint64_t accepts = 0;
  uint64_t closes = 0;           // close() of an open end by its process
  uint64_t eofs = 0;             // on_close(closed) delivered
  uint64_t resets = 0;           // on_close(connection_reset) delivered
  uint64_t resets_injected = 0;  // connections reset by reset_connection / reset_random_*
  uint64_t user_timeouts = 0;    // directions given up by Options::user_timeout
  uint64_t messages_sent = 0;    // send() calls with bytes on an open end
  uint64_t bytes_sent = 0;
  uint64_t deliveries = 0;  // on_data calls
  uint64_t bytes_delivered = 0;
  uint64_t bytes_dropped = 0;       // sent but discarded: resets, crashes, receiver closed
  uint64_t fragmented = 0;          // sends split into pieces
  uint64_t stalls_held = 0;         // a direction stopped at a hold
  uint64_t stalls_partitioned = 0;  // ... at a partition or one-way block
  uint64_t stalls_clogged = 0;      // ... at a clogged node
  uint64_t stalls_vanished = 0;     // ... at a powered-off peer
  uint64_t faults = 0;              // fault method calls
};

class SimNetwork {
 public:
  using Options = SimNetworkOptions;
  using Counters = SimNetworkCounters;
  using HoldId = uint64_t;

  SimNetwork(World& world, Options options = {});
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // The net::Network of node n's processes (created on first use, owned here). It may be kept
  // across restarts of n.
  net::Network& endpoint(NodeId n);

  // Node n's process died: its listeners and connections vanish with no callback on n. Peers get
  // on_close(connection_reset) after in-flight data if send_reset (process crash), else nothing
  // (power loss; connects to n then time out until n runs again).
  void crash(NodeId n, bool send_reset);

  // --- settings, changeable at any time; they apply to later draws and sends.
  Options& options() { return options_; }
  const Counters& counters() const { return counters_; }
  void set_link_latency(NodeId from, NodeId to, std::optional<SimLatency> latency);
  void set_link_bandwidth(NodeId from, NodeId to, std::optional<uint64_t> bytes_per_s);
  // Refuse every connect to n (on) or go back to Options::refuse_probability (off).
  void refuse_connects(NodeId n, bool on);

  // --- faults. Each is traced as "net.fault".
  // Resets every connection between a and b (either way): both ends get
  // on_close(connection_reset) now; bytes in flight are dropped. Returns how many.
  size_t reset_connection(NodeId a, NodeId b);
  // Resets one connection chosen at random among open ones; its id, or nullopt if none.
  std::optional<uint64_t> reset_random_connection();
  // Blocks every link between a node of a and a node of b, both ways.
  void partition(const std::vector<NodeId>& a, const std::vector<NodeId>& b);
  void block(NodeId from, NodeId to);  // one way
  void heal(NodeId from, NodeId to);   // one way: undoes block(from, to)
  void heal(const std::vector<NodeId>& a, const std::vector<NodeId>& b);  // undoes partition
  void heal_all();  // every block, partition and clog; holds stay until released
  // Blocks every link to and from n until now + duration; flow resumes by itself.
  void clog(NodeId n, Duration duration);
  // Holds every message from -> to (of established connections) until release(id).
  HoldId hold(NodeId from, NodeId to);
  void release(HoldId id);

  // --- inspection
  bool is_blocked(NodeId from, NodeId to) const;  // partition, block or clog
  bool is_held(NodeId from, NodeId to) const;
  size_t connection_count() const { return conns_.size(); }

 private:
  friend class simnet::SimConnection;
  friend class simnet::SimListener;
  friend class simnet::SimEndpoint;

  enum class Stall : uint8_t { none, held, partitioned, clogged, vanished };
  struct Link {
    std::optional<SimLatency> latency;
    std::optional<uint64_t> bandwidth_bytes_per_s;
    MonoTime busy_until{};  // end of the last transmission on this link
  };
  struct ListenerRecord {
    uint64_t id = 0;
    simnet::SimListener* listener = nullptr;
    std::shared_ptr<net::Network::AcceptFn> on_accept;
  };
  using ListenerKey = std::pair<NodeId, uint16_t>;
  using ConnPtr = std::shared_ptr<simnet::Conn>;
  struct Dial;  // a connect() under way

  // sim_network.cc: addresses, handshake, timing.
  Result<std::unique_ptr<net::Listener>> listen(NodeId n, const net::Address& address,
                                                net::Network::AcceptFn on_accept);
  void unlisten(const ListenerKey& key, uint64_t id);
  void connect(NodeId from, const net::Address& address, net::Network::ConnectFn done);
  void on_syn(const std::shared_ptr<Dial>& dial);
  void fail_connect(const std::shared_ptr<Dial>& dial, Errc code, MonoTime when);
  void establish(const std::shared_ptr<Dial>& dial, const ListenerKey& key,
                 const ListenerRecord& record, MonoTime handover);
  void complete_connect(uint64_t conn_id, const std::shared_ptr<Dial>& dial);
  void accept(uint64_t conn_id, ListenerKey key, uint64_t listener_id);
  std::optional<NodeId> node_by_name(const std::string& host);
  uint16_t pick_listen_port(NodeId n);
  uint16_t next_ephemeral_port();
  Duration sample_latency(NodeId from, NodeId to);
  MonoTime arrival(NodeId from, NodeId to, size_t bytes);  // transmission + latency
  template <typename F>
  EventId post(MonoTime when, NodeId owner, F fn);

  // sim_network_stream.cc: the two directions of a connection.
  void send_from(simnet::Conn& c, int side, Bytes data);
  void close_end(simnet::Conn& c, int side);
  void release_end(simnet::Conn& c, int side);  // the last handle was dropped
  void append(simnet::Conn& c, int side, simnet::Segment segment);
  void append_fragments(simnet::Conn& c, int side, Bytes data, MonoTime due);
  void schedule_head(simnet::Conn& c, int side);
  void deliver(uint64_t conn_id, int side, uint64_t seq);
  void deliver_terminal(const ConnPtr& c, int side);
  void stall(simnet::Conn& c, int side, Stall why);
  void start_user_timer(simnet::Conn& c, int side, Stall why);
  void retime(simnet::Conn& c, int side);
  void clear_flow(simnet::Conn& c, int side);
  void abort_end(simnet::Conn& c, int side, bool timed_out);
  void reset_conn(simnet::Conn& c);
  void on_user_timeout(uint64_t conn_id, int side);
  void maybe_erase(simnet::Conn& c);
  void restart_stalled();
  Stall link_stall(NodeId from, NodeId to) const;

  // sim_network_faults.cc
  void crash_end(simnet::Conn& c, int side, bool send_reset);
  void end_clog(NodeId n);
  void trace_fault(NodeId node, TraceFields fields);

  World& world_;
  Options options_;
  Random& latency_rng_;         // world.rng("net")
  Random& fault_rng_;           // world.rng("net.fault"): fault draws do not shift latencies
  std::shared_ptr<int> alive_;  // events check it, so none runs into a destroyed network
  Counters counters_;
  std::map<NodeId, std::unique_ptr<simnet::SimEndpoint>> endpoints_;
  std::map<std::string, NodeId> node_ids_;  // host name -> node, filled on demand
  size_t named_nodes_ = 0;                  // nodes of the World entered in node_ids_
  std::map<ListenerKey, ListenerRecord> listeners_;
  std::map<uint64_t, ConnPtr> conns_;  // by id: iteration order is creation order
  std::map<std::pair<NodeId, NodeId>, Link> links_;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  std::map<NodeId, MonoTime> clogged_until_;
  std::map<HoldId, std::pair<NodeId, NodeId>> holds_;
  std::set<NodeId> refused_nodes_;
  std::set<NodeId> powered_off_;  // crashed without reset and not yet running again
  uint64_t next_conn_id_ = 1;
  uint64_t next_listener_id_ = 1;
  HoldId next_hold_id_ = 1;
  uint16_t next_port_;
};

}  // namespace gregor::sim
