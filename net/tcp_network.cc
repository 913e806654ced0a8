#include "net/tcp_network.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

namespace gregor::net {
namespace {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Maps a socket errno to the seam's error codes; the message keeps the OS text for humans.
Status socket_error(int err, std::string_view what, const Address& peer) {
  Errc code = Errc::io_error;
  switch (err) {
    case ECONNREFUSED:
      code = Errc::connection_refused;
      break;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
      code = Errc::connection_reset;
      break;
    case ETIMEDOUT:
      code = Errc::timed_out;
      break;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
      code = Errc::unreachable;
      break;
    case EADDRINUSE:
      code = Errc::address_in_use;
      break;
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
      code = Errc::invalid_argument;
      break;
    default:
      break;
  }
  return errorf(code, "{} {}: {}", what, peer.to_string(), std::strerror(err));
}

Result<std::vector<SockAddr>> resolve(const Address& address) {
  SockAddr one;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&one.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&one.storage);
  if (inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    one.len = sizeof(sockaddr_in);
    return std::vector<SockAddr>{one};
  }
  if (inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    one.len = sizeof(sockaddr_in6);
    return std::vector<SockAddr>{one};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return errorf(Errc::invalid_argument, "cannot resolve '{}': {}", address.host,
                  gai_strerror(rc));
  }
  std::vector<SockAddr> out;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    SockAddr a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.len = ai->ai_addrlen;
    out.push_back(a);
  }
  freeaddrinfo(found);
  if (out.empty()) return errorf(Errc::invalid_argument, "'{}' has no address", address.host);
  return out;
}

Address to_address(const sockaddr_storage& ss) {
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    return Address{text, ntohs(v6->sin6_port)};
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&ss);
  inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
  return Address{text, ntohs(v4->sin_port)};
}

