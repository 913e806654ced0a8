// SimNetwork, part 2: the two directions of a connection. Each direction delivers its head
// segment with one event owned by the receiver; the next head is scheduled when one is
// delivered, so there is at most one pending event per direction and order is kept by
// construction. A head that meets a blocked link stalls the direction until restart_stalled().
#include <algorithm>
#include <set>

#include "base/assert.h"
#include "sim/sim_network.h"
#include "sim/sim_network_internal.h"

namespace gregor::sim {

using simnet::Conn;
using simnet::EndState;
using simnet::Flow;
using simnet::Segment;

namespace simnet {

SimConnection::~SimConnection() {
  if (conn_->net && conn_->end[side_].state == EndState::open) {
    conn_->net->release_end(*conn_, side_);
  }
}

void SimConnection::set_handlers(Handlers handlers) {
  handlers_ = std::make_shared<Handlers>(std::move(handlers));
}

void SimConnection::send(Bytes data) {
  if (conn_->net) conn_->net->send_from(*conn_, side_, std::move(data));
}

void SimConnection::close() {
  if (conn_->net) conn_->net->close_end(*conn_, side_);
  handlers_.reset();  // drops captures (often this very connection) now
}

void SimConnection::deliver_data(ByteView data) {
  // Held by a local copy: the callback may replace the handlers or close the connection.
  std::shared_ptr<Handlers> handlers = handlers_;
  if (handlers && handlers->on_data) handlers->on_data(data);
}

void SimConnection::deliver_close(const Status& status) {
  std::shared_ptr<Handlers> handlers = std::move(handlers_);  // the last callback
  if (handlers && handlers->on_close) handlers->on_close(status);
}

}  // namespace simnet

void SimNetwork::send_from(Conn& c, int side, Bytes data) {
  if (c.end[side].state != EndState::open || data.empty()) return;
  ++counters_.messages_sent;
  counters_.bytes_sent += data.size();
  Flow& f = c.flow[side];
  EndState peer = c.end[1 - side].state;
  if (f.sealed || peer == EndState::closed || peer == EndState::crashed) {
    counters_.bytes_dropped += data.size();  // the peer is gone or going: nobody will read it
    return;
  }
  MonoTime due = std::max({f.last_due, f.not_before, arrival(f.from, f.to, data.size())});
  if (data.size() >= 2 && fault_rng_.chance(options_.fragment_probability)) {
    append_fragments(c, side, std::move(data), due);
  } else {
    append(c, side, Segment{Segment::Kind::data, false, due, std::move(data)});
  }
}

// Splits one send into pieces arriving a little apart, to exercise the receiver's framing.
void SimNetwork::append_fragments(Conn& c, int side, Bytes data, MonoTime due) {
  ++counters_.fragmented;
  size_t size = data.size();
  uint64_t pieces_max = std::min<uint64_t>(std::max(options_.fragment_pieces_max, 2u), size);
  uint64_t pieces = fault_rng_.uniform(2, pieces_max);
  std::set<size_t> cuts;
  while (cuts.size() < pieces - 1) cuts.insert(fault_rng_.uniform(1, size - 1));
  cuts.insert(size);
  if (options_.trace_messages) {
    world_.trace(kWorldNode, "net.fault",
                 TraceFields().add("fault", "fragment").add("conn", c.id).add("pieces", pieces));
  }
  size_t start = 0;
  uint64_t gap_ns = static_cast<uint64_t>(std::max<int64_t>(to_ns(options_.fragment_gap_max), 0));
  for (size_t cut : cuts) {
    Bytes piece(data.begin() + static_cast<ptrdiff_t>(start),
                data.begin() + static_cast<ptrdiff_t>(cut));
    append(c, side, Segment{Segment::Kind::data, false, due, std::move(piece)});
    due += Duration(static_cast<int64_t>(fault_rng_.uniform(0, gap_ns)));
    start = cut;
  }
}

void SimNetwork::append(Conn& c, int side, Segment segment) {
  Flow& f = c.flow[side];
  GREGOR_ASSERT(!f.sealed, "conn {}: segment after the end of the stream", c.id);
  if (segment.kind == Segment::Kind::data) {
    f.queued_bytes += segment.bytes.size();
  } else {
    f.sealed = true;
  }
  segment.due = std::max(segment.due, f.last_due);
  f.last_due = segment.due;
  f.queue.push_back(std::move(segment));
  if (c.end[1 - side].state == EndState::vanished) {
    // Unacknowledged: the bytes wait (and count in send_queue_bytes) until the user timeout.
    if (!f.stalled) stall(c, side, Stall::vanished);
    return;
  }
  schedule_head(c, side);
}

void SimNetwork::schedule_head(Conn& c, int side) {
  Flow& f = c.flow[side];
  if (f.event_pending || f.stalled || f.queue.empty()) return;
  uint64_t id = c.id;
  uint64_t seq = ++f.event_seq;
  f.event_pending = true;
  post(f.queue.front().due, f.to, [this, id, side, seq] { deliver(id, side, seq); });
}

void SimNetwork::deliver(uint64_t conn_id, int side, uint64_t seq) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;
  ConnPtr c = it->second;  // the callback may erase the connection from conns_
  Flow& f = c->flow[side];
  if (!f.event_pending || f.event_seq != seq) return;  // retired by clear_flow
  f.event_pending = false;
  if (f.queue.empty()) return;
  if (!f.queue.front().local) {
    Stall why = link_stall(f.from, f.to);
    if (why != Stall::none) {
      stall(*c, side, why);
      return;
    }
  }
  simnet::End& to = c->end[1 - side];
  GREGOR_ASSERT(to.state == EndState::open, "conn {}: delivery to an end in state {}", conn_id,
                static_cast<int>(to.state));
  if (f.queue.front().kind != Segment::Kind::data) {
    deliver_terminal(c, side);
    return;
  }
  Bytes chunk = std::move(f.queue.front().bytes);
  f.queue.pop_front();
  // Whatever else has arrived by now is read together, as one read() of a socket would.
  while (options_.coalesce && !f.queue.empty() && f.queue.front().due <= world_.now() &&
         f.queue.front().kind == Segment::Kind::data) {
    chunk.insert(chunk.end(), f.queue.front().bytes.begin(), f.queue.front().bytes.end());
    f.queue.pop_front();
  }
  f.queued_bytes -= chunk.size();
  ++counters_.deliveries;
  counters_.bytes_delivered += chunk.size();
  if (options_.trace_messages) {
    world_.trace(f.to, "net.deliver",
                 TraceFields().add("conn", conn_id).add("bytes", chunk.size()));
  }
  schedule_head(*c, side);  // before calling out: the callback may close or reset the connection
  if (auto handle = to.handle.lock()) handle->deliver_data(chunk);
}

