// RpcServer: the listener side of node-to-node requests (a controller's listener: the quorum
// RPCs from other controllers, and the broker-to-controller APIs). Frames are Kafka's; a request
// of a controller api (kafka::kControllerApis) is read with the controller header functions, any
// other with the broker's. The handler gets each request with a Responder and may answer later
// (after an fsync, after a commit); answers leave in request order per connection, as Kafka's
// clients expect, whatever order the handler answers in.
//
// Contracts:
// - A request the handler does not answer holds back every later answer of its connection:
//   answer each request exactly once (Responder asserts a second answer), or close().
// - A frame that cannot be read (a bad size, an unknown api key, a malformed header) closes the
//   connection; so does a connection past kRpcServerInFlightMax unanswered requests.
// - Answers to a connection that ended are dropped. Nothing runs after the server is destroyed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "base/env.h"
#include "net/network.h"
#include "node/kafka/api.h"

namespace gregor::rpc {

inline constexpr uint32_t kRpcRequestBytesMax = 64 << 20;
inline constexpr size_t kRpcServerInFlightMax = 1024;  // per connection
inline constexpr size_t kRpcServerConnectionsMax = 1024;

class RpcServerConnection;

class Responder {
 public:
  Responder(std::weak_ptr<RpcServerConnection> conn, uint64_t slot, kafka::RequestHeader header)
      : conn_(std::move(conn)), slot_(slot), header_(std::move(header)) {}

  const kafka::RequestHeader& header() const { return header_; }
  template <kafka::Message Resp>
  void reply(const Resp& resp) {
    deliver([&]() -> Result<Bytes> {
      if constexpr (kafka::is_controller_api(Resp::api_key)) {
        return kafka::encode_controller_response_frame(header_.api_version, header_.correlation_id,
                                                       resp);
      } else {
        return kafka::encode_response_frame(header_.api_key, header_.api_version,
                                            header_.correlation_id, resp);
      }
    }());
  }
  // Ends the connection instead of answering (a request that cannot be answered sensibly).
  void close_connection();

 private:
  void deliver(Result<Bytes> frame);
  std::weak_ptr<RpcServerConnection> conn_;
  uint64_t slot_;
  kafka::RequestHeader header_;
};

// The handler reads the body from `body` (positioned after the header) in header.api_version.
using RpcHandler =
    std::function<void(const kafka::RequestHeader& header, Reader& body, Responder responder)>;

class RpcServer {
 public:
  RpcServer(Env& env, RpcHandler handler);
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Binds and listens; the errors of Network::listen.
  Status listen(const net::Address& address);
  net::Address address() const;
  // Stops listening and closes every connection.
  void close();
  size_t connection_count() const { return connections_.size(); }

 private:
  friend class RpcServerConnection;
  void accept(net::ConnectionPtr conn);
  void forget(RpcServerConnection* conn);

  Env& env_;
  RpcHandler handler_;
  std::unique_ptr<net::Listener> listener_;
  std::map<RpcServerConnection*, std::shared_ptr<RpcServerConnection>> connections_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::rpc
