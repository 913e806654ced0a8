// Why the sweep looks the way it does: runs happen in forked worker processes because the
// simulator keeps process-wide state (logging, its context) and because a crash, an assertion or
// a sanitizer report must cost one seed, not the sweep. Seeds are handed out one at a time over a
// socketpair per worker, since run lengths vary a lot with the faults a seed draws. The parent
// alone aggregates, in order-independent forms (sorted failures, a probe set, integer
// nanoseconds), so the result never depends on the number of workers.
#include "sim/scenario/sweep.h"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

namespace gregor::scenario {
namespace {

using Clock = std::chrono::steady_clock;

// How long the parent sleeps in poll(2) at most, so seed timeouts are noticed without any worker
// writing.
constexpr int kPollIntervalMs = 200;
// A worker whose socket closed gets this long to exit before it is killed, so reaping never hangs
// (a run_one that closed the socket itself and kept running, for instance).
constexpr int kReapGraceMs = 5000;
constexpr int kReapPollMs = 5;
// A seed line from the parent is a decimal number; anything longer is a broken parent.
constexpr size_t kSeedLineBytesMax = 32;
// A worker's exit status when its socket broke or carried garbage (shows as "exit status 3").
constexpr int kWorkerBrokenExit = 3;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool parse_u64(std::string_view text, uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Walks the seeds of one shard without materializing them (a shard may hold millions).
class SeedCursor {
 public:
  SeedCursor(SeedRange range, Shard shard) : range_(range), shard_(shard), pos_(shard.index) {}
  uint64_t size() const {
    uint64_t n = range_.count();
    return shard_.index < n ? (n - shard_.index - 1) / shard_.count + 1 : 0;
  }
  bool done() const { return pos_ >= range_.count(); }
  uint64_t next() {
    uint64_t seed = range_.first + pos_;
    pos_ += shard_.count;
    return seed;
  }

 private:
  SeedRange range_;
  Shard shard_;
  uint64_t pos_;
};

Status validate(const SweepOptions& o) {
  if (o.seeds.first > o.seeds.last || o.seeds.count() > kSweepSeedsMax)
    return errorf(Errc::invalid_argument, "bad seed range {}..{}", o.seeds.first, o.seeds.last);
  if (o.shard.count < 1 || o.shard.count > kShardsMax || o.shard.index >= o.shard.count)
    return errorf(Errc::invalid_argument, "bad shard {}/{}", o.shard.index, o.shard.count);
  if (o.jobs < 1 || o.jobs > kWorkersMax)
    return errorf(Errc::invalid_argument, "jobs must be 1..{}, not {}", kWorkersMax, o.jobs);
  if (!(o.seed_timeout_seconds >= 0))
    return error(Errc::invalid_argument, "seed timeout must be >= 0");
  return Status::Ok();
}

// Runs one seed, turning an exception into a failed outcome so that jobs = 1 and jobs > 1 agree.
SeedOutcome run_guarded(const RunOneSeed& run_one, uint64_t seed) {
  SeedOutcome o;
  try {
    o = run_one(seed);
  } catch (const std::exception& e) {
    o = SeedOutcome{.first_violation_kind = "exception",
                    .error = "exception: " + std::string(e.what())};
  } catch (...) {
    o = SeedOutcome{.first_violation_kind = "exception", .error = "exception: unknown"};
  }
  o.seed = seed;
  return o;
}

std::string duration_text(double seconds) {
  auto s = static_cast<uint64_t>(std::llround(std::max(0.0, seconds)));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
}

// Aggregates outcomes in the calling process: counts, failures, probes, the failures file and
// progress. Everything it keeps is order-independent, which is what makes jobs = 1 and jobs = N
// results equal.
class Tally {
 public:
  Tally(const SweepOptions& options, uint64_t total) : options_(options) { result_.total = total; }

  Status open_failures_file() {
    if (options_.failures_path.empty()) return Status::Ok();
    failures_file_.reset(std::fopen(options_.failures_path.c_str(), "a"));
    if (!failures_file_)
      return errorf(Errc::io_error, "cannot open failures file {}: {}", options_.failures_path,
                    std::strerror(errno));
    return Status::Ok();
  }

  void record(SeedOutcome o) {
    ++result_.run;
    ++(o.pass ? result_.passed : result_.failed);
    result_.probes_hit.insert(o.probes_hit.begin(), o.probes_hit.end());
    // Whole nanoseconds add up exactly in any order; doubles would not.
    if (std::isfinite(o.sim_seconds) && o.sim_seconds > 0)
      sim_ns_ += static_cast<uint64_t>(std::llround(o.sim_seconds * 1e9));
    if (!o.pass) {
      write_failure_line(o);
      uint64_t seed = o.seed;
      failures_.insert_or_assign(seed, std::move(o));
      if (failures_.size() > kFailuresKeptMax) failures_.erase(std::prev(failures_.end()));
    }
    report_progress();
  }

  void report_progress() {
    if (!options_.on_progress) return;
    options_.on_progress(
        SweepProgress{result_.run, result_.total, result_.failed, seconds_since(start_)});
  }

  SweepResult finish(std::string error) {
    if (result_.error.empty()) result_.error = std::move(error);
    for (auto& [seed, outcome] : failures_) result_.failures.push_back(std::move(outcome));
    result_.sim_seconds = static_cast<double>(sim_ns_) / 1e9;
    result_.wall_seconds = seconds_since(start_);
    return std::move(result_);
  }

 private:
  // Flushed per line: a sweep killed by its scheduler still leaves every failure found so far.
  void write_failure_line(const SeedOutcome& o) {
    if (!failures_file_) return;
    std::string line = fmt::format("{} {}\n", o.seed, failure_kind(o));
    if (std::fputs(line.c_str(), failures_file_.get()) < 0 ||
        std::fflush(failures_file_.get()) != 0) {
      if (result_.error.empty())
        result_.error = fmt::format("writing failures file {}: {}", options_.failures_path,
                                    std::strerror(errno));
    }
  }

  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  const SweepOptions& options_;
  Clock::time_point start_ = Clock::now();
  SweepResult result_;
  std::map<uint64_t, SeedOutcome> failures_;  // by seed: sorted, and trimmed from the top
  uint64_t sim_ns_ = 0;
  std::unique_ptr<std::FILE, FileCloser> failures_file_;
};

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The child's side: read a seed line, run it, answer with one outcome line; exit on EOF. Never
// returns, and leaves with _exit so nothing of the parent (atexit handlers, a test framework's
// state, leak checks of memory the parent owns) runs twice.
[[noreturn]] void worker_main(int fd, const RunOneSeed& run_one) {
  std::string inbox;
  char buf[64];
  for (;;) {
    size_t nl;
    while ((nl = inbox.find('\n')) == std::string::npos) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {  // the parent has no more seeds (or is gone)
        std::fflush(nullptr);
        _exit(0);
      }
      if (n < 0 || inbox.size() > kSeedLineBytesMax) _exit(kWorkerBrokenExit);
      inbox.append(buf, static_cast<size_t>(n));
    }
    uint64_t seed = 0;
    if (!parse_u64(std::string_view(inbox).substr(0, nl), seed)) _exit(kWorkerBrokenExit);
    inbox.erase(0, nl + 1);
    std::string line = outcome_json(run_guarded(run_one, seed)) + "\n";
    std::fflush(nullptr);  // whatever run_one printed goes out before the parent hears of it
    if (!send_all(fd, line)) _exit(0);
  }
}

// "worker died: signal 6 (Aborted)" or "worker died: exit status 1", from a waitpid status.
std::string death_text(int status, bool known) {
  if (!known) return "worker died: exit status unknown";
  if (WIFSIGNALED(status))
    return fmt::format("worker died: signal {} ({})", WTERMSIG(status),
                       strsignal(WTERMSIG(status)));
  return fmt::format("worker died: exit status {}", WEXITSTATUS(status));
}

// Waits for a worker to exit, killing it after kReapGraceMs. Returns false when the status is
// unknown (the caller ignores SIGCHLD, or reaped the child itself).
bool reap(pid_t pid, int& status) {
  for (int waited_ms = 0;; waited_ms += kReapPollMs) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return false;
    if (waited_ms >= kReapGraceMs) {
      ::kill(pid, SIGKILL);
      while ((r = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
      }
      return r == pid;
    }
    ::poll(nullptr, 0, kReapPollMs);
  }
}

// The parent's side of jobs > 1: forks workers, hands out seeds one at a time as workers answer
// (dynamic assignment: runs vary a lot in length), multiplexes their sockets with poll(2), and
// replaces a worker that dies. One AF_UNIX socketpair per worker carries seed lines down and
// outcome lines up; EOF on it means the worker is gone.
class WorkerPool {
 public:
  WorkerPool(const SweepOptions& options, const RunOneSeed& run_one, SeedCursor& cursor,
             Tally& tally)
      : options_(options), run_one_(run_one), cursor_(cursor), tally_(tally) {}

