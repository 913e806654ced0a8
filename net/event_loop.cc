#include "net/event_loop.h"

#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/random.h"

namespace gregor::net {

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return errorf(Errc::io_error, "epoll_create1: {}", std::strerror(errno));
  return std::unique_ptr<EventLoop>(new EventLoop(fd));
}

EventLoop::~EventLoop() {
  ::close(epoll_fd_);
}

MonoTime EventLoop::now() {
  auto since = std::chrono::steady_clock::now().time_since_epoch();
  return MonoTime(std::chrono::duration_cast<Duration>(since));
}

Status EventLoop::add_fd(int fd, uint32_t events, FdFn fn) {
  GREGOR_ASSERT(fd >= 0, "add_fd of negative fd {}", fd);
  GREGOR_ASSERT(!fds_.contains(fd), "fd {} registered twice", fd);
  uint64_t registration = next_registration_++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = registration;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return errorf(Errc::io_error, "epoll_ctl(ADD, fd {}): {}", fd, std::strerror(errno));
  }
  fds_[fd] = FdEntry{registration, std::make_shared<FdFn>(std::move(fn))};
  registrations_[registration] = fd;
  return Status::Ok();
}

Status EventLoop::modify_fd(int fd, uint32_t events) {
  auto it = fds_.find(fd);
  GREGOR_ASSERT(it != fds_.end(), "modify_fd of unregistered fd {}", fd);
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = it->second.registration;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return errorf(Errc::io_error, "epoll_ctl(MOD, fd {}): {}", fd, std::strerror(errno));
  }
  return Status::Ok();
}

void EventLoop::remove_fd(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return;
  // Failure here only means the fd is already gone from the epoll set; either way it is off it.
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  registrations_.erase(it->second.registration);
  fds_.erase(it);
}

TimerId EventLoop::schedule_at(MonoTime when, Task fn) {
  TimerId id = next_timer_id_++;
  timers_.emplace(id, std::move(fn));
  timer_heap_.push(TimerKey{when, id});
  return id;
}

TimerId EventLoop::schedule_after(Duration delay, Task fn) {
  return schedule_at(now() + delay, std::move(fn));
}

// The heap keeps the cancelled key; it is dropped when it reaches the top.
void EventLoop::cancel(TimerId id) {
  timers_.erase(id);
}

void EventLoop::post(Task fn) {
  posted_.push_back(std::move(fn));
}

void EventLoop::run() {
  stopped_ = false;
  while (!stopped_) run_once(hours(1));
}

bool EventLoop::run_until(const std::function<bool()>& pred, Duration timeout) {
  stopped_ = false;
  MonoTime deadline = now() + timeout;
  while (!pred()) {
    if (stopped_) return false;
    Duration left = deadline - now();
    if (left <= Duration::zero()) return false;
    run_once(left);
  }
  return true;
}

void EventLoop::run_once(Duration max_wait) {
  // A nested run would dispatch callbacks inside a callback: exactly the re-entrancy the seam
  // forbids (and TcpNetwork's shared read buffer relies on).
  GREGOR_ASSERT(!running_, "EventLoop run from inside one of its own callbacks");
  running_ = true;
  // Blocking comes first and callbacks last, so that run_until() checks its predicate right after
  // the work of an iteration instead of sleeping on epoll with a predicate already true.
  poll_fds(posted_.empty() ? time_to_next_timer(max_wait) : Duration::zero());
  run_due_timers();
  run_posted();
  running_ = false;
}

void EventLoop::run_posted() {
  // Callbacks posted while these run wait for the next iteration, so a callback that re-posts
  // itself cannot starve fds and timers.
  std::vector<Task> batch;
  batch.swap(posted_);
  for (Task& task : batch) task();
}

Duration EventLoop::time_to_next_timer(Duration cap) {
  while (!timer_heap_.empty() && !timers_.contains(timer_heap_.top().id)) timer_heap_.pop();
  if (timer_heap_.empty()) return cap;
  Duration left = timer_heap_.top().when - now();
  if (left < Duration::zero()) return Duration::zero();
  return left < cap ? left : cap;
}

void EventLoop::poll_fds(Duration max_wait) {
  // epoll_wait counts milliseconds: round up so that a timer 0.3 ms away is not polled for in a
  // busy loop of zero-timeout waits.
  int64_t wait_ms = std::chrono::ceil<milliseconds>(max_wait).count();
  if (wait_ms > INT32_MAX) wait_ms = INT32_MAX;
  epoll_event events[kEpollEventsMax];
  int n = epoll_wait(epoll_fd_, events, kEpollEventsMax, static_cast<int>(wait_ms));
  if (n < 0) {
    GREGOR_ASSERT(errno == EINTR, "epoll_wait: {}", std::strerror(errno));
    return;
  }
  for (int i = 0; i < n; ++i) dispatch_fd_event(events[i].data.u64, events[i].events);
}

void EventLoop::dispatch_fd_event(uint64_t registration, uint32_t events) {
  // A callback earlier in this batch may have removed this registration (and the fd number may
  // even have been reused by a new one): such events are stale and dropped.
  auto reg = registrations_.find(registration);
  if (reg == registrations_.end()) return;
  std::shared_ptr<FdFn> fn = fds_.at(reg->second).fn;
  (*fn)(events);
}

void EventLoop::run_due_timers() {
  // Only timers that existed when this pass began run in it; one scheduled by a timer callback
  // for "now" runs on the next iteration, after fds had a chance.
  MonoTime at = now();
  TimerId last_id = next_timer_id_ - 1;
  std::vector<TimerKey> later;
  while (!timer_heap_.empty() && timer_heap_.top().when <= at) {
    TimerKey key = timer_heap_.top();
    timer_heap_.pop();
    if (key.id > last_id) {
      later.push_back(key);
      continue;
    }
    auto it = timers_.find(key.id);
    if (it == timers_.end()) continue;  // cancelled
    Task fn = std::move(it->second);
    timers_.erase(it);
    fn();
  }
  for (const TimerKey& key : later) timer_heap_.push(key);
}

RealClock::~RealClock() {
  for (TimerId id : pending_) loop_.cancel(id);
}

WallTime RealClock::wall_now() {
  auto since = std::chrono::system_clock::now().time_since_epoch();
  return WallTime(std::chrono::duration_cast<Duration>(since));
}

TimerId RealClock::schedule(Duration delay, std::function<void()> fn) {
  // The id is known only after scheduling; the callback reads it from a shared cell.
  auto id_cell = std::make_shared<TimerId>(kNoTimer);
  TimerId id = loop_.schedule_after(delay, [this, id_cell, fn = std::move(fn)] {
    pending_.erase(*id_cell);
    fn();
  });
  *id_cell = id;
  pending_.insert(id);
  return id;
}

void RealClock::cancel(TimerId id) {
  if (pending_.erase(id) == 0) return;
  loop_.cancel(id);
}

uint64_t os_random_seed() {
  uint64_t seed = 0;
  uint8_t* out = reinterpret_cast<uint8_t*>(&seed);
  size_t got = 0;
  while (got < sizeof(seed)) {
    ssize_t n = getrandom(out + got, sizeof(seed) - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      // No getrandom (very old kernel or a seccomp filter): a seed still has to differ between
      // runs, and nothing here needs cryptographic strength.
      auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
      auto wall = std::chrono::system_clock::now().time_since_epoch().count();
      return mix64(static_cast<uint64_t>(ticks) ^ mix64(static_cast<uint64_t>(wall)) ^
                   static_cast<uint64_t>(getpid()));
    }
  }
  return seed;
}

}  // namespace gregor::net
