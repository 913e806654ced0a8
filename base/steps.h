// Runs asynchronous steps one after another: each step gets a `next` to call with its Status
// when it is done; the first failure skips the remaining steps; `done` gets the final Status.
// Keeps seam code flat instead of nesting callbacks six deep:
//
//   run_steps({
//       [=](Next next) { file->fsync(next); },
//       [=](Next next) { disk.rename(tmp, path, next); },
//       [=](Next next) { disk.fsync_dir(dir, next); },
//   }, done);
//
// State shared between steps lives in a shared_ptr captured by each lambda.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "base/status.h"

namespace gregor {

using Next = std::function<void(const Status&)>;
using Step = std::function<void(Next next)>;

void run_steps(std::vector<Step> steps, std::function<void(const Status&)> done);

}  // namespace gregor
