// Proves run_steps runs steps in order, stops at the first failure with that failure, reports
// success after the last step, and works when steps complete later (from an event loop).
#include "base/steps.h"

#include <gtest/gtest.h>

#include <deque>

namespace gregor {
namespace {

TEST(Steps, RunInOrderAndReportSuccess) {
  std::vector<int> order;
  Status result = error(Errc::io_error, "unset");
  run_steps({[&](Next next) {
               order.push_back(1);
               next(Status::Ok());
             },
             [&](Next next) {
               order.push_back(2);
               next(Status::Ok());
             }},
            [&](const Status& s) { result = s; });
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_TRUE(result.ok());
}

TEST(Steps, FirstFailureSkipsTheRest) {
  std::vector<int> order;
  Status result;
  run_steps({[&](Next next) {
               order.push_back(1);
               next(error(Errc::no_space, "full"));
             },
             [&](Next next) {
               order.push_back(2);
               next(Status::Ok());
             }},
            [&](const Status& s) { result = s; });
  EXPECT_EQ(order, (std::vector<int>{1}));
  EXPECT_EQ(result.code(), Errc::no_space);
}

TEST(Steps, AsynchronousCompletions) {
  std::deque<std::function<void()>> loop;
  std::vector<int> order;
  bool finished = false;
  run_steps({[&](Next next) {
               loop.push_back([&, next] {
                 order.push_back(1);
                 next({});
               });
             },
             [&](Next next) {
               loop.push_back([&, next] {
                 order.push_back(2);
                 next({});
               });
             }},
            [&](const Status& s) { finished = s.ok(); });
  EXPECT_FALSE(finished);
  while (!loop.empty()) {
    auto f = std::move(loop.front());
    loop.pop_front();
    f();
  }
  EXPECT_TRUE(finished);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(Steps, EmptyListReportsSuccess) {
  bool ok = false;
  run_steps({}, [&](const Status& s) { ok = s.ok(); });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace gregor
