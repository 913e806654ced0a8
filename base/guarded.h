// guarded(alive, f): a callback that does nothing once `alive` is gone. Objects that hand
// callbacks to the Env (disk completions, timers, connection handlers) hold a
// shared_ptr<bool> token and wrap their callbacks with it: production completions may still be
// queued on the loop when such an object is destroyed.
#pragma once

#include <memory>
#include <utility>

namespace gregor {

// The wrapper is const-callable (so it can be copied into std::function and called through a
// const reference); f must be too.
template <typename F>
auto guarded(const std::shared_ptr<bool>& alive, F f) {
  return [weak = std::weak_ptr<bool>(alive), f = std::move(f)](auto&&... args) {
    // Both checks: an owner may have handed a strong copy of its token to a lambda that outlives
    // it (a step of a run), and then its destructor's `*alive = false` is what says it is gone.
    // The token is released before f runs: f may destroy the owner, and checks of the token
    // inside f must then see it gone.
    if (auto token = weak.lock(); !token || !*token) return;
    f(std::forward<decltype(args)>(args)...);
  };
}

}  // namespace gregor
