#include "cli/client_runtime.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace gregor::cli {

Result<std::unique_ptr<Runtime>> Runtime::create(const std::string& name) {
  auto loop = net::EventLoop::create();
  if (!loop.ok()) return loop.status();
  auto rt = std::unique_ptr<Runtime>(new Runtime(std::move(loop).value(), name));
  GREGOR_RETURN_IF_ERROR(rt->watch_signals());
  return rt;
}

Runtime::Runtime(std::unique_ptr<net::EventLoop> loop, const std::string& name)
    : loop_(std::move(loop)),
      clock_(*loop_),
      network_(*loop_),
      random_(net::os_random_seed()),
      disk_(*loop_),
      env_{clock_, random_, network_, disk_, tracer_, name, false} {}

Runtime::~Runtime() {
  if (signal_fd_ >= 0) {
    loop_->remove_fd(signal_fd_);
    ::close(signal_fd_);
  }
}

bool Runtime::run_until(const std::function<bool()>& pred, Duration timeout) {
  return loop_->run_until([&] { return pred() || interrupted_; }, timeout) && pred();
}

Status Runtime::watch_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return error(Errc::io_error, "sigprocmask");
  signal_fd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd_ < 0) return error(Errc::io_error, "signalfd");
  return loop_->add_fd(signal_fd_, 0x001 /* EPOLLIN */, [this](uint32_t) {
    signalfd_siginfo info{};
    while (::read(signal_fd_, &info, sizeof info) == sizeof info) interrupted_ = true;
  });
}

}  // namespace gregor::cli