  // Runs until every seed is done; returns "" or why seeds were left unrun.
  std::string run(unsigned jobs) {
    workers_.resize(jobs);
    for (Worker& w : workers_)
      if (spawn(w)) feed(w);
    std::vector<pollfd> fds;
    std::vector<size_t> slots;
    for (;;) {
      fds.clear();
      slots.clear();
      for (size_t i = 0; i < workers_.size(); ++i) {
        if (workers_[i].fd < 0) continue;
        fds.push_back(pollfd{workers_[i].fd, POLLIN, 0});
        slots.push_back(i);
      }
      if (fds.empty()) break;
      int n = ::poll(fds.data(), fds.size(), kPollIntervalMs);
      if (n < 0 && errno != EINTR) return fmt::format("poll: {}", std::strerror(errno));
      for (size_t k = 0; n > 0 && k < fds.size(); ++k)
        if (fds[k].revents != 0) read_from(workers_[slots[k]]);
      check_timeouts();
    }
    return cursor_.done() ? "" : spawn_error_;
  }

 private:
  struct Worker {
    pid_t pid = -1;
    int fd = -1;  // the parent's end of the socketpair; -1: slot empty
    bool busy = false;
    uint64_t seed = 0;  // in flight when busy
    Clock::time_point started;
    std::string inbox;  // bytes after the last complete line
  };

