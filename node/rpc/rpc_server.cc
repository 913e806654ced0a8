#include "node/rpc/rpc_server.h"

#include <spdlog/spdlog.h>

#include "base/assert.h"
#include "base/guarded.h"
#include "net/frame_reader.h"

namespace gregor::rpc {

// One accepted connection: reads frames, hands requests to the server's handler, and sends the
// answers in request order.
class RpcServerConnection : public std::enable_shared_from_this<RpcServerConnection> {
 public:
  RpcServerConnection(RpcServer& server, net::ConnectionPtr conn)
      : server_(server), conn_(std::move(conn)) {}

  void start() {
    std::weak_ptr<RpcServerConnection> weak = weak_from_this();
    conn_->set_handlers({
        .on_data =
            [weak](ByteView data) {
              if (auto self = weak.lock()) self->on_data(data);
            },
        .on_close =
            [weak](const Status&) {
              if (auto self = weak.lock()) self->end();
            },
    });
  }

  void answer(uint64_t slot, Result<Bytes> frame) {
    if (!conn_) return;  // ended: dropped
    auto it = answers_.find(slot);
    GREGOR_ASSERT(it != answers_.end() && !it->second, "request {} answered twice or unknown",
                  slot);
    if (!frame.ok()) {
      spdlog::error("rpc {}: cannot encode an answer: {}", conn_->peer_address().to_string(),
                    frame.status());
      return end();
    }
    it->second = std::move(frame).value();
    // Send every answer at the front that is ready, in order.
    while (!answers_.empty() && answers_.begin()->second) {
      conn_->send(std::move(*answers_.begin()->second));
      answers_.erase(answers_.begin());
    }
  }

  void end() {
    if (!conn_) return;
    conn_->close();
    conn_.reset();
    answers_.clear();
    server_.forget(this);  // may destroy *this: nothing after
  }

 private:
  void on_data(ByteView data) {
    reader_.feed(data);
    auto self = shared_from_this();  // the handler may end the connection
    while (conn_) {
      auto frame = reader_.next();
      if (!frame.ok()) return end();
      if (!frame->has_value()) return;
      if (answers_.size() >= kRpcServerInFlightMax) return end();
      Bytes bytes = std::move(**frame);
      Reader r(bytes);
      // Peek at the key: a controller api has its own header functions.
      if (bytes.size() < 2) return end();
      auto key = static_cast<kafka::ApiKey>(static_cast<int16_t>((bytes[0] << 8) | bytes[1]));
      auto header = kafka::find_controller_api(key) ? kafka::decode_controller_request_header(r)
                                                    : kafka::decode_request_header(r);
      if (!header.ok() ||
          (!kafka::find_controller_api(key) && kafka::find_api(header->api_key) == nullptr)) {
        spdlog::warn("rpc {}: unreadable request header (api {}): closing",
                     conn_->peer_address().to_string(), static_cast<int16_t>(key));
        return end();
      }
      uint64_t slot = next_slot_++;
      answers_.emplace(slot, std::nullopt);
      server_.handler_(*header, r, Responder(weak_from_this(), slot, *header));
    }
  }

  RpcServer& server_;
  net::ConnectionPtr conn_;
  net::FrameReader reader_{kRpcRequestBytesMax};
  uint64_t next_slot_ = 0;
  std::map<uint64_t, std::optional<Bytes>> answers_;  // by slot: unanswered ones are nullopt
};

void Responder::deliver(Result<Bytes> frame) {
  if (auto conn = conn_.lock()) conn->answer(slot_, std::move(frame));
  conn_.reset();
}

void Responder::close_connection() {
  if (auto conn = conn_.lock()) conn->end();
  conn_.reset();
}

RpcServer::RpcServer(Env& env, RpcHandler handler) : env_(env), handler_(std::move(handler)) {}

RpcServer::~RpcServer() {
  close();
}

Status RpcServer::listen(const net::Address& address) {
  auto listener = env_.network.listen(
      address, guarded(alive_, [this](net::ConnectionPtr conn) { accept(std::move(conn)); }));
  if (!listener.ok()) return listener.status();
  listener_ = std::move(listener).value();
  return Status::Ok();
}

net::Address RpcServer::address() const {
  return listener_ ? listener_->address() : net::Address{};
}

void RpcServer::close() {
  listener_.reset();
  auto conns = std::move(connections_);
  connections_.clear();
  for (auto& [raw, conn] : conns) conn->end();
}

void RpcServer::accept(net::ConnectionPtr conn) {
  if (connections_.size() >= kRpcServerConnectionsMax) return conn->close();
  auto c = std::make_shared<RpcServerConnection>(*this, std::move(conn));
  connections_.emplace(c.get(), c);
  c->start();
}

void RpcServer::forget(RpcServerConnection* conn) {
  connections_.erase(conn);
}

}  // namespace gregor::rpc
