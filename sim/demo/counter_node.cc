// The counter's networking and increment protocol. See counter_node.h for the design.
#include "sim/demo/counter_node.h"

#include <spdlog/spdlog.h>

#include "base/assert.h"
#include "sim/demo/counter_internal.h"

namespace gregor::demo {

CounterNode::CounterNode(Env& env, CounterConfig config)
    : env_(env), config_(std::move(config)), counts_(config_.nodes.size(), 0) {
  GREGOR_ASSERT(config_.self < config_.nodes.size(), "self {} of {}", config_.self,
                config_.nodes.size());
  recover_view_ = counts_;
  peers_.resize(config_.nodes.size());
  for (uint32_t i = 0; i < config_.nodes.size(); ++i) {
    if (i == config_.self) continue;
    peers_[i] = std::make_unique<Peer>(Peer{i, config_.nodes[i]});
  }
  start();
}

CounterNode::~CounterNode() {
  *alive_ = false;
  alive_.reset();
  env_.clock.cancel(tick_timer_);
  for (auto& [id, in] : inbound_) in->conn->close();
  for (auto& p : peers_)
    if (p && p->conn) p->conn->close();
}

uint64_t CounterNode::total() const {
  uint64_t sum = 0;
  for (uint64_t c : counts_) sum += c;
  return sum;
}

void CounterNode::send(const net::ConnectionPtr& conn, Bytes payload) {
  if (!conn || !conn->is_open()) return;
  Bytes frame;
  net::append_frame(frame, payload);
  conn->send(std::move(frame));
}

void CounterNode::send_to_peers(const Bytes& payload) {
  for (auto& p : peers_)
    if (p && p->conn) send(p->conn, payload);
}

Bytes CounterNode::counts_payload(CounterMsg type) const {
  Bytes out;
  Writer w(out);
  w.u8(static_cast<uint8_t>(type));
  w.be<uint32_t>(static_cast<uint32_t>(counts_.size()));
  for (uint64_t c : counts_) w.be<uint64_t>(c);
  return out;
}

void CounterNode::close_silent_connections() {
  MonoTime now = env_.clock.now();
  for (auto& p : peers_) {
    if (p && p->conn && now - p->last_heard > config_.peer_silence_max) {
      env_.tracer.event("counter.peer_silent", TraceFields().add("peer", p->index));
      p->conn->close();
      p->conn.reset();
    }
  }
  std::vector<uint64_t> silent;
  for (auto& [id, in] : inbound_)
    if (now - in->last_heard > config_.peer_silence_max) silent.push_back(id);
  for (uint64_t id : silent) {
    inbound_[id]->conn->close();
    inbound_.erase(id);
  }
}

void CounterNode::tick() {
  ++ticks_;
  close_silent_connections();
  for (auto& p : peers_)
    if (p && !p->conn && !p->connecting) connect_peer(*p);
  if (!ready_ && log_ && !log_busy_) {
    send_to_peers(Bytes{static_cast<uint8_t>(CounterMsg::recover)});
  }
  if (increment_in_flight_ && increment_count_ > 0) {
    Bytes m;
    Writer w(m);
    w.u8(static_cast<uint8_t>(CounterMsg::replicate));
    w.be<uint32_t>(config_.self);
    w.be<uint64_t>(increment_count_);
    send_to_peers(m);
  }
  if (ticks_ % config_.gossip_every_ticks == 0) {
    send_to_peers(counts_payload(CounterMsg::gossip));
  }
  tick_timer_ = env_.clock.schedule(config_.tick_interval, guarded(alive_, [this] { tick(); }));
}

void CounterNode::connect_peer(Peer& peer) {
  peer.connecting = true;
  uint32_t index = peer.index;
  env_.network.connect(
      peer.address, guarded(alive_, [this, index](Result<net::ConnectionPtr> conn) {
        Peer& p = *peers_[index];
        p.connecting = false;
        if (!conn.ok()) return;  // the next tick retries
        p.conn = std::move(conn).value();
        p.reader = std::make_unique<net::FrameReader>(config_.frame_bytes_max);
        p.last_heard = env_.clock.now();
        p.conn->set_handlers({
            .on_data = guarded(alive_,
                               [this, index](ByteView data) {
                                 Peer& p = *peers_[index];
                                 p.last_heard = env_.clock.now();
                                 p.reader->feed(data);
                                 while (p.conn) {
                                   auto frame = p.reader->next();
                                   if (!frame.ok()) {
                                     p.conn->close();
                                     p.conn.reset();
                                     return;
                                   }
                                   if (!frame->has_value()) return;
                                   on_peer_frame(p, **frame);
                                 }
                               }),
            .on_close =
                guarded(alive_, [this, index](const Status&) { peers_[index]->conn.reset(); }),
        });
        Bytes hello;
        Writer w(hello);
        w.u8(static_cast<uint8_t>(CounterMsg::hello));
        w.be<uint32_t>(config_.self);
        send(p.conn, hello);
        if (!ready_ && log_ && !log_busy_)
          send(p.conn, Bytes{static_cast<uint8_t>(CounterMsg::recover)});
      }));
}

// Replies that come back on our outgoing peer connections.
void CounterNode::on_peer_frame(Peer& peer, ByteView frame) {
  Reader r(frame);
  auto type = static_cast<CounterMsg>(r.u8());
  if (type == CounterMsg::ack) {
    uint32_t slot = r.be<uint32_t>();
    uint64_t count = r.be<uint64_t>();
    if (r.ok()) on_ack(slot, count);
    return;
  }
  if (type == CounterMsg::gossip) {
    uint32_t n = r.be<uint32_t>();
    if (n != counts_.size()) return;
    std::vector<uint64_t> view(n);
    for (auto& c : view) c = r.be<uint64_t>();
    if (r.ok() && ready_) adopt(view, [] {});
    return;
  }
  if (type == CounterMsg::recover_reply && !ready_) {
    uint32_t n = r.be<uint32_t>();
    if (n != counts_.size()) return;
    for (uint32_t i = 0; i < n; ++i)
      recover_view_[i] = std::max(recover_view_[i], r.be<uint64_t>());
    if (!r.ok()) return;
    recover_replies_.insert(peer.index);
    if (recover_replies_.size() == counts_.size() - 1 && !log_busy_) finish_recovery_from_peers();
  }
}

void CounterNode::on_accept(net::ConnectionPtr conn) {
  uint64_t id = next_inbound_id_++;
  auto in = std::make_unique<Inbound>(
      Inbound{id, conn, net::FrameReader(config_.frame_bytes_max), env_.clock.now()});
  conn->set_handlers({
      .on_data = guarded(alive_,
                         [this, id](ByteView data) {
                           auto it = inbound_.find(id);
                           if (it == inbound_.end()) return;
                           Inbound& in = *it->second;
                           in.last_heard = env_.clock.now();
                           in.reader.feed(data);
                           for (;;) {
                             auto frame = in.reader.next();
                             if (!frame.ok()) {
                               in.conn->close();
                               inbound_.erase(id);
                               return;
                             }
                             if (!frame->has_value()) return;
                             on_frame(in, **frame);
                             if (!inbound_.count(id)) return;
                           }
                         }),
      .on_close = guarded(alive_, [this, id](const Status&) { inbound_.erase(id); }),
  });
  inbound_.emplace(id, std::move(in));
}

// Requests that arrive on inbound connections, from clients and from peers.
void CounterNode::on_frame(Inbound& in, ByteView frame) {
  Reader r(frame);
  auto type = static_cast<CounterMsg>(r.u8());
  switch (type) {
    case CounterMsg::incr: {
      uint64_t id = r.be<uint64_t>();
      if (r.ok()) on_client_incr(in, id);
      return;
    }
    case CounterMsg::read: {
      uint64_t id = r.be<uint64_t>();
      Bytes out;
      Writer w(out);
      w.u8(static_cast<uint8_t>(CounterMsg::read_result));
      w.be<uint64_t>(id);
      w.u8(static_cast<uint8_t>(ready_ ? CounterOutcome::ok : CounterOutcome::not_ready));
      w.be<uint64_t>(total());
      send(in.conn, out);
      return;
    }
    case CounterMsg::hello:
      return;
    case CounterMsg::replicate: {
      uint32_t slot = r.be<uint32_t>();
      uint64_t count = r.be<uint64_t>();
      // While recovering, write nothing: a log holding only what peers sent would look complete
      // to a later restart (found by seed 52: wipe, partial log, crash, restart, counts reused).
      if (!r.ok() || slot >= counts_.size() || !ready_) return;
      std::weak_ptr<net::Connection> reply_to = in.conn;
      auto ack = [this, slot, reply_to] {
        Bytes m;
        Writer w(m);
        w.u8(static_cast<uint8_t>(CounterMsg::ack));
        w.be<uint32_t>(slot);
        w.be<uint64_t>(counts_[slot]);
        send(reply_to.lock(), m);
      };
      std::vector<uint64_t> view = counts_;
      view[slot] = std::max(view[slot], count);
      adopt(view, ack);
      return;
    }
    case CounterMsg::gossip: {
      uint32_t n = r.be<uint32_t>();
      if (n != counts_.size()) return;
      std::vector<uint64_t> view(n);
      for (auto& c : view) c = r.be<uint64_t>();
      if (!r.ok()) return;
      send(in.conn, counts_payload(CounterMsg::gossip));  // the answer doubles as a heartbeat
      if (ready_) adopt(view, [] {});
      return;
    }
    case CounterMsg::recover:
      // Answer even while recovering ourselves: what we hold is always durable.
      send(in.conn, counts_payload(CounterMsg::recover_reply));
      return;
    default:
      return;  // unknown messages are ignored, as a newer peer may send them
  }
}

// Persists every slot of `view` that is ahead of ours, then runs `then`.
void CounterNode::adopt(const std::vector<uint64_t>& view, std::function<void()> then) {
  std::vector<std::pair<uint32_t, uint64_t>> records;
  for (uint32_t i = 0; i < view.size(); ++i)
    if (view[i] > counts_[i]) records.emplace_back(i, view[i]);
  if (records.empty()) return then();
  persist(records, [this, records, then](const Status& s) {
    if (!s.ok()) return;  // the sender retries
    for (auto [slot, count] : records) counts_[slot] = std::max(counts_[slot], count);
    then();
  });
}

void CounterNode::on_client_incr(Inbound& in, uint64_t request_id) {
  auto reply = [&](CounterOutcome outcome) {
    Bytes m;
    Writer w(m);
    w.u8(static_cast<uint8_t>(CounterMsg::incr_result));
    w.be<uint64_t>(request_id);
    w.u8(static_cast<uint8_t>(outcome));
    w.be<uint32_t>(config_.self);
    w.be<uint64_t>(0);
    send(in.conn, m);
  };
  if (!ready_) return reply(CounterOutcome::not_ready);
  if (increments_.size() >= config_.pending_increments_max) return reply(CounterOutcome::failed);
  increments_.push_back(PendingIncrement{request_id, in.conn});
  start_next_increment();
}

void CounterNode::start_next_increment() {
  if (increment_in_flight_ || increments_.empty()) return;
  increment_in_flight_ = true;
  increment_count_ = 0;
  uint64_t next = counts_[config_.self] + 1;
  if (config_.bug_ack_before_fsync) {
    // The bug: memory and the client see the increment before it is durable anywhere.
    counts_[config_.self] = next;
    increment_count_ = next;
    persist({{config_.self, next}}, [](const Status&) {});
    finish_increment(CounterOutcome::ok);
    return;
  }
  persist({{config_.self, next}}, [this, next](const Status& s) {
    if (!s.ok()) {
      // ENOSPC: nothing was written. EIO on fsync: the record may or may not be on disk.
      finish_increment(s.code() == Errc::io_error ? CounterOutcome::indefinite
                                                  : CounterOutcome::failed);
      return;
    }
    counts_[config_.self] = std::max(counts_[config_.self], next);
    increment_count_ = next;
    Bytes m;
    Writer w(m);
    w.u8(static_cast<uint8_t>(CounterMsg::replicate));
    w.be<uint32_t>(config_.self);
    w.be<uint64_t>(next);
    send_to_peers(m);  // tick() repeats this until a peer acknowledges
  });
}

void CounterNode::on_ack(uint32_t slot, uint64_t count) {
  if (!increment_in_flight_ || slot != config_.self || increment_count_ == 0) return;
  if (count < increment_count_) return;
  finish_increment(CounterOutcome::ok);
}

void CounterNode::finish_increment(CounterOutcome outcome) {
  GREGOR_ASSERT(increment_in_flight_ && !increments_.empty());
  PendingIncrement inc = increments_.front();
  increments_.pop_front();
  Bytes m;
  Writer w(m);
  w.u8(static_cast<uint8_t>(CounterMsg::incr_result));
  w.be<uint64_t>(inc.request_id);
  w.u8(static_cast<uint8_t>(outcome));
  w.be<uint32_t>(config_.self);
  w.be<uint64_t>(increment_count_);
  send(inc.reply_to.lock(), m);
  env_.tracer.event(
      "counter.incr",
      TraceFields().add("outcome", static_cast<int>(outcome)).add("count", increment_count_));
  increment_in_flight_ = false;
  increment_count_ = 0;
  start_next_increment();
}

}  // namespace gregor::demo
