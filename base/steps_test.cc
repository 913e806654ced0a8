// Proves run_steps runs steps in order, stops at the first failure with that failure, reports
// success after the last step, and works when steps complete later (from an event loop); and
// that a guarded final callback does nothing once its owner is gone, even while a step still
// holds a strong copy of the owner's token.
#include "base/steps.h"

#include "base/guarded.h"

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

// The shape of the ReplicaFetcher use-after-free (standard.toml with 3 s broker sessions, seed 1):
// the owner is destroyed while its steps run; a step still holding a strong copy of the token
// must not let the guarded final callback reach the destroyed owner.
TEST(Steps, GuardedDoneDoesNothingOnceTheOwnerIsGoneEvenWithATokenHeldByAStep) {
  struct Owner {
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    ~Owner() { *alive = false; }
  };
  auto owner = std::make_unique<Owner>();
  bool done_ran = false;
  std::function<void()> resume;
  std::vector<Step> steps;
  steps.push_back([&](Next next) { resume = [next] { next(Status::Ok()); }; });
  steps.push_back([token = owner->alive](Next next) { next(Status::Ok()); });
  run_steps(std::move(steps), guarded(owner->alive, [&](const Status&) { done_ran = true; }));
  owner.reset();  // gone while the first step waits
  resume();
  EXPECT_FALSE(done_ran);
}

}  // namespace
}  // namespace gregor
