// KafkaConnection: one client connection. Splits the byte stream into frames (size-limited by
// socket.request.max.bytes), hands each to KafkaApis as it arrives, and sends the responses in
// request order, as Kafka's protocol requires (a slow request, such as a waiting fetch, holds
// back the responses after it). At most queued.max.requests requests are in flight: at the limit
// the connection stops reading (Connection::set_reading, as Kafka mutes the channel), and
// requests already read wait until answers go out. A backend that cannot stop reading (the
// simulated network) may deliver more: past 2 x socket.request.max.bytes of waiting requests
// the connection is closed.
// An oversized frame, or a malformed or unserved request closes the connection; other
// connections go on. So does silence for connections.max.idle.ms with nothing in flight.
#pragma once

#include <deque>
#include <functional>
#include <memory>

#include "net/frame_reader.h"
#include "net/network.h"
#include "node/broker/kafka_apis.h"

namespace gregor::broker {

// Responses queued for a client that does not read them: past this the connection is closed.
// (Reading pauses only at queued.max.requests in flight, and answers already handed to the
// connection are no longer in flight, so a client that sends and never reads can fill this.)
inline constexpr size_t kSendQueueBytesMax = size_t{256} << 20;

// Requests read beyond queued.max.requests wait, up to this many socket.request.max.bytes of them
// besides the frame being received (whose bytes the reader counts too).
inline constexpr size_t kWaitingRequestFrames = 2;

class KafkaConnection : public std::enable_shared_from_this<KafkaConnection> {
 public:
  KafkaConnection(net::ConnectionPtr conn, KafkaApis& apis, const BrokerConfig& config,
                  Clock& clock, std::function<void(KafkaConnection*)> on_closed);
  ~KafkaConnection();
  void start();
  // Closes the connection; pending replies are dropped. on_closed does not run.
  void close();
  bool open() const { return conn_ != nullptr; }

 private:
  struct Slot {
    bool ready = false;
    std::optional<Bytes> frame;  // nullopt: the request gets no response
  };
  void on_data(ByteView data);
  // Hands waiting frames to KafkaApis while fewer than queued.max.requests are in flight.
  void dispatch_waiting();
  void dispatch(Bytes frame);
  void send_ready();
  void fail(const std::string& why);
  // connections.max.idle.ms: closes the connection when nothing was received or sent for that
  // long and no request is in flight.
  void arm_idle_timer();

  net::ConnectionPtr conn_;
  KafkaApis& apis_;
  const BrokerConfig& config_;
  std::function<void(KafkaConnection*)> on_closed_;
  net::FrameReader reader_;
  std::deque<std::shared_ptr<Slot>> in_flight_;  // arrival order
  bool dispatching_ = false;
  Clock& clock_;
  MonoTime last_active_;
  TimerId idle_timer_ = kNoTimer;
};

}  // namespace gregor::broker
