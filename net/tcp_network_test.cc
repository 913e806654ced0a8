// Proves TcpNetwork over real loopback sockets: bytes round-trip and a large transfer arrives
// intact and in order; failures arrive as typed errors (refused connect, peer reset, orderly
// close, port in use, connect timeout, send queue over its limit); callbacks never run inside the
// call that registered them; and closing or dropping a connection from inside its own callback
// is safe and silences it.
#include "net/tcp_network.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

namespace gregor::tcp_network_test {
namespace {

using namespace gregor::net;  // NOLINT: the fixture below takes the name TcpNetwork

constexpr Duration kWait = seconds(20);  // generous: sanitizer builds on a loaded machine

// Named after the class under test so that ctest shows TcpNetwork.<Case>.
class TcpNetwork : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop.ok()) << loop.status().to_string();
    loop_ = std::move(loop).value();
    net_ = std::make_unique<net::TcpNetwork>(*loop_);
  }

  // A listener on 127.0.0.1 with an OS-chosen port; accepted connections land in accepted_.
  std::unique_ptr<Listener> listen_local(std::string host = "127.0.0.1") {
    auto listener = net_->listen(Address{host, 0}, [this](ConnectionPtr c) {
      accepted_.push_back(c);
      if (on_accept_) on_accept_(c);
    });
    EXPECT_TRUE(listener.ok()) << listener.status().to_string();
    if (!listener.ok()) return nullptr;
    EXPECT_NE(listener.value()->address().port, 0);
    return std::move(listener).value();
  }

  Result<ConnectionPtr> connect_and_wait(const Address& address) {
    std::optional<Result<ConnectionPtr>> result;
    net_->connect(address, [&](Result<ConnectionPtr> r) { result.emplace(std::move(r)); });
    EXPECT_TRUE(loop_->run_until([&] { return result.has_value(); }, kWait));
    if (!result) return error(Errc::timed_out, "test gave up waiting");
    return std::move(*result);
  }

  // Installs handlers that collect bytes and the close status.
  struct Sink {
    std::string data;
    std::optional<Status> closed;
  };
  static void collect(const ConnectionPtr& c, Sink& sink) {
    c->set_handlers({.on_data = [&sink](ByteView b) { sink.data.append(as_chars(b)); },
                     .on_close = [&sink](const Status& s) { sink.closed = s; }});
  }

  bool wait(const std::function<bool()>& pred) { return loop_->run_until(pred, kWait); }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<net::TcpNetwork> net_;
  std::vector<ConnectionPtr> accepted_;
  std::function<void(ConnectionPtr)> on_accept_;
};

// A port nothing listens on: bound (so no one else takes it) but never listen()ed.
struct ReservedPort {
  int fd = -1;
  uint16_t port = 0;
  ReservedPort() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    socklen_t len = sizeof(sa);
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
    port = ntohs(sa.sin_port);
  }
  ~ReservedPort() { ::close(fd); }
};

TEST_F(TcpNetwork, EchoRoundTrip) {
  on_accept_ = [](ConnectionPtr c) {
    Connection* raw = c.get();  // the handler must not own its connection (a cycle)
    c->set_handlers({.on_data = [raw](ByteView b) { raw->send(Bytes(b.begin(), b.end())); }});
  };
  auto listener = listen_local();
  auto client = connect_and_wait(listener->address());
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  Sink sink;
  collect(*client, sink);
  (*client)->send(to_bytes("hello, gregor"));
  ASSERT_TRUE(wait([&] { return sink.data.size() >= 13; }));
  EXPECT_EQ(sink.data, "hello, gregor");
  EXPECT_TRUE((*client)->is_open());
  EXPECT_EQ((*client)->peer_address(), listener->address());
}

TEST_F(TcpNetwork, LargeTransferArrivesIntactAndInOrder) {
  constexpr size_t kTotal = 8u << 20;
  constexpr size_t kChunk = 100'003;  // odd size: chunk and segment boundaries never line up
  Sink server;
  on_accept_ = [&](ConnectionPtr c) { collect(c, server); };
  auto listener = listen_local();
  auto client = connect_and_wait(listener->address());
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  Sink client_sink;
  collect(*client, client_sink);
  std::string expected;
  expected.reserve(kTotal);
  for (size_t i = 0; i < kTotal; ++i)
    expected.push_back(static_cast<char>((i * 131 + i / 7) & 0xff));
  for (size_t at = 0; at < kTotal; at += kChunk) {
    size_t n = std::min(kChunk, kTotal - at);
    (*client)->send(to_bytes(std::string_view(expected).substr(at, n)));
  }
  EXPECT_GT((*client)->send_queue_bytes(), 0u) << "8 MiB should not fit in socket buffers";
  ASSERT_TRUE(wait([&] { return server.data.size() >= kTotal; }));
  EXPECT_EQ(server.data.size(), kTotal);
  EXPECT_TRUE(server.data == expected) << "bytes differ";
  EXPECT_EQ((*client)->send_queue_bytes(), 0u);
  EXPECT_FALSE(server.closed.has_value());
}

