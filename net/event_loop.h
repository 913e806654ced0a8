// The production event loop: one epoll loop per process, single-threaded, no locks. It drives file
// descriptors (sockets), timers and posted callbacks; RealClock, TcpNetwork and PosixDisk are
// built on it. Everything registered with the loop runs on the thread that calls run() /
// run_until(), and nothing registered runs inside the call that registered it.
//
// Lifetime: the loop must outlive every object that registered an fd, a timer or a posted
// callback with it (connections, listeners, disks, clocks).
//
// Threads: not thread-safe; call it only from the thread that runs it. To react to signals, add
// a signalfd with add_fd() and call stop() from its callback.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "base/time.h"

namespace gregor::net {

// Named limits of one loop iteration.
inline constexpr int kEpollEventsMax = 256;  // events taken from one epoll_wait

class EventLoop {
 public:
  // Gets the epoll event mask (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP...) that fired.
  using FdFn = std::function<void(uint32_t events)>;
  using Task = std::function<void()>;

  // Creates the epoll instance. Errc::io_error if the kernel refuses (fd or memory limits).
  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches fd for `events` (level-triggered epoll flags). One registration per fd; the loop
  // never closes the fd. fn may add, modify or remove any registration, including its own.
  Status add_fd(int fd, uint32_t events, FdFn fn);
  Status modify_fd(int fd, uint32_t events);
  // Stops watching fd; no event for it is dispatched afterwards, even one already collected in
  // the current iteration. Call before closing the fd. No-op for an fd not registered.
  void remove_fd(int fd);
  bool has_fd(int fd) const { return fds_.contains(fd); }

  // Runs fn once at or after `when` (monotonic). Timers due at the same instant run in the order
  // they were scheduled. Returns an id for cancel(), never kNoTimer.
  TimerId schedule_at(MonoTime when, Task fn);
  TimerId schedule_after(Duration delay, Task fn);
  // Cancels a pending timer; no-op for ids that already fired, were cancelled, or kNoTimer.
  void cancel(TimerId id);
  size_t pending_timers() const { return timers_.size(); }

  // Runs fn after the current callback returns, at the end of this or the next iteration, after
  // everything already posted (FIFO).
  void post(Task fn);

  // run(), run_until() and run_once() must not be called from inside a loop callback (asserted).
  //
  // Runs until stop() is called.
  void run();
  // Runs until pred() is true (checked before the first and after every iteration), stop() is
  // called, or `timeout` of monotonic time has passed. Returns pred()'s last value.
  bool run_until(const std::function<bool()>& pred, Duration timeout);
  // Runs one iteration: waits for ready fds (at most max_wait, less if a timer is due sooner, not
  // at all if callbacks are posted) and dispatches them, then due timers, then posted callbacks
  // (those posted during this batch wait for the next iteration).
  void run_once(Duration max_wait);
  // Makes run() / run_until() return after the current callback. Callable from any callback.
  void stop() { stopped_ = true; }

  // The loop's notion of now: std::chrono::steady_clock as MonoTime.
  static MonoTime now();

 private:
  struct FdEntry {
    uint64_t registration = 0;  // epoll data: tells a stale event from a reused fd number
    std::shared_ptr<FdFn> fn;   // shared so that removal during dispatch keeps it alive
  };
  struct TimerKey {
    MonoTime when;
    TimerId id;
    bool operator>(const TimerKey& other) const {
      return when != other.when ? when > other.when : id > other.id;
    }
  };

  explicit EventLoop(int epoll_fd) : epoll_fd_(epoll_fd) {}
  void run_posted();
  void poll_fds(Duration max_wait);
  void dispatch_fd_event(uint64_t registration, uint32_t events);
  void run_due_timers();
  Duration time_to_next_timer(Duration cap);

  int epoll_fd_;
  bool stopped_ = false;
  bool running_ = false;  // inside run_once(): catches a nested run from a callback
  uint64_t next_registration_ = 1;
  std::map<int, FdEntry> fds_;
  std::map<uint64_t, int> registrations_;  // registration -> fd, for dispatch
  TimerId next_timer_id_ = 1;
  std::priority_queue<TimerKey, std::vector<TimerKey>, std::greater<>> timer_heap_;
  std::map<TimerId, Task> timers_;  // pending timers; the heap may hold cancelled keys too
  std::vector<Task> posted_;
};

// The production Clock: monotonic time from steady_clock, wall time from system_clock, timers on
// the loop. Timers still pending when the RealClock is destroyed are cancelled.
class RealClock final : public Clock {
 public:
  explicit RealClock(EventLoop& loop) : loop_(loop) {}
  ~RealClock() override;
  MonoTime now() override { return EventLoop::now(); }
  WallTime wall_now() override;
  TimerId schedule(Duration delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;

 private:
  EventLoop& loop_;
  std::set<TimerId> pending_;  // ids this clock scheduled that have not fired yet
};

// A 64-bit seed from the kernel's CSPRNG (getrandom(2)); the production Random's seed.
uint64_t os_random_seed();

}  // namespace gregor::net
