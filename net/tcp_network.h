// The production Network: TCP over the EventLoop (epoll). Sockets are non-blocking and
// close-on-exec, Nagle is off (TCP_NODELAY) because Kafka requests are small and latency-bound,
// listeners set SO_REUSEADDR so a restarted broker can rebind its port at once.
//
// Addresses: IPv4 and IPv6 literals, or names resolved synchronously with getaddrinfo (meant for
// "localhost" and config-file names; resolution blocks the loop). connect() tries each resolved
// address in order until one accepts.
//
// Every callback (accept, connect, on_data, on_close) runs from the loop, never inside the call
// that caused it: a connect that fails synchronously reports on a later iteration, and a send()
// that hits a dead socket reports through on_close on a later iteration.
//
// Lifetime: the EventLoop must outlive the TcpNetwork and every connection and listener.
// Dropping the last ConnectionPtr closes the connection (as close() does). Destroying the
// TcpNetwork abandons connects still in flight: their callbacks never run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>

#include "base/time.h"
#include "net/event_loop.h"
#include "net/network.h"

namespace gregor::net {

// Named limits.
inline constexpr Duration kConnectTimeout = seconds(10);  // a connect gives up: timed_out
inline constexpr size_t kReadChunkBytes = 64 * 1024;      // one read(2), one on_data call
inline constexpr int kReadsPerEventMax = 16;              // then other fds get a turn
inline constexpr size_t kSendQueueBytesMax = 256u << 20;  // beyond: limit_exceeded, closed
inline constexpr size_t kSendIovecsMax = 64;              // buffers per sendmsg(2)
inline constexpr int kListenBacklog = 1024;
inline constexpr int kAcceptsPerEventMax = 64;
inline constexpr Duration kAcceptBackoff = milliseconds(100);  // after EMFILE / ENFILE

class TcpNetwork final : public Network {
 public:
  struct Options {
    Duration connect_timeout = kConnectTimeout;
    size_t send_queue_bytes_max = kSendQueueBytesMax;
  };

  explicit TcpNetwork(EventLoop& loop) : TcpNetwork(loop, Options{}) {}
  TcpNetwork(EventLoop& loop, Options options);
  ~TcpNetwork() override;
  TcpNetwork(const TcpNetwork&) = delete;
  TcpNetwork& operator=(const TcpNetwork&) = delete;

  // Binds and listens synchronously. Errc::address_in_use, invalid_argument (bad or unresolvable
  // host), io_error (other socket errors).
  Result<std::unique_ptr<Listener>> listen(const Address& address, AcceptFn on_accept) override;
  // `done` gets the connection, or connection_refused, timed_out (after connect_timeout),
  // unreachable, invalid_argument (bad host) or io_error.
  void connect(const Address& address, ConnectFn done) override;

  struct PendingConnect;  // one connect in flight (defined in the .cc)

 private:
  void start_connect(uint64_t id);
  void try_next_address(uint64_t id);
  void on_connect_event(uint64_t id);
  void finish_connect(uint64_t id, Result<ConnectionPtr> result);

  EventLoop& loop_;
  Options options_;
  uint64_t next_connect_id_ = 1;
  std::map<uint64_t, std::unique_ptr<PendingConnect>> connects_;
  // Posted callbacks hold a weak reference: a network destroyed before they run is noticed.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::net
