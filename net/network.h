// The network seam: byte-stream connections with TCP semantics (ordered, reliable, no
// duplication inside one connection; any split of the bytes sent may arrive). Production: TCP over
// epoll (tcp_network.h). Simulation: sim/sim_network.h with latency, partitions and resets.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/status.h"

namespace gregor::net {

struct Address {
  std::string host;  // an IP literal or name in production; a node name in simulation
  uint16_t port = 0;

  std::string to_string() const;
  // Parses "host:port" (IPv6 as "[::1]:9092"). Errc::invalid_argument on bad input.
  static Result<Address> parse(std::string_view text);
  auto operator<=>(const Address&) const = default;
};

class Connection {
 public:
  struct Handlers {
    // Bytes in the order the peer sent them, in chunks of any size.
    std::function<void(ByteView)> on_data;
    // Called at most once, when the connection ends for a reason other than our own close():
    // Errc::closed for an orderly close by the peer, connection_reset, timed_out, io_error...
    std::function<void(const Status&)> on_close;
  };

  virtual ~Connection() = default;
  // Install handlers in the accept or connect callback, before returning to the loop.
  virtual void set_handlers(Handlers handlers) = 0;
  // Queues bytes for sending, in order. Failures surface through on_close.
  virtual void send(Bytes data) = 0;
  // Closes now; no handler runs after this returns. Queued bytes may or may not be sent.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  // Bytes queued but not yet handed to the peer (for back-pressure limits).
  virtual size_t send_queue_bytes() const = 0;
  // Receive-side back-pressure: false stops reading from the peer (its sends then stall in TCP),
  // true resumes. Only a hint: a backend may go on delivering (the simulated network does), so a
  // caller must still bound what it buffers.
  virtual void set_reading(bool reading) { (void)reading; }
  virtual const Address& peer_address() const = 0;
};
using ConnectionPtr = std::shared_ptr<Connection>;

class Listener {
 public:
  virtual ~Listener() = default;        // destroying a listener stops accepting
  virtual Address address() const = 0;  // the bound address (port resolved when 0 was asked)
};

class Network {
 public:
  using AcceptFn = std::function<void(ConnectionPtr)>;
  using ConnectFn = std::function<void(Result<ConnectionPtr>)>;

  virtual ~Network() = default;
  // Binds and listens. Port 0 picks a free port. Errc::address_in_use, invalid_argument.
  virtual Result<std::unique_ptr<Listener>> listen(const Address& address, AcceptFn on_accept) = 0;
  // Connects; `done` gets the connection or connection_refused / timed_out / unreachable.
  virtual void connect(const Address& address, ConnectFn done) = 0;
};

}  // namespace gregor::net