void SimNetwork::deliver_terminal(const ConnPtr& c, int side) {
  Flow& f = c->flow[side];
  Segment::Kind kind = f.queue.front().kind;
  f.queue.pop_front();
  simnet::End& to = c->end[1 - side];
  to.state = EndState::closed;
  clear_flow(*c, side);
  Status status;
  switch (kind) {
    case Segment::Kind::fin:
      ++counters_.eofs;
      world_.trace(to.node, "net.eof", TraceFields().add("conn", c->id));
      status = errorf(Errc::closed, "connection {} closed by {}", c->id, to.peer.to_string());
      break;
    case Segment::Kind::reset:
      ++counters_.resets;
      world_.trace(to.node, "net.reset", TraceFields().add("conn", c->id));
      status = errorf(Errc::connection_reset, "connection {} reset", c->id);
      break;
    default:
      world_.trace(to.node, "net.timeout", TraceFields().add("conn", c->id));
      status = errorf(Errc::timed_out, "connection {}: peer {} stopped acknowledging", c->id,
                      to.peer.to_string());
      break;
  }
  auto handle = to.handle.lock();
  maybe_erase(*c);
  if (handle) handle->deliver_close(status);
}

void SimNetwork::stall(Conn& c, int side, Stall why) {
  Flow& f = c.flow[side];
  f.stalled = true;
  switch (why) {
    case Stall::held:
      ++counters_.stalls_held;
      break;
    case Stall::partitioned:
      ++counters_.stalls_partitioned;
      break;
    case Stall::clogged:
      ++counters_.stalls_clogged;
      break;
    default:
      ++counters_.stalls_vanished;
      break;
  }
  static constexpr const char* kNames[] = {"none", "held", "partitioned", "clogged", "vanished"};
  world_.trace(kWorldNode, "net.stall",
               TraceFields()
                   .add("conn", c.id)
                   .add("from", world_.node_name(f.from))
                   .add("to", world_.node_name(f.to))
                   .add("why", kNames[static_cast<int>(why)]));
  start_user_timer(c, side, why);
}

void SimNetwork::start_user_timer(Conn& c, int side, Stall why) {
  Flow& f = c.flow[side];
  if (why == Stall::held || options_.user_timeout <= Duration::zero()) return;
  if (f.user_timer != kNoEvent) return;
  uint64_t id = c.id;
  f.user_timer = post(world_.now() + options_.user_timeout, kWorldNode,
                      [this, id, side] { on_user_timeout(id, side); });
}

