// Internals of SimNetwork shared by its .cc files: the state of one connection and the objects
// handed to node code (connection ends, listeners, per-node network views). Not for other users.
#pragma once

#include <deque>
#include <memory>

#include "base/bytes.h"
#include "net/network.h"
#include "sim/sim_network.h"

namespace gregor::sim::simnet {

enum class EndState : uint8_t {
  connecting,  // handshake under way: the process holds no handle yet
  open,
  closed,    // closed by its process, or its on_close was delivered
  crashed,   // its process died and the kernel sent RST
  vanished,  // its machine lost power: nothing ever answers for it
};

inline bool is_live(EndState s) {
  return s == EndState::connecting || s == EndState::open;
}

struct Segment {
  enum class Kind : uint8_t { data, fin, reset, timeout };
  Kind kind = Kind::data;
  bool local = false;  // raised at the receiving end itself (fault, timeout): ignores link state
  MonoTime due{};
  Bytes bytes;
};

// One direction of a connection.
struct Flow {
  NodeId from = 0;
  NodeId to = 0;
  std::deque<Segment> queue;  // in stream order, due times non-decreasing
  size_t queued_bytes = 0;    // data bytes in queue
  MonoTime last_due{};        // due time of the last segment appended
  MonoTime not_before{};      // nothing arrives earlier (the receiver's handover time)
  // The delivery of the head: an event owned by the receiving node. It is never cancelled (the
  // World may hold it deferred for a paused node); it is retired by bumping event_seq instead.
  bool event_pending = false;
  uint64_t event_seq = 0;
  EventId user_timer = kNoEvent;
  bool stalled = false;  // the head waits for its link to clear (no event then)
  bool sealed = false;   // a FIN or RST is queued (or the sender is gone): nothing may follow
};

struct End {
  NodeId node = 0;
  uint32_t incarnation = 0;
  net::Address local;
  net::Address peer;
  EndState state = EndState::connecting;
  std::weak_ptr<SimConnection> handle;
};

struct Conn {
  uint64_t id = 0;
  SimNetwork* net = nullptr;  // cleared when the network goes away
  End end[2];                 // 0: the connecting side, 1: the accepting side
  Flow flow[2];               // flow[i] carries bytes from end[i] to end[1 - i]
};

class SimConnection final : public net::Connection {
 public:
  SimConnection(std::shared_ptr<Conn> conn, int side) : conn_(std::move(conn)), side_(side) {}
  ~SimConnection() override;

  void set_handlers(Handlers handlers) override;
  void send(Bytes data) override;
  void close() override;
  bool is_open() const override { return conn_->end[side_].state == EndState::open; }
  size_t send_queue_bytes() const override { return conn_->flow[side_].queued_bytes; }
  const net::Address& peer_address() const override { return conn_->end[side_].peer; }

  // From SimNetwork, in an event owned by this end's node.
  void deliver_data(ByteView data);
  void deliver_close(const Status& status);

 private:
  std::shared_ptr<Conn> conn_;
  int side_;
  std::shared_ptr<Handlers> handlers_;  // shared so that a running callback outlives a swap
};

class SimListener final : public net::Listener {
 public:
  SimListener(SimNetwork* net, std::pair<NodeId, uint16_t> key, uint64_t id, net::Address address)
      : net_(net), key_(key), id_(id), address_(std::move(address)) {}
  ~SimListener() override {
    if (net_) net_->unlisten(key_, id_);
  }
  net::Address address() const override { return address_; }
  void detach() { net_ = nullptr; }

 private:
  SimNetwork* net_;
  std::pair<NodeId, uint16_t> key_;
  uint64_t id_;
  net::Address address_;
};

class SimEndpoint final : public net::Network {
 public:
  SimEndpoint(SimNetwork& net, NodeId node) : net_(net), node_(node) {}
  Result<std::unique_ptr<net::Listener>> listen(const net::Address& address,
                                                AcceptFn on_accept) override {
    return net_.listen(node_, address, std::move(on_accept));
  }
  void connect(const net::Address& address, ConnectFn done) override {
    net_.connect(node_, address, std::move(done));
  }

 private:
  SimNetwork& net_;
  NodeId node_;
};

}  // namespace gregor::sim::simnet

namespace gregor::sim {

// Every event of the network goes through post(): the token makes events that outlive the
// network into no-ops instead of calls into freed memory.
template <typename F>
EventId SimNetwork::post(MonoTime when, NodeId owner, F fn) {
  return world_.at(when, owner, [alive = std::weak_ptr<int>(alive_), fn = std::move(fn)]() mutable {
    if (!alive.expired()) fn();
  });
}

}  // namespace gregor::sim
