#include "node/broker/kafka_connection.h"

#include <spdlog/spdlog.h>

namespace gregor::broker {

KafkaConnection::KafkaConnection(net::ConnectionPtr conn, KafkaApis& apis,
                                 const BrokerConfig& config, Clock& clock,
                                 std::function<void(KafkaConnection*)> on_closed)
    : conn_(std::move(conn)),
      apis_(apis),
      config_(config),
      on_closed_(std::move(on_closed)),
      reader_(static_cast<uint32_t>(config.socket_request_max_bytes)),
      clock_(clock),
      last_active_(clock.now()) {}

KafkaConnection::~KafkaConnection() {
  clock_.cancel(idle_timer_);
}

void KafkaConnection::arm_idle_timer() {
  std::weak_ptr<KafkaConnection> weak = shared_from_this();
  Duration wait =
      std::max(Duration::zero(), last_active_ + config_.connections_max_idle_ms - clock_.now());
  idle_timer_ = clock_.schedule(wait, [weak] {
    auto self = weak.lock();
    if (!self || !self->conn_) return;
    self->idle_timer_ = kNoTimer;
    bool idle = self->in_flight_.empty() &&
                self->clock_.now() - self->last_active_ >= self->config_.connections_max_idle_ms;
    if (idle) return self->fail("idle for connections.max.idle.ms");
    if (!self->in_flight_.empty()) self->last_active_ = self->clock_.now();
    self->arm_idle_timer();
  });
}

void KafkaConnection::start() {
  std::weak_ptr<KafkaConnection> weak = shared_from_this();
  conn_->set_handlers({
      [weak](ByteView data) {
        if (auto self = weak.lock()) self->on_data(data);
      },
      [weak](const Status& s) {
        auto self = weak.lock();
        if (!self || !self->conn_) return;
        spdlog::debug("connection from {} ended: {}", self->conn_->peer_address().to_string(), s);
        self->conn_ = nullptr;
        self->in_flight_.clear();
        if (self->on_closed_) self->on_closed_(self.get());
      },
  });
  arm_idle_timer();
}

void KafkaConnection::close() {
  clock_.cancel(idle_timer_);
  idle_timer_ = kNoTimer;
  if (!conn_) return;
  conn_->close();
  conn_ = nullptr;
  in_flight_.clear();
}

void KafkaConnection::fail(const std::string& why) {
  if (!conn_) return;
  spdlog::warn("closing connection from {}: {}", conn_->peer_address().to_string(), why);
  close();
  if (on_closed_) on_closed_(this);
}

void KafkaConnection::on_data(ByteView data) {
  last_active_ = clock_.now();
  reader_.feed(data);
  // Beyond the frame being received, at most socket.request.max.bytes of requests may wait.
  size_t waiting_max =
      kWaitingRequestFrames * static_cast<size_t>(config_.socket_request_max_bytes);
  if (reader_.buffered_bytes() > waiting_max) {
    return fail(fmt::format("{} bytes of requests waiting behind queued.max.requests={} in flight",
                            reader_.buffered_bytes(), config_.queued_max_requests));
  }
  dispatch_waiting();
}

void KafkaConnection::dispatch_waiting() {
  // An answer given at once calls back into send_ready, and from there here: the outer loop
  // goes on instead, so a backlog of quick requests does not recurse once per request.
  if (dispatching_) return;
  dispatching_ = true;
  while (conn_ && in_flight_.size() < static_cast<size_t>(config_.queued_max_requests)) {
    auto frame = reader_.next();
    if (!frame.ok()) {
      dispatching_ = false;
      return fail(frame.status().message());
    }
    if (!*frame) break;
    dispatch(std::move(**frame));
  }
  dispatching_ = false;
  // At the limit, Kafka stops reading the connection: the client's sends stall in TCP instead of
  // piling up here (the simulated network ignores this; the byte limit in on_data still holds).
  if (conn_)
    conn_->set_reading(in_flight_.size() < static_cast<size_t>(config_.queued_max_requests));
}

void KafkaConnection::dispatch(Bytes frame) {
  auto slot = std::make_shared<Slot>();
  in_flight_.push_back(slot);
  std::weak_ptr<KafkaConnection> weak = shared_from_this();
  apis_.handle(frame, conn_->peer_address().host, [weak, slot](Result<std::optional<Bytes>> reply) {
    auto self = weak.lock();
    if (!self || !self->conn_) return;
    if (!reply.ok()) return self->fail(reply.status().message());
    slot->ready = true;
    slot->frame = std::move(reply).value();
    self->send_ready();
  });
}

void KafkaConnection::send_ready() {
  while (conn_ && !in_flight_.empty() && in_flight_.front()->ready) {
    std::shared_ptr<Slot> slot = std::move(in_flight_.front());
    in_flight_.pop_front();
    if (slot->frame) conn_->send(std::move(*slot->frame));
    last_active_ = clock_.now();
  }
  if (conn_ && conn_->send_queue_bytes() > kSendQueueBytesMax) {
    return fail(fmt::format("{} bytes of responses unread", conn_->send_queue_bytes()));
  }
  dispatch_waiting();  // answers went out: requests waiting behind the limit may go in
}

}  // namespace gregor::broker