TEST_F(TcpNetwork, PausedReadingStallsThePeerUntilResumed) {
  constexpr size_t kTotal = 8u << 20;  // more than the socket buffers of both ends hold
  Sink server;
  ConnectionPtr accepted;
  on_accept_ = [&](ConnectionPtr c) {
    accepted = c;
    collect(c, server);
    c->set_reading(false);
  };
  auto listener = listen_local();
  auto client = connect_and_wait(listener->address());
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  Sink client_sink;
  collect(*client, client_sink);
  (*client)->send(Bytes(kTotal, 0x5a));
  ASSERT_TRUE(wait([&] { return accepted != nullptr; }));
  loop_->run_until([] { return false; }, milliseconds(200));
  EXPECT_TRUE(server.data.empty()) << "paused: nothing delivered";
  EXPECT_GT((*client)->send_queue_bytes(), 0u) << "the sender stalls in TCP";
  accepted->set_reading(true);
  ASSERT_TRUE(wait([&] { return server.data.size() >= kTotal; }));
  EXPECT_EQ(server.data, std::string(kTotal, 0x5a));
  EXPECT_EQ((*client)->send_queue_bytes(), 0u);
  EXPECT_FALSE(server.closed.has_value());
}

TEST_F(TcpNetwork, RefusedConnectIsTypedError) {
  ReservedPort reserved;
  auto result = connect_and_wait(Address{"127.0.0.1", reserved.port});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.code(), Errc::connection_refused) << result.status().to_string();
}

TEST_F(TcpNetwork, ConnectCallbackNeverRunsInsideConnect) {
  ReservedPort reserved;
  bool returned = false;
  bool ran_inside = false;
  bool done = false;
  net_->connect(Address{"127.0.0.1", reserved.port}, [&](Result<ConnectionPtr>) {
    ran_inside = !returned;
    done = true;
  });
  returned = true;
  ASSERT_TRUE(wait([&] { return done; }));
  EXPECT_FALSE(ran_inside);
}

TEST_F(TcpNetwork, PeerResetIsTypedError) {
  auto listener = listen_local();
  // A raw client, so the test can make it abort with RST (SO_LINGER {1, 0}) instead of FIN.
  int raw = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(listener->address().port);
  ASSERT_EQ(::connect(raw, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_TRUE(wait([&] { return !accepted_.empty(); }));
  Sink server;
  collect(accepted_[0], server);
  ASSERT_EQ(::send(raw, "abc", 3, MSG_NOSIGNAL), 3);
  ASSERT_TRUE(wait([&] { return server.data == "abc"; }));
  linger abort_on_close{1, 0};
  ASSERT_EQ(::setsockopt(raw, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close)), 0);
  ::close(raw);
  ASSERT_TRUE(wait([&] { return server.closed.has_value(); }));
  EXPECT_EQ(server.closed->code(), Errc::connection_reset) << server.closed->to_string();
  EXPECT_FALSE(accepted_[0]->is_open());
}

TEST_F(TcpNetwork, OrderlyPeerCloseIsClosedAndOwnCloseIsSilent) {
  Sink server;
  on_accept_ = [&](ConnectionPtr c) { collect(c, server); };
  auto listener = listen_local();
  auto client = connect_and_wait(listener->address());
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  Sink client_sink;
  collect(*client, client_sink);
  (*client)->send(to_bytes("last words"));
  (*client)->close();
  EXPECT_FALSE((*client)->is_open());
  ASSERT_TRUE(wait([&] { return server.closed.has_value(); }));
  EXPECT_EQ(server.data, "last words");
  EXPECT_EQ(server.closed->code(), Errc::closed) << server.closed->to_string();
  // The side that called close() hears nothing, not even its own close.
  loop_->run_until([] { return false; }, milliseconds(20));
  EXPECT_FALSE(client_sink.closed.has_value());
}

TEST_F(TcpNetwork, ListenOnPortInUseIsAddressInUse) {
  auto first = listen_local();
  auto second = net_->listen(first->address(), [](ConnectionPtr) {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), Errc::address_in_use) << second.status().to_string();
}

TEST_F(TcpNetwork, DestroyedListenerStopsAccepting) {
  auto listener = listen_local();
  Address address = listener->address();
  listener.reset();
  auto result = connect_and_wait(address);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.code(), Errc::connection_refused) << result.status().to_string();
}