  bool spawn(Worker& w) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      spawn_error_ = fmt::format("socketpair: {}", std::strerror(errno));
      return false;
    }
    std::fflush(nullptr);  // or the child would inherit, and later write, buffered output
    pid_t pid = ::fork();
    if (pid < 0) {
      spawn_error_ = fmt::format("fork: {}", std::strerror(errno));
      ::close(sv[0]);
      ::close(sv[1]);
      return false;
    }
    if (pid == 0) {
      // Other workers' sockets must close here, or their EOF would never come.
      ::close(sv[0]);
      for (const Worker& other : workers_)
        if (other.fd >= 0) ::close(other.fd);
      worker_main(sv[1], run_one_);
    }
    ::close(sv[1]);
    w = Worker{.pid = pid, .fd = sv[0]};
    return true;
  }

  // Gives an idle worker its next seed, or, when none are left, lets it go.
  void feed(Worker& w) {
    if (cursor_.done()) {
      retire(w, "", "");
      return;
    }
    w.seed = cursor_.next();
    w.busy = true;
    w.started = Clock::now();
    // A failed send means the worker is gone; the EOF that follows fails the seed as a crash.
    (void)send_all(w.fd, fmt::format("{}\n", w.seed));
  }

  void read_from(Worker& w) {
    char buf[1 << 16];
    ssize_t n = ::read(w.fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      retire(w, "crash", "");
      return;
    }
    w.inbox.append(buf, static_cast<size_t>(n));
    size_t nl;
    while (w.fd >= 0 && (nl = w.inbox.find('\n')) != std::string::npos) {
      Result<SeedOutcome> outcome = parse_outcome_json(std::string_view(w.inbox).substr(0, nl));
      w.inbox.erase(0, nl + 1);
      if (!outcome.ok() || !w.busy || outcome->seed != w.seed) {
        std::string why = outcome.ok() ? "unexpected outcome" : outcome.status().message();
        ::kill(w.pid, SIGKILL);
        retire(w, "crash", "worker protocol error: " + why);
        return;
      }
      w.busy = false;
      tally_.record(std::move(outcome).value());
      feed(w);
    }
    if (w.fd >= 0 && w.inbox.size() > kWorkerLineBytesMax) {
      ::kill(w.pid, SIGKILL);
      retire(w, "crash", "worker protocol error: line too long");
    }
  }