int new_socket(int family) {
  return ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

// Kafka traffic is request/response with small frames: Nagle would add up to 40 ms per request.
// Failure only costs latency, so it is not an error.
void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int pending_socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

// One received chunk at a time is handed to on_data; callbacks cannot trigger a read of another
// connection synchronously, so one buffer per thread serves every connection.
uint8_t* read_buffer() {
  static thread_local std::unique_ptr<uint8_t[]> buffer(new uint8_t[kReadChunkBytes]);
  return buffer.get();
}

class TcpConnection final : public Connection, public std::enable_shared_from_this<TcpConnection> {
 public:
  // Takes ownership of a connected non-blocking socket and registers it with the loop.
  static Result<std::shared_ptr<TcpConnection>> adopt(EventLoop& loop, int fd, Address peer,
                                                      size_t send_queue_bytes_max);
  TcpConnection(EventLoop& loop, int fd, Address peer, size_t send_queue_bytes_max)
      : loop_(loop), fd_(fd), peer_(std::move(peer)), send_queue_bytes_max_(send_queue_bytes_max) {}
  ~TcpConnection() override { close_fd(); }

  void set_handlers(Handlers handlers) override;
  void send(Bytes data) override;
  void close() override;
  bool is_open() const override { return state_ == State::open; }
  size_t send_queue_bytes() const override { return queued_bytes_; }
  const Address& peer_address() const override { return peer_; }
  void set_reading(bool reading) override;

 private:
  // open -> ended (close() or on_close delivered); open -> failing (on_close posted) -> ended.
  enum class State : uint8_t { open, failing, ended };

  void on_events(uint32_t events);
  void read_some();
  Status flush();
  void consume(size_t written);
  void update_interest();
  void fail(const Status& status);
  void fail_later(Status status);
  void deliver_posted_close(const Status& status);
  void close_fd();

  EventLoop& loop_;
  int fd_;
  Address peer_;
  size_t send_queue_bytes_max_;
  State state_ = State::open;
  Handlers handlers_;
  bool reading_ = false;  // EPOLLIN is wanted only once handlers exist, so no byte is dropped
  bool paused_ = false;   // set_reading(false): EPOLLIN is not wanted, bytes wait in the kernel
  uint32_t interest_ = 0;
  std::deque<Bytes> queue_;
  size_t front_offset_ = 0;  // bytes of queue_.front() already sent
  size_t queued_bytes_ = 0;
};

Result<std::shared_ptr<TcpConnection>> TcpConnection::adopt(EventLoop& loop, int fd, Address peer,
                                                            size_t send_queue_bytes_max) {
  set_nodelay(fd);
  auto conn = std::make_shared<TcpConnection>(loop, fd, std::move(peer), send_queue_bytes_max);
  // The loop holds only a weak reference: the owner's last ConnectionPtr decides the lifetime.
  std::weak_ptr<TcpConnection> weak = conn;
  Status added = loop.add_fd(fd, 0, [weak](uint32_t events) {
    if (auto self = weak.lock()) self->on_events(events);
  });
  if (!added.ok()) {
    conn->fd_ = -1;
    ::close(fd);
    return added;
  }
  return conn;
}

void TcpConnection::set_handlers(Handlers handlers) {
  handlers_ = std::move(handlers);
  if (state_ == State::open && !reading_) {
    reading_ = true;
    update_interest();
  }
}

void TcpConnection::send(Bytes data) {
  if (state_ != State::open || data.empty()) return;
  if (queued_bytes_ + data.size() > send_queue_bytes_max_) {
    fail_later(errorf(Errc::limit_exceeded, "send queue to {} over {} bytes", peer_.to_string(),
                      send_queue_bytes_max_));
    return;
  }
  bool was_idle = queue_.empty();
  queued_bytes_ += data.size();
  queue_.push_back(std::move(data));
  if (!was_idle) return;  // EPOLLOUT is armed; the loop writes when the socket drains
  // Write at once: most sends fit in the socket buffer and need no loop iteration.
  Status written = flush();
  if (!written.ok()) return fail_later(std::move(written));
  update_interest();
}

void TcpConnection::set_reading(bool reading) {
  if (paused_ == !reading) return;
  paused_ = !reading;
  update_interest();  // level-triggered: bytes already waiting raise EPOLLIN again at once
}

void TcpConnection::close() {
  if (state_ == State::ended) return;
  state_ = State::ended;
  close_fd();
  handlers_ = {};  // safe inside a handler: dispatch runs a copy
}

void TcpConnection::close_fd() {
  if (fd_ < 0) return;
  loop_.remove_fd(fd_);
  ::close(fd_);
  fd_ = -1;
  queue_.clear();
  front_offset_ = 0;
  queued_bytes_ = 0;
}

void TcpConnection::on_events(uint32_t events) {
  // Handlers may drop the owner's last reference; keep this object alive until we return.
  std::shared_ptr<TcpConnection> self = shared_from_this();
  // Read before write: bytes the peer sent before resetting are still delivered.
  bool want_bytes = reading_ && !paused_;
  if (want_bytes && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) read_some();
  if (fd_ < 0) return;
  if (events & EPOLLOUT) {
    Status written = flush();
    if (!written.ok()) return fail(written);
    update_interest();
  }
  if (fd_ >= 0 && !want_bytes && (events & (EPOLLERR | EPOLLHUP))) {
    // Nobody reads (yet, or paused), so recv() cannot surface the error: report it here rather
    // than spin on a level-triggered event nobody consumes. (When reading, recv() returns the
    // pending error.) A hang-up means the peer reads nothing more either, so waiting requests
    // could not be answered anyway.
    int err = pending_socket_error(fd_);
    if (err != 0) return fail(socket_error(err, "connection to", peer_));
    return fail(errorf(Errc::closed, "connection to {} hung up", peer_.to_string()));
  }
}

void TcpConnection::read_some() {
  uint8_t* buffer = read_buffer();
  for (int i = 0; i < kReadsPerEventMax && fd_ >= 0 && !paused_; ++i) {
    ssize_t n = ::recv(fd_, buffer, kReadChunkBytes, 0);
    if (n > 0) {
      auto on_data = handlers_.on_data;  // a copy: the handler may replace or clear handlers_
      if (on_data) on_data(ByteView(buffer, static_cast<size_t>(n)));
      if (static_cast<size_t>(n) < kReadChunkBytes) return;  // drained; epoll says if more came
      continue;
    }
    if (n == 0) return fail(errorf(Errc::closed, "connection closed by {}", peer_.to_string()));
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    return fail(socket_error(errno, "read from", peer_));
  }
}

Status TcpConnection::flush() {
  while (!queue_.empty()) {
    iovec iov[kSendIovecsMax];
    size_t count = 0;
    for (auto it = queue_.begin(); it != queue_.end() && count < kSendIovecsMax; ++it, ++count) {
      size_t skip = count == 0 ? front_offset_ : 0;
      iov[count].iov_base = it->data() + skip;
      iov[count].iov_len = it->size() - skip;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    // MSG_NOSIGNAL: a peer that went away must be an EPIPE value, not a SIGPIPE that kills us.
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n >= 0) {
      consume(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::Ok();
    return socket_error(errno, "send to", peer_);
  }
  return Status::Ok();
}

void TcpConnection::consume(size_t written) {
  queued_bytes_ -= written;
  while (written > 0) {
    size_t left = queue_.front().size() - front_offset_;
    if (written < left) {
      front_offset_ += written;
      return;
    }
    written -= left;
    queue_.pop_front();
    front_offset_ = 0;
  }
}

void TcpConnection::update_interest() {
  if (fd_ < 0) return;
  uint32_t want = (reading_ && !paused_ ? EPOLLIN : 0u) | (queue_.empty() ? 0u : EPOLLOUT);
  if (want == interest_) return;
  Status changed = loop_.modify_fd(fd_, want);
  if (!changed.ok()) return fail_later(std::move(changed));
  interest_ = want;
}

// Called from the loop (an fd event): on_close may run right away.
void TcpConnection::fail(const Status& status) {
  if (state_ != State::open) return;
  state_ = State::ended;
  close_fd();
  auto on_close = std::move(handlers_.on_close);
  handlers_ = {};
  if (on_close) on_close(status);
}

// Called from inside an owner's call (send): on_close must wait for a later iteration.
void TcpConnection::fail_later(Status status) {
  if (state_ != State::open) return;
  state_ = State::failing;
  close_fd();
  std::weak_ptr<TcpConnection> weak = weak_from_this();
  loop_.post([weak, status = std::move(status)] {
    if (auto self = weak.lock()) self->deliver_posted_close(status);
  });
}

void TcpConnection::deliver_posted_close(const Status& status) {
  if (state_ != State::failing) return;  // the owner called close() meanwhile
  state_ = State::ended;
  auto on_close = std::move(handlers_.on_close);
  handlers_ = {};
  if (on_close) on_close(status);
}

class TcpListener final : public Listener {
 public:
  TcpListener(EventLoop& loop, int fd, Address bound, Network::AcceptFn on_accept,
              size_t send_queue_bytes_max)
      : loop_(loop),
        fd_(fd),
        bound_(std::move(bound)),
        on_accept_(std::move(on_accept)),
        send_queue_bytes_max_(send_queue_bytes_max) {}
  ~TcpListener() override;
  Address address() const override { return bound_; }
  Status start() {
    return loop_.add_fd(fd_, EPOLLIN, [this](uint32_t) { accept_some(); });
  }

 private:
  void accept_some();
  void back_off(int err);

  EventLoop& loop_;
  int fd_;
  Address bound_;
  Network::AcceptFn on_accept_;
  size_t send_queue_bytes_max_;
  TimerId backoff_timer_ = kNoTimer;
  // Lets accept_some() notice that on_accept destroyed this listener.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

TcpListener::~TcpListener() {
  loop_.cancel(backoff_timer_);
  loop_.remove_fd(fd_);
  ::close(fd_);
}

void TcpListener::accept_some() {
  std::weak_ptr<bool> alive = alive_;
  for (int i = 0; i < kAcceptsPerEventMax; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        return back_off(errno);
      }
      continue;  // EINTR, ECONNABORTED, EPROTO...: that one connection is gone, not the listener
    }
    auto conn = TcpConnection::adopt(loop_, fd, to_address(ss), send_queue_bytes_max_);
    if (!conn.ok()) {
      spdlog::warn("listener {}: dropping accepted connection: {}", bound_.to_string(),
                   conn.status());
      continue;
    }
    auto on_accept = on_accept_;  // a copy: the callback may destroy this listener
    on_accept(std::move(conn).value());
    if (alive.expired()) return;
  }
}

// Out of fds: level-triggered epoll would wake us forever for the same pending connection, so
// stop watching for a while and let the process close some.
void TcpListener::back_off(int err) {
  spdlog::warn("listener {}: accept: {}; pausing {}", bound_.to_string(), std::strerror(err),
               format_duration(kAcceptBackoff));
  if (!loop_.modify_fd(fd_, 0).ok()) return;
  backoff_timer_ = loop_.schedule_after(kAcceptBackoff, [this] {
    backoff_timer_ = kNoTimer;
    loop_.modify_fd(fd_, EPOLLIN).ignore();
  });
}

Result<int> bind_and_listen(const SockAddr& at, const Address& address) {
  int fd = new_socket(at.storage.ss_family);
  if (fd < 0) return socket_error(errno, "socket for", address);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, at.get(), at.len) != 0 || ::listen(fd, kListenBacklog) != 0) {
    Status failed = socket_error(errno, "listen on", address);
    ::close(fd);
    return failed;
  }
  return fd;
}

}  // namespace

