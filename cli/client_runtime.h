// The production Env of a client command (`gregor produce|consume|topics|groups`): the epoll
// loop, TCP, the real clock, an OS-seeded random stream and no disk, with SIGINT/SIGTERM turned
// into a flag the command polls (so it can still commit and leave a group on the way out).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/env.h"
#include "base/random.h"
#include "base/trace.h"
#include "disk/disk.h"
#include "net/event_loop.h"
#include "net/tcp_network.h"

namespace gregor::cli {

// How long await() waits for one answer from the broker.
inline constexpr Duration kClientAnswerTimeout = minutes(2);

// The clients need no disk; every call fails, from the loop, as the seam requires.
class NoDisk final : public disk::Disk {
 public:
  explicit NoDisk(net::EventLoop& loop) : loop_(loop) {}
  void open(const std::string&, disk::OpenMode, OpenFn done) override { fail(std::move(done)); }
  void rename(const std::string&, const std::string&, disk::StatusFn done) override {
    fail(std::move(done));
  }
  void remove(const std::string&, disk::StatusFn done) override { fail(std::move(done)); }
  void mkdir(const std::string&, disk::StatusFn done) override { fail(std::move(done)); }
  void list(const std::string&, ListFn done) override { fail(std::move(done)); }
  void fsync_dir(const std::string&, disk::StatusFn done) override { fail(std::move(done)); }

 private:
  template <typename Fn>
  void fail(Fn done) {
    loop_.post([done = std::move(done)] {
      done(error(Errc::invalid_argument, "the client commands use no disk"));
    });
  }
  net::EventLoop& loop_;
};

class Runtime {
 public:
  // `name` is the Env's node name (log lines). Errc::io_error if the loop or signals fail.
  static Result<std::unique_ptr<Runtime>> create(const std::string& name);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  Env& env() { return env_; }
  net::EventLoop& loop() { return *loop_; }
  bool interrupted() const { return interrupted_; }
  // Runs the loop until pred() holds, a signal arrives, or `timeout` passes. Returns pred().
  bool run_until(const std::function<bool()>& pred, Duration timeout = hours(24 * 365));
  // Runs the loop for `d` (or until a signal).
  void sleep(Duration d) {
    run_until([] { return false; }, d);
  }
  // Starts a call and runs the loop until its callback gives the answer: Errc::timed_out after
  // kClientAnswerTimeout, Errc::cancelled on a signal.
  template <typename T>
  Result<T> await(const std::function<void(std::function<void(Result<T>)>)>& start) {
    std::optional<Result<T>> out;
    start([&](Result<T> r) { out = std::move(r); });
    if (!run_until([&] { return out.has_value(); }, kClientAnswerTimeout)) {
      return error(interrupted_ ? Errc::cancelled : Errc::timed_out, "no answer from the broker");
    }
    return std::move(*out);
  }

 private:
  Runtime(std::unique_ptr<net::EventLoop> loop, const std::string& name);
  Status watch_signals();

  std::unique_ptr<net::EventLoop> loop_;
  net::RealClock clock_;
  net::TcpNetwork network_;
  Random random_;
  NoDisk disk_;
  NullTracer tracer_;
  Env env_;
  int signal_fd_ = -1;
  bool interrupted_ = false;
};

}  // namespace gregor::cli
