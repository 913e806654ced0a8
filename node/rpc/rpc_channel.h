// RpcChannel: node-to-node requests over the network seam, in Kafka's framing. A controller
// sends its quorum RPCs (Vote, BeginQuorumEpoch, Fetch v13, ...) to another controller through
// one, and a broker sends BrokerRegistration / BrokerHeartbeat / CreateTopics to the active
// controller. It is Kafka's NetworkClient for inter-node traffic, without the ApiVersions
// handshake: every node of a cluster runs the same code, so the caller names the version.
//
// Contracts:
// - send() connects on demand; requests wait (bounded by kRpcQueuedMax) while it connects.
// - Responses are matched against the oldest request in flight (Kafka answers a connection's
//   requests in order); another correlation id, a bad frame, a peer close or a request without an
//   answer within its timeout ends the connection and fails every request in flight with the
//   reason. The next send() connects again, but not sooner than `reconnect_backoff` after a
//   failed connect (those sends fail at once with Errc::unreachable): a dead peer costs one
//   connect attempt per backoff, not one per request.
// - Every callback runs exactly once, later, from the event loop, never inside send(); except
//   that none runs after close() or destruction (the owner knows what it had in flight).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "base/env.h"
#include "base/guarded.h"
#include "net/frame_reader.h"
#include "net/network.h"
#include "node/kafka/api.h"

namespace gregor::rpc {

// Named limits.
inline constexpr uint32_t kRpcResponseBytesMax = 64 << 20;  // one response frame (a snapshot)
inline constexpr size_t kRpcQueuedMax = 1024;               // requests in flight or queued

struct RpcChannelConfig {
  std::string client_id = "gregor-node";
  Duration request_timeout = seconds(5);
  Duration connect_timeout = seconds(3);
  Duration reconnect_backoff = milliseconds(200);
};

template <class Req>
using ResponseOf = typename kafka::ApiTraits<Req::api_key>::Response;

class RpcChannel {
 public:
  RpcChannel(Env& env, net::Address address, RpcChannelConfig config = {});
  ~RpcChannel();
  RpcChannel(const RpcChannel&) = delete;
  RpcChannel& operator=(const RpcChannel&) = delete;

  template <kafka::Message Req>
  void send(const Req& req, int16_t version, std::function<void(Result<ResponseOf<Req>>)> done) {
    using Resp = ResponseOf<Req>;
    kafka::RequestHeader header{Req::api_key, version, next_correlation_id_++, config_.client_id};
    constexpr bool controller_api = kafka::is_controller_api(Req::api_key);
    Result<Bytes> frame = [&]() -> Result<Bytes> {
      if constexpr (controller_api) {
        return kafka::encode_controller_request_frame(header, req);
      } else {
        return kafka::encode_request_frame(header, req);
      }
    }();
    int16_t response_header_version =
        controller_api ? kafka::controller_response_header_version(Req::api_key, version)
                       : kafka::response_header_version(Req::api_key, version);
    if (!frame.ok()) return fail_later(std::move(done), frame.status());
    enqueue(header.correlation_id, response_header_version, std::move(frame).value(),
            [done, version](Result<ByteView> body) {
              if (!body.ok()) return done(body.status());
              Reader r(*body);
              done(kafka::decode<Resp>(r, version));
            });
  }

  // Ends the connection (if any) and forgets every request; no callback runs afterwards.
  void close();
  const net::Address& address() const { return address_; }
  bool connected() const { return state_ == State::ready; }
  size_t in_flight() const { return pending_.size(); }

 private:
  enum class State : uint8_t { idle, connecting, ready };
  using RawHandler = std::function<void(Result<ByteView> body)>;
  struct Pending {
    int32_t correlation_id;
    int16_t response_header_version;
    Bytes frame;  // sent once connected; empty afterwards
    MonoTime deadline;
    RawHandler handler;
  };

  template <typename Fn>
  void fail_later(Fn done, Status status) {
    env_.clock.schedule(Duration::zero(),
                        guarded(alive_, [done = std::move(done), status] { done(status); }));
  }
  void enqueue(int32_t correlation_id, int16_t response_header_version, Bytes frame,
               RawHandler handler);
  void connect();
  void on_connected(Result<net::ConnectionPtr> conn);
  void on_data(ByteView data);
  void arm_timer();
  // Ends the connection: fails every request with `why`.
  void fail(const Status& why);

  Env& env_;
  net::Address address_;
  RpcChannelConfig config_;
  State state_ = State::idle;
  net::ConnectionPtr conn_;
  net::FrameReader reader_{kRpcResponseBytesMax};
  int32_t next_correlation_id_ = 1;
  std::deque<Pending> pending_;  // in send order; those with a frame are not sent yet
  TimerId timer_ = kNoTimer;     // the oldest request's deadline, or the connect timeout
  MonoTime connect_deadline_{};
  MonoTime next_connect_{};  // no connect attempt before this (backoff after a failure)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::rpc