struct TcpNetwork::PendingConnect {
  Address address;
  ConnectFn done;
  std::vector<SockAddr> candidates;
  size_t next_candidate = 0;
  int fd = -1;  // the attempt in flight, watched for EPOLLOUT
  TimerId timer = kNoTimer;
  Status last_error = error(Errc::unreachable, "no address tried");
};

TcpNetwork::TcpNetwork(EventLoop& loop, Options options) : loop_(loop), options_(options) {}

TcpNetwork::~TcpNetwork() {
  for (auto& [id, pending] : connects_) {
    loop_.cancel(pending->timer);
    if (pending->fd >= 0) {
      loop_.remove_fd(pending->fd);
      ::close(pending->fd);
    }
  }
}

Result<std::unique_ptr<Listener>> TcpNetwork::listen(const Address& address, AcceptFn on_accept) {
  auto resolved = resolve(address);
  if (!resolved.ok()) return resolved.status();
  auto fd = bind_and_listen(resolved->front(), address);
  if (!fd.ok()) return fd.status();
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(*fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    Status failed = socket_error(errno, "getsockname of", address);
    ::close(*fd);
    return failed;
  }
  auto listener = std::make_unique<TcpListener>(loop_, *fd, to_address(ss), std::move(on_accept),
                                                options_.send_queue_bytes_max);
  GREGOR_RETURN_IF_ERROR(listener->start());
  return std::unique_ptr<Listener>(std::move(listener));
}

