#include "base/steps.h"

namespace gregor {
namespace {

struct StepRun : std::enable_shared_from_this<StepRun> {
  std::vector<Step> steps;
  std::function<void(const Status&)> done;
  size_t at = 0;

  void advance(const Status& s) {
    if (!s.ok() || at == steps.size()) {
      auto finish = std::move(done);
      steps.clear();  // drop captured state before reporting
      if (finish) finish(s);
      return;
    }
    Step step = std::move(steps[at++]);
    // The run keeps itself alive through the `next` it hands out; a step that never calls next
    // (its owner crashed) releases it when that callback is destroyed.
    step([self = shared_from_this()](const Status& st) { self->advance(st); });
  }
};

}  // namespace

void run_steps(std::vector<Step> steps, std::function<void(const Status&)> done) {
  auto run = std::make_shared<StepRun>();
  run->steps = std::move(steps);
  run->done = std::move(done);
  run->advance(Status::Ok());
}

}  // namespace gregor