TEST_F(TcpNetwork, CloseInsideOnDataSilencesTheConnection) {
  int data_calls = 0;
  bool close_called = false;
  on_accept_ = [&](ConnectionPtr c) {
    Connection* raw = c.get();
    c->set_handlers({.on_data =
                         [&, raw](ByteView) {
                           ++data_calls;
                           raw->close();
                         },
                     .on_close = [&](const Status&) { close_called = true; }});
  };
  auto listener = listen_local();
  auto client = connect_and_wait(listener->address());
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  Sink client_sink;
  collect(*client, client_sink);
  (*client)->send(to_bytes("one"));
  ASSERT_TRUE(wait([&] { return client_sink.closed.has_value(); }));
  (*client)->send(to_bytes("two"));  // to a closed connection: dropped or failed, never a crash
  loop_->run_until([] { return false; }, milliseconds(20));
  EXPECT_EQ(data_calls, 1);
  EXPECT_FALSE(close_called);
  EXPECT_EQ(client_sink.closed->code(), Errc::closed) << client_sink.closed->to_string();
}

TEST_F(TcpNetwork, DroppingLastReferenceInsideOwnCallbackIsSafe) {
  int data_calls = 0;
  on_accept_ = [&](ConnectionPtr c) {
    c->set_handlers({.on_data = [&](ByteView) {
      ++data_calls;
      accepted_.clear();  // destroys the connection whose handler is running
    }});
  };
  auto listener = listen_local();
  auto client = connect_and_wait(listener->address());
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  Sink client_sink;
  collect(*client, client_sink);
  (*client)->send(to_bytes("bye"));
  ASSERT_TRUE(wait([&] { return client_sink.closed.has_value(); }));
  EXPECT_EQ(data_calls, 1);
}

TEST_F(TcpNetwork, SendQueueOverLimitIsTypedError) {
  net_ = std::make_unique<net::TcpNetwork>(
      *loop_, net::TcpNetwork::Options{.send_queue_bytes_max = 1u << 20});
  auto listener = listen_local();  // accepted connections get no handlers: nobody reads
  auto client = connect_and_wait(listener->address());
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  Sink sink;
  collect(*client, sink);
  for (int i = 0; i < 256 && (*client)->is_open(); ++i) (*client)->send(Bytes(1u << 20, 'x'));
  EXPECT_FALSE(sink.closed.has_value()) << "on_close must not run inside send()";
  ASSERT_TRUE(wait([&] { return sink.closed.has_value(); }));
  EXPECT_EQ(sink.closed->code(), Errc::limit_exceeded) << sink.closed->to_string();
}

TEST_F(TcpNetwork, LocalhostResolves) {
  auto listener = listen_local("127.0.0.1");
  auto client = connect_and_wait(Address{"localhost", listener->address().port});
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  ASSERT_TRUE(wait([&] { return !accepted_.empty(); }));
}

TEST_F(TcpNetwork, Ipv6LoopbackEcho) {
  auto listener = net_->listen(Address{"::1", 0}, [this](ConnectionPtr c) {
    Connection* raw = c.get();
    c->set_handlers({.on_data = [raw](ByteView b) { raw->send(Bytes(b.begin(), b.end())); }});
    accepted_.push_back(c);
  });
  if (!listener.ok()) {
    // A host without IPv6 loopback: binding must still fail as a typed error, not a crash.
    EXPECT_TRUE(listener.code() == Errc::invalid_argument || listener.code() == Errc::io_error ||
                listener.code() == Errc::unreachable)
        << listener.status().to_string();
    RecordProperty("ipv6", "unavailable");
    return;
  }
  EXPECT_EQ((*listener)->address().host, "::1");
  auto client = connect_and_wait((*listener)->address());
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  Sink sink;
  collect(*client, sink);
  (*client)->send(to_bytes("v6"));
  ASSERT_TRUE(wait([&] { return sink.data == "v6"; }));
}

TEST_F(TcpNetwork, ConnectTimeoutIsTypedError) {
  // A raw listener with a backlog of 0 that never accepts: once its queue is full the kernel
  // drops further SYNs, so later connects hang until our timeout gives up on them.
  ReservedPort full;
  ASSERT_EQ(::listen(full.fd, 0), 0);
  net_ = std::make_unique<net::TcpNetwork>(
      *loop_, net::TcpNetwork::Options{.connect_timeout = milliseconds(300)});
  constexpr int kAttempts = 16;
  std::vector<Result<ConnectionPtr>> results;
  for (int i = 0; i < kAttempts; ++i) {
    net_->connect(Address{"127.0.0.1", full.port},
                  [&](Result<ConnectionPtr> r) { results.push_back(std::move(r)); });
  }
  ASSERT_TRUE(wait([&] { return results.size() == kAttempts; }));
  int timed_out = 0;
  for (const auto& r : results) {
    if (r.ok()) continue;  // made it into the accept queue
    EXPECT_EQ(r.code(), Errc::timed_out) << r.status().to_string();
    ++timed_out;
  }
  EXPECT_GT(timed_out, 0);
}

}  // namespace
}  // namespace gregor::tcp_network_test