  void check_timeouts() {
    if (options_.seed_timeout_seconds <= 0) return;
    for (Worker& w : workers_) {
      if (w.fd < 0 || !w.busy || seconds_since(w.started) < options_.seed_timeout_seconds) continue;
      ::kill(w.pid, SIGKILL);
      retire(w, "timeout", fmt::format("timed out after {:g}s", options_.seed_timeout_seconds));
    }
  }

  // Closes a worker's socket and reaps it. A seed still in flight fails with `kind` and `why`
  // (default: how the worker died); then, if seeds are left, a replacement takes the slot.
  void retire(Worker& w, std::string_view kind, std::string why) {
    ::close(w.fd);
    int status = 0;
    bool known = reap(w.pid, status);
    if (w.busy) {
      tally_.record(SeedOutcome{.seed = w.seed,
                                .first_violation_kind = std::string(kind),
                                .wall_seconds = seconds_since(w.started),
                                .error = why.empty() ? death_text(status, known) : why});
    }
    w = Worker{};
    if (!cursor_.done() && spawn(w)) feed(w);
  }

  const SweepOptions& options_;
  const RunOneSeed& run_one_;
  SeedCursor& cursor_;
  Tally& tally_;
  std::vector<Worker> workers_;
  std::string spawn_error_ = "no worker could be started";
};

}  // namespace

Result<SeedRange> parse_seed_range(std::string_view text) {
  SeedRange r;
  size_t dots = text.find("..");
  bool ok = dots == std::string_view::npos ? parse_u64(text, r.first) && (r.last = r.first, true)
                                           : parse_u64(text.substr(0, dots), r.first) &&
                                                 parse_u64(text.substr(dots + 2), r.last);
  if (!ok)
    return errorf(Errc::invalid_argument, "seed range \"{}\": want FIRST..LAST or SEED", text);
  if (r.first > r.last)
    return errorf(Errc::invalid_argument, "seed range \"{}\": first is after last", text);
  if (r.last - r.first >= kSweepSeedsMax)
    return errorf(Errc::limit_exceeded, "seed range \"{}\": more than {} seeds", text,
                  kSweepSeedsMax);
  return r;
}

Result<Shard> parse_shard(std::string_view text) {
  Shard s;
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || !parse_u64(text.substr(0, slash), s.index) ||
      !parse_u64(text.substr(slash + 1), s.count))
    return errorf(Errc::invalid_argument, "shard \"{}\": want INDEX/COUNT, e.g. 0/8", text);
  if (s.count < 1 || s.count > kShardsMax)
    return errorf(Errc::invalid_argument, "shard \"{}\": count must be 1..{}", text, kShardsMax);
  if (s.index >= s.count)
    return errorf(Errc::invalid_argument,
                  "shard \"{}\": index is 0-based and must be below the count ({})", text, s.count);
  return s;
}

std::vector<uint64_t> shard_seeds(const SeedRange& range, const Shard& shard) {
  std::vector<uint64_t> seeds;
  SeedCursor cursor(range, shard);
  seeds.reserve(cursor.size());
  while (!cursor.done()) seeds.push_back(cursor.next());
  return seeds;
}

std::string failure_kind(const SeedOutcome& outcome) {
  std::string kind = !outcome.first_violation_kind.empty() ? outcome.first_violation_kind
                     : !outcome.error.empty()              ? "error"
                                                           : "fail";
  for (char& c : kind)
    if (std::isspace(static_cast<unsigned char>(c))) c = '-';
  return kind;
}