void TcpNetwork::connect(const Address& address, ConnectFn done) {
  uint64_t id = next_connect_id_++;
  auto pending = std::make_unique<PendingConnect>();
  pending->address = address;
  pending->done = std::move(done);
  pending->timer = loop_.schedule_after(options_.connect_timeout, [this, id] {
    connects_.at(id)->timer = kNoTimer;
    finish_connect(id, errorf(Errc::timed_out, "connect to {} timed out after {}",
                              connects_.at(id)->address.to_string(),
                              format_duration(options_.connect_timeout)));
  });
  connects_.emplace(id, std::move(pending));
  // Even resolution failures and synchronous refusals must not call `done` inside connect().
  std::weak_ptr<bool> alive = alive_;
  loop_.post([this, alive, id] {
    if (!alive.expired()) start_connect(id);
  });
}

void TcpNetwork::start_connect(uint64_t id) {
  auto it = connects_.find(id);
  if (it == connects_.end()) return;  // timed out before the loop got here
  auto resolved = resolve(it->second->address);
  if (!resolved.ok()) return finish_connect(id, resolved.status());
  it->second->candidates = std::move(resolved).value();
  try_next_address(id);
}

void TcpNetwork::try_next_address(uint64_t id) {
  PendingConnect& pending = *connects_.at(id);
  while (pending.next_candidate < pending.candidates.size()) {
    const SockAddr& at = pending.candidates[pending.next_candidate++];
    int fd = new_socket(at.storage.ss_family);
    if (fd < 0) {
      pending.last_error = socket_error(errno, "socket for", pending.address);
      continue;
    }
    // EINTR: the connect carries on asynchronously, exactly as EINPROGRESS.
    if (::connect(fd, at.get(), at.len) == 0 || errno == EINPROGRESS || errno == EINTR) {
      Status added = loop_.add_fd(fd, EPOLLOUT, [this, id](uint32_t) { on_connect_event(id); });
      if (added.ok()) {
        pending.fd = fd;
        return;
      }
      pending.last_error = added;
    } else {
      pending.last_error = socket_error(errno, "connect to", pending.address);
    }
    ::close(fd);
  }
  finish_connect(id, pending.last_error);
}

void TcpNetwork::on_connect_event(uint64_t id) {
  PendingConnect& pending = *connects_.at(id);
  int fd = pending.fd;
  int err = pending_socket_error(fd);
  loop_.remove_fd(fd);
  pending.fd = -1;
  if (err != 0) {
    ::close(fd);
    pending.last_error = socket_error(err, "connect to", pending.address);
    return try_next_address(id);  // refused on ::1 may still succeed on 127.0.0.1
  }
  auto conn = TcpConnection::adopt(loop_, fd, pending.address, options_.send_queue_bytes_max);
  if (!conn.ok()) return finish_connect(id, conn.status());
  finish_connect(id, ConnectionPtr(std::move(conn).value()));
}

void TcpNetwork::finish_connect(uint64_t id, Result<ConnectionPtr> result) {
  auto it = connects_.find(id);
  if (it == connects_.end()) return;
  std::unique_ptr<PendingConnect> pending = std::move(it->second);
  connects_.erase(it);
  loop_.cancel(pending->timer);
  if (pending->fd >= 0) {
    loop_.remove_fd(pending->fd);
    ::close(pending->fd);
  }
  ConnectFn done = std::move(pending->done);
  pending.reset();
  // Last statement: `done` may destroy this network.
  done(std::move(result));
}

}  // namespace gregor::net