void SimNetwork::on_user_timeout(uint64_t conn_id, int side) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;
  ConnPtr c = it->second;
  Flow& f = c->flow[side];
  f.user_timer = kNoEvent;
  if (!f.stalled) return;
  ++counters_.user_timeouts;
  world_.trace(kWorldNode, "net.user_timeout",
               TraceFields()
                   .add("conn", conn_id)
                   .add("from", world_.node_name(f.from))
                   .add("to", world_.node_name(f.to)));
  // The sender gives up on its unacknowledged bytes and sends RST; the RST waits at the same
  // blocked link, so the receiver learns only when the link clears.
  counters_.bytes_dropped += f.queued_bytes;
  f.queue.clear();
  f.queued_bytes = 0;
  f.queue.push_back(Segment{Segment::Kind::reset, false, world_.now(), {}});
  f.sealed = true;
  abort_end(*c, side, true);
  maybe_erase(*c);
}

void SimNetwork::restart_stalled() {
  for (auto& [id, c] : conns_) {
    for (int side = 0; side < 2; ++side) {
      Flow& f = c->flow[side];
      if (!f.stalled || c->end[1 - side].state == EndState::vanished) continue;
      Stall why = f.queue.empty() || f.queue.front().local ? Stall::none : link_stall(f.from, f.to);
      if (why != Stall::none) {
        start_user_timer(*c, side, why);  // a hold may have given way to a partition
        continue;
      }
      f.stalled = false;
      if (f.user_timer != kNoEvent) world_.cancel(f.user_timer);
      f.user_timer = kNoEvent;
      retime(*c, side);
      schedule_head(*c, side);
    }
  }
}

// Retransmission after a stall: every waiting segment crosses the link again from now.
void SimNetwork::retime(Conn& c, int side) {
  Flow& f = c.flow[side];
  MonoTime prev = std::max(world_.now(), f.not_before);
  for (Segment& s : f.queue) {
    if (!s.local) prev = std::max(prev, arrival(f.from, f.to, s.bytes.size()));
    s.due = prev;
  }
  f.last_due = prev;
}

void SimNetwork::clear_flow(Conn& c, int side) {
  Flow& f = c.flow[side];
  f.event_pending = false;
  if (f.user_timer != kNoEvent) world_.cancel(f.user_timer);  // a world event: never deferred
  f.user_timer = kNoEvent;
  counters_.bytes_dropped += f.queued_bytes;
  f.queue.clear();
  f.queued_bytes = 0;
  f.stalled = false;
  f.last_due = world_.now();
}

void SimNetwork::close_end(Conn& c, int side) {
  simnet::End& e = c.end[side];
  if (e.state != EndState::open) return;
  e.state = EndState::closed;
  ++counters_.closes;
  world_.trace(e.node, "net.close", TraceFields().add("conn", c.id));
  clear_flow(c, 1 - side);  // nothing reaches this end any more
  Flow& out = c.flow[side];
  if (!out.sealed) {
    EndState peer = c.end[1 - side].state;
    if (peer == EndState::closed || peer == EndState::crashed) {
      out.sealed = true;
    } else {
      MonoTime due = std::max({out.last_due, out.not_before, arrival(out.from, out.to, 0)});
      append(c, side, Segment{Segment::Kind::fin, false, due, {}});
    }
  }
  maybe_erase(c);
}

void SimNetwork::release_end(Conn& c, int side) {
  const simnet::End& e = c.end[side];
  // A handle destroyed with its crashed process: crash() decides what the peer sees.
  if (world_.state(e.node) == NodeState::down || world_.incarnation(e.node) != e.incarnation) {
    return;
  }
  close_end(c, side);
}

// A local end of the stream: end `side` gets on_close(connection_reset or timed_out) as soon as
// it holds the connection, whatever the links; everything in flight to it is dropped.
void SimNetwork::abort_end(Conn& c, int side, bool timed_out) {
  if (!simnet::is_live(c.end[side].state)) return;
  int in = 1 - side;
  clear_flow(c, in);
  c.flow[in].sealed = false;
  Segment s{timed_out ? Segment::Kind::timeout : Segment::Kind::reset,
            true,
            std::max(world_.now(), c.flow[in].not_before),
            {}};
  append(c, in, std::move(s));
}

void SimNetwork::reset_conn(Conn& c) {
  for (int side = 0; side < 2; ++side) {
    clear_flow(c, side);
    c.flow[side].sealed = true;
  }
  for (int side = 0; side < 2; ++side) abort_end(c, side, false);
  ++counters_.resets_injected;
  maybe_erase(c);
}

void SimNetwork::maybe_erase(Conn& c) {
  if (simnet::is_live(c.end[0].state) || simnet::is_live(c.end[1].state)) return;
  clear_flow(c, 0);
  clear_flow(c, 1);
  conns_.erase(c.id);
}

SimNetwork::Stall SimNetwork::link_stall(NodeId from, NodeId to) const {
  if (from == to) return Stall::none;
  for (const auto& [id, link] : holds_) {
    if (link == std::pair{from, to}) return Stall::held;
  }
  if (blocked_.contains({from, to})) return Stall::partitioned;
  if (is_blocked(from, to)) return Stall::clogged;
  return Stall::none;
}

}  // namespace gregor::sim