std::string outcome_json(const SeedOutcome& o) {
  nlohmann::json j = {
      {"seed", o.seed},         {"pass", o.pass},         {"kind", o.first_violation_kind},
      {"hash", o.trace_hash},   {"sim_s", o.sim_seconds}, {"wall_s", o.wall_seconds},
      {"probes", o.probes_hit}, {"error", o.error}};
  // Replace rather than throw on invalid UTF-8 (an exception's what() may carry any bytes).
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<SeedOutcome> parse_outcome_json(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  auto is = [&](const char* key, auto test) { return j.contains(key) && test(j[key]); };
  bool ok = j.is_object() && is("seed", [](auto& v) { return v.is_number_unsigned(); }) &&
            is("pass", [](auto& v) { return v.is_boolean(); }) &&
            is("kind", [](auto& v) { return v.is_string(); }) &&
            is("hash", [](auto& v) { return v.is_string(); }) &&
            is("sim_s", [](auto& v) { return v.is_number(); }) &&
            is("wall_s", [](auto& v) { return v.is_number(); }) &&
            is("error", [](auto& v) { return v.is_string(); }) &&
            is("probes", [](auto& v) { return v.is_array(); });
  if (ok)
    for (const auto& p : j["probes"]) ok = ok && p.is_string();
  if (!ok) return error(Errc::corrupt, "bad outcome line");
  SeedOutcome o;
  o.seed = j["seed"].get<uint64_t>();
  o.pass = j["pass"].get<bool>();
  o.first_violation_kind = j["kind"].get<std::string>();
  o.trace_hash = j["hash"].get<std::string>();
  o.sim_seconds = j["sim_s"].get<double>();
  o.wall_seconds = j["wall_s"].get<double>();
  o.probes_hit = j["probes"].get<std::vector<std::string>>();
  o.error = j["error"].get<std::string>();
  return o;
}

SweepResult run_sweep(const SweepOptions& options, const RunOneSeed& run_one) {
  Status valid = validate(options);
  SeedCursor cursor(options.seeds, options.shard);
  Tally tally(options, valid.ok() ? cursor.size() : 0);
  if (!valid.ok()) return tally.finish(valid.message());
  if (Status s = tally.open_failures_file(); !s.ok()) return tally.finish(s.message());
  tally.report_progress();
  uint64_t jobs = std::min<uint64_t>(options.jobs, cursor.size());
  if (jobs <= 1) {
    while (!cursor.done()) tally.record(run_guarded(run_one, cursor.next()));
    return tally.finish("");
  }
  WorkerPool pool(options, run_one, cursor, tally);
  return tally.finish(pool.run(static_cast<unsigned>(jobs)));
}

std::string progress_line(const SweepProgress& p) {
  constexpr uint64_t kBarWidth = 10;
  uint64_t filled = p.total > 0 ? std::min(kBarWidth, p.done * kBarWidth / p.total) : kBarWidth;
  double rate = p.wall_seconds > 0 ? static_cast<double>(p.done) / p.wall_seconds : 0;
  std::string tail = p.done >= p.total ? "took " + duration_text(p.wall_seconds)
                     : rate > 0
                         ? "ETA " + duration_text(static_cast<double>(p.total - p.done) / rate)
                         : "ETA --";
  return fmt::format("[{}{}] {}/{} seeds  {:.1f} seeds/s  {} failed  {}", std::string(filled, '#'),
                     std::string(kBarWidth - filled, '.'), p.done, p.total, rate, p.failed, tail);
}

std::string ProgressPrinter::update(const SweepProgress& p) {
  bool end = p.done >= p.total;
  double since_last = p.wall_seconds - last_seconds_;
  if (tty_) {
    if (drawn_ && !end && since_last < kTtyRedrawSeconds) return "";
    std::string line = progress_line(p);
    size_t width = line.size();
    if (width < last_width_) line.append(last_width_ - width, ' ');  // cover the longer line
    last_width_ = width;
    drawn_ = true;
    last_seconds_ = p.wall_seconds;
    return "\r" + line;
  }
  uint64_t tenth = p.total > 0 ? p.done * 10 / p.total : 10;
  if (ended_ || (drawn_ && !end && tenth <= last_tenth_ && since_last < kPlainIntervalSeconds))
    return "";
  drawn_ = true;
  ended_ = end;
  last_seconds_ = p.wall_seconds;
  last_tenth_ = tenth;
  return progress_line(p) + "\n";
}

std::string ProgressPrinter::finish() const {
  return tty_ && drawn_ ? "\n" : "";
}

}  // namespace gregor::scenario
