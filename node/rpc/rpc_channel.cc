#include "node/rpc/rpc_channel.h"

#include <fmt/format.h>

namespace gregor::rpc {

RpcChannel::RpcChannel(Env& env, net::Address address, RpcChannelConfig config)
    : env_(env), address_(std::move(address)), config_(std::move(config)) {}

RpcChannel::~RpcChannel() {
  close();
}

void RpcChannel::close() {
  alive_ = std::make_shared<bool>(true);  // callbacks registered before this never run
  env_.clock.cancel(timer_);
  timer_ = kNoTimer;
  pending_.clear();
  if (conn_) conn_->close();
  conn_.reset();
  reader_ = net::FrameReader(kRpcResponseBytesMax);
  state_ = State::idle;
}

void RpcChannel::enqueue(int32_t correlation_id, int16_t response_header_version, Bytes frame,
                         RawHandler handler) {
  if (pending_.size() >= kRpcQueuedMax) {
    return fail_later(std::move(handler), errorf(Errc::limit_exceeded, "{} requests queued to {}",
                                                 kRpcQueuedMax, address_.to_string()));
  }
  if (state_ == State::idle && env_.clock.now() < next_connect_) {
    return fail_later(std::move(handler),
                      errorf(Errc::unreachable, "{}: reconnect backoff after a failed connect",
                             address_.to_string()));
  }
  pending_.push_back(Pending{correlation_id, response_header_version, std::move(frame),
                             env_.clock.now() + config_.request_timeout, std::move(handler)});
  if (state_ == State::idle) return connect();
  if (state_ == State::ready) {
    conn_->send(std::move(pending_.back().frame));
    pending_.back().frame.clear();
    if (pending_.size() == 1) arm_timer();
  }
}

void RpcChannel::connect() {
  state_ = State::connecting;
  connect_deadline_ = env_.clock.now() + config_.connect_timeout;
  arm_timer();
  env_.network.connect(address_, guarded(alive_, [this](Result<net::ConnectionPtr> conn) {
                         on_connected(std::move(conn));
                       }));
}

void RpcChannel::on_connected(Result<net::ConnectionPtr> conn) {
  if (state_ != State::connecting) {
    if (conn.ok()) (*conn)->close();
    return;
  }
  if (!conn.ok()) {
    next_connect_ = env_.clock.now() + config_.reconnect_backoff;
    return fail(conn.status());
  }
  conn_ = std::move(conn).value();
  state_ = State::ready;
  conn_->set_handlers({
      .on_data = guarded(alive_, [this](ByteView data) { on_data(data); }),
      .on_close = guarded(alive_,
                          [this](const Status& why) {
                            conn_.reset();
                            fail(why.ok() ? error(Errc::closed, "closed by the peer") : why);
                          }),
  });
  for (Pending& p : pending_) {
    conn_->send(std::move(p.frame));
    p.frame.clear();
  }
  arm_timer();
}

void RpcChannel::arm_timer() {
  env_.clock.cancel(timer_);
  timer_ = kNoTimer;
  MonoTime deadline;
  if (state_ == State::connecting) {
    deadline = connect_deadline_;
  } else if (state_ == State::ready && !pending_.empty()) {
    deadline = pending_.front().deadline;
  } else {
    return;
  }
  Duration delay = std::max(Duration::zero(), deadline - env_.clock.now());
  timer_ = env_.clock.schedule(
      delay, guarded(alive_, [this] {
        timer_ = kNoTimer;
        if (state_ == State::connecting) {
          next_connect_ = env_.clock.now() + config_.reconnect_backoff;
          return fail(errorf(Errc::timed_out, "connect to {} timed out", address_.to_string()));
        }
        if (pending_.empty()) return;
        if (env_.clock.now() < pending_.front().deadline) return arm_timer();
        fail(errorf(Errc::timed_out, "no answer from {} within {}", address_.to_string(),
                    format_duration(config_.request_timeout)));
      }));
}

void RpcChannel::on_data(ByteView data) {
  reader_.feed(data);
  for (;;) {
    auto frame = reader_.next();
    if (!frame.ok()) return fail(frame.status());
    if (!frame->has_value()) return;
    Bytes body = std::move(**frame);
    if (pending_.empty()) {
      return fail(
          errorf(Errc::corrupt, "{} sent a response nobody asked for", address_.to_string()));
    }
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    Reader r(body);
    auto header = kafka::decode_response_header(r, p.response_header_version);
    if (!header.ok() || header->correlation_id != p.correlation_id) {
      pending_.push_front(std::move(p));
      return fail(
          errorf(Errc::corrupt, "{}: response out of order or malformed", address_.to_string()));
    }
    std::weak_ptr<bool> alive = alive_;
    p.handler(ByteView(body).subspan(r.position()));
    if (alive.expired()) return;  // the handler closed or destroyed us
    arm_timer();
  }
}

void RpcChannel::fail(const Status& why) {
  env_.clock.cancel(timer_);
  timer_ = kNoTimer;
  if (conn_) conn_->close();
  conn_.reset();
  reader_ = net::FrameReader(kRpcResponseBytesMax);
  state_ = State::idle;
  std::deque<Pending> failed = std::move(pending_);
  pending_.clear();
  std::weak_ptr<bool> alive = alive_;
  for (Pending& p : failed) {
    p.handler(why);
    if (alive.expired()) return;
  }
}

}  // namespace gregor::rpc
