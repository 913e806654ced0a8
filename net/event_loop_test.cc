// Proves the production EventLoop's contracts: timers fire in deadline order (schedule order on
// ties), cancelled timers never fire, posted callbacks run FIFO on a later iteration (never inside
// post()), fd callbacks see readiness and may remove registrations mid-batch, run_until() honours
// its timeout and stop(); and RealClock / os_random_seed behave as the Env seam expects.
#include "net/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <memory>
#include <vector>

namespace gregor::net {
namespace {

std::unique_ptr<EventLoop> make_loop() {
  auto loop = EventLoop::create();
  EXPECT_TRUE(loop.ok()) << loop.status().to_string();
  return std::move(loop).value();
}

TEST(EventLoop, TimersFireInDeadlineOrder) {
  auto loop = make_loop();
  std::vector<int> fired;
  loop->schedule_after(milliseconds(30), [&] { fired.push_back(30); });
  loop->schedule_after(milliseconds(10), [&] { fired.push_back(10); });
  loop->schedule_after(milliseconds(20), [&] { fired.push_back(20); });
  ASSERT_TRUE(loop->run_until([&] { return fired.size() == 3; }, seconds(10)));
  EXPECT_EQ(fired, (std::vector<int>{10, 20, 30}));
  EXPECT_EQ(loop->pending_timers(), 0u);
}

TEST(EventLoop, EqualDeadlinesFireInScheduleOrder) {
  auto loop = make_loop();
  std::vector<int> fired;
  MonoTime at = EventLoop::now() + milliseconds(5);
  for (int i = 0; i < 5; ++i) loop->schedule_at(at, [&, i] { fired.push_back(i); });
  ASSERT_TRUE(loop->run_until([&] { return fired.size() == 5; }, seconds(10)));
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(EventLoop, TimerIdsAreNeverNoTimerAndDistinct) {
  auto loop = make_loop();
  TimerId a = loop->schedule_after(seconds(1), [] {});
  TimerId b = loop->schedule_after(seconds(1), [] {});
  EXPECT_NE(a, kNoTimer);
  EXPECT_NE(b, kNoTimer);
  EXPECT_NE(a, b);
}

TEST(EventLoop, CancelledTimerNeverRuns) {
  auto loop = make_loop();
  bool cancelled_ran = false;
  bool later_ran = false;
  TimerId id = loop->schedule_after(milliseconds(1), [&] { cancelled_ran = true; });
  loop->schedule_after(milliseconds(20), [&] { later_ran = true; });
  loop->cancel(id);
  loop->cancel(id);        // twice: no-op
  loop->cancel(kNoTimer);  // no-op
  ASSERT_TRUE(loop->run_until([&] { return later_ran; }, seconds(10)));
  EXPECT_FALSE(cancelled_ran);
}

TEST(EventLoop, TimerCanCancelAnotherDueInTheSamePass) {
  auto loop = make_loop();
  MonoTime at = EventLoop::now() + milliseconds(2);
  bool second_ran = false;
  TimerId second = kNoTimer;
  loop->schedule_at(at, [&] { loop->cancel(second); });
  second = loop->schedule_at(at, [&] { second_ran = true; });
  bool done = false;
  loop->schedule_at(at + milliseconds(10), [&] { done = true; });
  ASSERT_TRUE(loop->run_until([&] { return done; }, seconds(10)));
  EXPECT_FALSE(second_ran);
}

TEST(EventLoop, PostRunsLaterInFifoOrder) {
  auto loop = make_loop();
  std::vector<int> ran;
  loop->post([&] {
    ran.push_back(1);
    loop->post([&] { ran.push_back(3); });  // next iteration, after 2
  });
  loop->post([&] { ran.push_back(2); });
  EXPECT_TRUE(ran.empty()) << "post() must not run its callback inline";
  ASSERT_TRUE(loop->run_until([&] { return ran.size() == 3; }, seconds(10)));
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, SelfRepostingCallbackDoesNotStarveTimers) {
  auto loop = make_loop();
  bool timer_ran = false;
  std::function<void()> spin = [&] {
    if (!timer_ran) loop->post(spin);
  };
  loop->post(spin);
  loop->schedule_after(milliseconds(5), [&] { timer_ran = true; });
  EXPECT_TRUE(loop->run_until([&] { return timer_ran; }, seconds(10)));
}

TEST(EventLoop, RunUntilReturnsFalseAfterTimeout) {
  auto loop = make_loop();
  MonoTime start = EventLoop::now();
  EXPECT_FALSE(loop->run_until([] { return false; }, milliseconds(50)));
  EXPECT_GE(EventLoop::now() - start, milliseconds(50));
}

TEST(EventLoop, StopEndsRun) {
  auto loop = make_loop();
  int ticks = 0;
  loop->schedule_after(milliseconds(1), [&] { ++ticks; });
  loop->schedule_after(milliseconds(5), [&] { loop->stop(); });
  loop->run();
  EXPECT_EQ(ticks, 1);
}

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    ::close(read_end);
    ::close(write_end);
  }
  void poke() { EXPECT_EQ(::write(write_end, "x", 1), 1); }
};

TEST(EventLoop, FdCallbackSeesReadinessAndMayRemoveItself) {
  auto loop = make_loop();
  Pipe pipe;
  int calls = 0;
  ASSERT_TRUE(loop->add_fd(pipe.read_end, EPOLLIN,
                           [&](uint32_t events) {
                             EXPECT_TRUE(events & EPOLLIN);
                             ++calls;
                             loop->remove_fd(
                                 pipe.read_end);  // the byte stays unread: level-triggered
                           })
                  .ok());
  EXPECT_TRUE(loop->has_fd(pipe.read_end));
  pipe.poke();
  ASSERT_TRUE(loop->run_until([&] { return calls > 0; }, seconds(10)));
  loop->run_until([] { return false; }, milliseconds(20));
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(loop->has_fd(pipe.read_end));
}

TEST(EventLoop, EventOfFdRemovedEarlierInTheBatchIsDropped) {
  auto loop = make_loop();
  Pipe a, b;
  int calls = 0;
  // Both become ready in one epoll_wait batch; whichever runs first removes the other.
  auto both_off = [&](uint32_t) {
    ++calls;
    loop->remove_fd(a.read_end);
    loop->remove_fd(b.read_end);
  };
  ASSERT_TRUE(loop->add_fd(a.read_end, EPOLLIN, both_off).ok());
  ASSERT_TRUE(loop->add_fd(b.read_end, EPOLLIN, both_off).ok());
  a.poke();
  b.poke();
  ASSERT_TRUE(loop->run_until([&] { return calls > 0; }, seconds(10)));
  loop->run_until([] { return false; }, milliseconds(20));
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, ModifyFdChangesInterest) {
  auto loop = make_loop();
  Pipe pipe;
  int writable = 0;
  ASSERT_TRUE(loop->add_fd(pipe.write_end, 0,
                           [&](uint32_t events) {
                             if (events & EPOLLOUT) ++writable;
                             ASSERT_TRUE(loop->modify_fd(pipe.write_end, 0).ok());
                           })
                  .ok());
  loop->run_until([] { return false; }, milliseconds(10));
  EXPECT_EQ(writable, 0);
  ASSERT_TRUE(loop->modify_fd(pipe.write_end, EPOLLOUT).ok());
  ASSERT_TRUE(loop->run_until([&] { return writable > 0; }, seconds(10)));
  loop->remove_fd(pipe.write_end);
}

TEST(RealClock, NowIsMonotonicAndTimersFire) {
  auto loop = make_loop();
  RealClock clock(*loop);
  MonoTime before = clock.now();
  bool fired = false;
  TimerId id = clock.schedule(milliseconds(10), [&] { fired = true; });
  EXPECT_NE(id, kNoTimer);
  ASSERT_TRUE(loop->run_until([&] { return fired; }, seconds(10)));
  EXPECT_GE(clock.now() - before, milliseconds(10));
  EXPECT_GT(to_ms(clock.wall_now()), 1'600'000'000'000);  // after 2020: a real wall clock
  clock.cancel(id);                                       // already fired: no-op
}

TEST(RealClock, CancelAndDestructionStopTimers) {
  auto loop = make_loop();
  bool cancelled_ran = false;
  bool orphan_ran = false;
  {
    RealClock clock(*loop);
    clock.cancel(clock.schedule(milliseconds(1), [&] { cancelled_ran = true; }));
    clock.schedule(milliseconds(1), [&] { orphan_ran = true; });
  }
  EXPECT_EQ(loop->pending_timers(), 0u);
  loop->run_until([] { return false; }, milliseconds(20));
  EXPECT_FALSE(cancelled_ran);
  EXPECT_FALSE(orphan_ran);
}

TEST(OsRandomSeed, DiffersBetweenCalls) {
  // Two equal 64-bit draws from the kernel CSPRNG would mean it is not being read at all.
  EXPECT_NE(os_random_seed(), os_random_seed());
}

}  // namespace
}  // namespace gregor::net
