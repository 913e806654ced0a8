// The log benchmark (see log_bench.h). Why it is shaped this way:
// - The Log runs on the same production Env a broker uses, so what is measured includes the
//   seam's costs (a posted completion per disk call, Bytes copies at the File boundary, CRC
//   validation on append and on read), which is exactly what the ratio is meant to expose.
// - Appends are pipelined (in_flight_max pending) the way a broker with several produce requests
//   queued would drive it; the Log serialises them internally, so this only removes the
//   benchmark's own round trips from the figure.
// - The baseline is deliberately simple: the same bytes, write(2)/read(2) in ~1 MiB buffers, the
//   same single fsync, the same file system, the same warm or cold page cache.
#include "bench/log_bench.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "base/random.h"
#include "base/trace.h"
#include "bench/bench_clock.h"
#include "disk/posix_disk.h"
#include "net/event_loop.h"
#include "net/tcp_network.h"
#include "node/log/log.h"

namespace gregor::bench {
namespace {

namespace fs = std::filesystem;
using log::BatchBuilder;
using log::Log;
using log::LogConfig;

// Generous: a phase of many GiB on a slow disk still finishes; a hang still ends.
constexpr Duration kPhaseTimeout = minutes(30);
constexpr const char* kRawFile = "raw.data";
constexpr const char* kDir1m = "bench-1m-0";
constexpr const char* kDir16k = "bench-16k-0";

// The production Env of one broker process, rooted at `root`.
struct ProdEnv {
  std::unique_ptr<net::EventLoop> loop;
  std::unique_ptr<net::RealClock> clock;
  std::unique_ptr<net::TcpNetwork> network;
  std::unique_ptr<disk::PosixDisk> disk;
  std::unique_ptr<Random> random;
  NullTracer tracer;
  std::unique_ptr<Env> env;

  static Result<std::unique_ptr<ProdEnv>> create(const std::string& root) {
    auto p = std::make_unique<ProdEnv>();
    auto loop = net::EventLoop::create();
    if (!loop.ok()) return loop.status();
    p->loop = std::move(loop).value();
    p->clock = std::make_unique<net::RealClock>(*p->loop);
    p->network = std::make_unique<net::TcpNetwork>(*p->loop);
    auto disk = disk::PosixDisk::create(*p->loop, root);
    if (!disk.ok()) return disk.status();
    p->disk = std::move(disk).value();
    p->random = std::make_unique<Random>(net::os_random_seed());
    p->env = std::make_unique<Env>(
        Env{*p->clock, *p->random, *p->network, *p->disk, p->tracer, "bench", false});
    return p;
  }

  // Runs the loop until `got` is set; times out with an error naming `what`.
  template <typename T>
  Result<T> wait(std::optional<T>& got, const char* what) {
    loop->run_until([&] { return got.has_value(); }, kPhaseTimeout);
    if (!got) return errorf(Errc::timed_out, "{} never completed", what);
    return std::move(*got);
  }

  Result<std::unique_ptr<Log>> open_log(const std::string& dir) {
    std::optional<Result<std::unique_ptr<Log>>> got;
    Log::load(*env, dir, LogConfig{}, [&](Result<std::unique_ptr<Log>> r) { got = std::move(r); });
    auto r = wait(got, "Log::load");
    if (!r.ok()) return r.status();
    return std::move(r).value();
  }

  Status call(const std::function<void(std::function<void(const Status&)>)>& op, const char* what) {
    std::optional<Status> got;
    op([&](const Status& s) { got = s; });
    loop->run_until([&] { return got.has_value(); }, kPhaseTimeout);
    return got ? *got : errorf(Errc::timed_out, "{} never completed", what);
  }
};

// `count` copies of one batch of 1 KiB-value records filling about `batch_bytes`. Copies of a
// single batch are as good as distinct ones to the log (it assigns offsets; the CRC does not
// cover them) and much cheaper to prepare.
Result<std::vector<Bytes>> build_batches(uint64_t total_bytes, size_t batch_bytes,
                                         size_t record_bytes) {
  Random random(1);
  Bytes value(record_bytes);
  for (auto& b : value) b = static_cast<uint8_t>(random.next_u64());
  BatchBuilder builder(BatchBuilder::Options{});
  int64_t timestamp = 1'700'000'000'000;
  builder.add(timestamp, std::nullopt, ByteView(value));
  size_t record_size = builder.records_bytes();
  // Varint deltas grow by a byte or two past 63 records; keep that much slack.
  while (builder.records_bytes() + record_size + 4 + log::kBatchHeaderBytes <= batch_bytes) {
    builder.add(++timestamp, std::nullopt, ByteView(value));
  }
  auto one = builder.build();
  if (!one.ok()) return one.status();
  size_t count = static_cast<size_t>((total_bytes + one->size() - 1) / one->size());
  return std::vector<Bytes>(std::max<size_t>(count, 1), *one);
}

uint64_t total_size(const std::vector<Bytes>& batches) {
  uint64_t n = 0;
  for (const Bytes& b : batches) n += b.size();
  return n;
}

// write(2) every batch into `path`, then one fdatasync when `fsync`.
Result<PhaseResult> raw_write(const std::string& path, const std::vector<Bytes>& batches,
                              bool fsync) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errorf(Errc::io_error, "open {}: {}", path, std::strerror(errno));
  PhaseResult r;
  auto start = Clock::now();
  for (const Bytes& b : batches) {
    for (size_t done = 0; done < b.size();) {
      ssize_t n = ::write(fd, b.data() + done, b.size() - done);
      if (n <= 0) {
        ::close(fd);
        return errorf(Errc::io_error, "write {}: {}", path, std::strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
    r.bytes += b.size();
  }
  if (fsync && ::fdatasync(fd) != 0) {
    ::close(fd);
    return errorf(Errc::io_error, "fdatasync {}: {}", path, std::strerror(errno));
  }
  r.seconds = seconds_since(start);
  ::close(fd);
  return r;
}

// read(2) the whole file in buffers of `buffer_bytes`.
Result<PhaseResult> raw_read(const std::string& path, size_t buffer_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errorf(Errc::io_error, "open {}: {}", path, std::strerror(errno));
  Bytes buffer(buffer_bytes);
  PhaseResult r;
  auto start = Clock::now();
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      ::close(fd);
      return errorf(Errc::io_error, "read {}: {}", path, std::strerror(errno));
    }
    if (n == 0) break;
    r.bytes += static_cast<uint64_t>(n);
  }
  r.seconds = seconds_since(start);
  ::close(fd);
  return r;
}

// Writes back every dirty page of the file system (untimed, before each phase), so that no phase
// pays for the writeback of an earlier one: without it the second write phase of a --no-fsync
// run is throttled by the first one's dirty pages.
Status sync_file_system(const std::string& root) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errorf(Errc::io_error, "open {}: {}", root, std::strerror(errno));
  int rc = ::syncfs(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errorf(Errc::io_error, "syncfs {}: {}", root, std::strerror(err));
  return Status::Ok();
}

// Drops the file's clean pages from the page cache (it was fsynced, so all are clean).
Status drop_cache(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errorf(Errc::io_error, "open {}: {}", path, std::strerror(errno));
  int rc = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
  if (rc != 0) return errorf(Errc::io_error, "posix_fadvise {}: {}", path, std::strerror(rc));
  return Status::Ok();
}

Status drop_segments_cache(const std::string& dir) {
  std::error_code ec;
  for (auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".log") continue;
    if (Status s = drop_cache(entry.path().string()); !s.ok()) return s;
  }
  if (ec) return errorf(Errc::io_error, "list {}: {}", dir, ec.message());
  return Status::Ok();
}

// Appends every batch (moved into the Log) with up to in_flight_max pending, then one flush when
// `fsync`.
Result<PhaseResult> timed_append(ProdEnv& p, Log& log, std::vector<Bytes> batches,
                                 size_t in_flight_max, bool fsync) {
  PhaseResult r;
  r.bytes = total_size(batches);
  size_t next = 0, completed = 0, in_flight = 0;
  Status failure;
  std::function<void()> pump = [&] {
    while (in_flight < in_flight_max && next < batches.size()) {
      ++in_flight;
      log.append(std::move(batches[next++]), 0,
                 [&](Result<log::AppendInfo> info, std::optional<log::AppendError>) {
                   --in_flight;
                   ++completed;
                   if (!info.ok() && failure.ok()) failure = info.status();
                   pump();
                 });
    }
  };
  auto start = Clock::now();
  pump();
  p.loop->run_until([&] { return completed == batches.size(); }, kPhaseTimeout);
  if (completed != batches.size()) return error(Errc::timed_out, "appends never completed");
  if (!failure.ok()) return failure;
  if (fsync) {
    if (Status s = p.call([&](auto cb) { log.flush(cb); }, "Log::flush"); !s.ok()) return s;
  }
  r.seconds = seconds_since(start);
  return r;
}

// Fetches the whole log from offset 0, one Log::read at a time as a consumer would.
Result<PhaseResult> timed_read(ProdEnv& p, Log& log, size_t max_bytes, uint64_t* reads) {
  PhaseResult r;
  int64_t offset = log.log_start_offset();
  bool finished = false;
  Status failure;
  std::function<void()> fetch = [&] {
    log.read(offset, max_bytes, [&](Result<log::ReadResult> got) {
      if (!got.ok() || got->batches.empty()) {
        if (!got.ok()) failure = got.status();
        finished = true;
        return;
      }
      ++*reads;
      r.bytes += got->batches.size();
      log::BatchIterator it(got->batches);
      while (auto batch = it.next()) {
        offset = log::parse_batch_header(*batch).value().last_offset() + 1;
      }
      if (offset >= log.log_end_offset()) {
        finished = true;
      } else {
        fetch();
      }
    });
  };
  auto start = Clock::now();
  fetch();
  p.loop->run_until([&] { return finished; }, kPhaseTimeout);
  r.seconds = seconds_since(start);
  if (!finished) return error(Errc::timed_out, "reads never completed");
  if (!failure.ok()) return failure;
  return r;
}

// Builds, appends (timed) and closes one partition; keeps it open for `keep` when given.
Result<PhaseResult> append_phase(ProdEnv& p, const std::string& dir, std::vector<Bytes> batches,
                                 const LogBenchOptions& o, std::unique_ptr<Log>* keep) {
  auto log = p.open_log(dir);
  if (!log.ok()) return log.status();
  auto r = timed_append(p, **log, std::move(batches), o.in_flight_max, o.fsync);
  if (!r.ok()) return r;
  if (keep) {
    *keep = std::move(*log);
    return r;
  }
  if (Status s = p.call([&](auto cb) { (*log)->close(cb); }, "Log::close"); !s.ok()) return s;
  return r;
}

// raw_read, then read of the partition `log` (the append_1m one, still open).
Status read_phases(ProdEnv& p, Log& log, const std::string& root, const LogBenchOptions& o,
                   LogBenchResult& out) {
  std::string raw_path = root + "/" + kRawFile;
  if (Status s = sync_file_system(root); !s.ok()) return s;
  if (o.cold) {
    if (Status s = drop_cache(raw_path); !s.ok()) return s;
    if (Status s = drop_segments_cache(root + "/" + kDir1m); !s.ok()) return s;
  }
  auto rr = raw_read(raw_path, o.raw_buffer_bytes);
  if (!rr.ok()) return rr.status();
  out.raw_read = *rr;
  auto lr = timed_read(p, log, o.read_max_bytes, &out.reads);
  if (!lr.ok()) return lr.status();
  out.read = *lr;
  if (out.read.bytes != out.append_1m.bytes) {
    return errorf(Errc::corrupt, "read {} bytes back from a log of {}", out.read.bytes,
                  out.append_1m.bytes);
  }
  return Status::Ok();
}

Status run_phases(const std::string& root, const LogBenchOptions& o, LogBenchResult& out) {
  auto p = ProdEnv::create(root);
  if (!p.ok()) return p.status();
  uint64_t total = o.mb << 20;
  auto large = build_batches(total, o.batch_bytes_large, o.record_bytes);
  if (!large.ok()) return large.status();
  out.batches_1m = large->size();

  std::string raw_path = root + "/" + kRawFile;
  if (Status s = sync_file_system(root); !s.ok()) return s;
  auto w = raw_write(raw_path, *large, o.fsync);
  if (!w.ok()) return w.status();
  out.raw_write = *w;

  std::unique_ptr<Log> log;
  if (Status s = sync_file_system(root); !s.ok()) return s;
  auto a1m = append_phase(**p, kDir1m, std::move(*large), o, &log);
  if (!a1m.ok()) return a1m.status();
  out.append_1m = *a1m;

  if (Status s = read_phases(**p, *log, root, o, out); !s.ok()) return s;
  if (Status s = (*p)->call([&](auto cb) { log->close(cb); }, "Log::close"); !s.ok()) return s;
  log.reset();

  auto small = build_batches(total, o.batch_bytes_small, o.record_bytes);
  if (!small.ok()) return small.status();
  out.batches_16k = small->size();
  if (Status s = sync_file_system(root); !s.ok()) return s;
  auto a16k = append_phase(**p, kDir16k, std::move(*small), o, nullptr);
  if (!a16k.ok()) return a16k.status();
  out.append_16k = *a16k;
  // Let completions still posted (there should be none) run before the Env goes.
  (*p)->loop->run_until([] { return false; }, milliseconds(1));
  return Status::Ok();
}

double ratio(const PhaseResult& a, const PhaseResult& b) {
  return b.mb_s() > 0 ? a.mb_s() / b.mb_s() : 0;
}

}  // namespace

double LogBenchResult::append_ratio() const {
  return ratio(append_1m, raw_write);
}
double LogBenchResult::read_ratio() const {
  return ratio(read, raw_read);
}

nlohmann::ordered_json LogBenchResult::to_json() const {
  auto phase = [](const PhaseResult& r) {
    return nlohmann::ordered_json{{"bytes", r.bytes}, {"seconds", r.seconds}, {"mb_s", r.mb_s()}};
  };
  LogConfig lc;
  return nlohmann::ordered_json{
      {"append_mb_s_16k", append_16k.mb_s()},
      {"append_mb_s_1m", append_1m.mb_s()},
      {"read_mb_s", read.mb_s()},
      {"raw_write_mb_s", raw_write.mb_s()},
      {"raw_read_mb_s", raw_read.mb_s()},
      {"append_ratio", append_ratio()},
      {"read_ratio", read_ratio()},
      {"bytes", append_1m.bytes},
      {"seconds", append_16k.seconds + append_1m.seconds + read.seconds + raw_write.seconds +
                      raw_read.seconds},
      {"phases",
       {{"raw_write", phase(raw_write)},
        {"append_16k", phase(append_16k)},
        {"append_1m", phase(append_1m)},
        {"raw_read", phase(raw_read)},
        {"read", phase(read)}}},
      {"batches_16k", batches_16k},
      {"batches_1m", batches_1m},
      {"reads", reads},
      {"config",
       {{"mb", options.mb},
        {"dir", dir},
        {"record_bytes", options.record_bytes},
        {"batch_bytes_16k", batches_16k ? append_16k.bytes / batches_16k : 0},
        {"batch_bytes_1m", batches_1m ? append_1m.bytes / batches_1m : 0},
        {"in_flight_max", options.in_flight_max},
        {"read_max_bytes", options.read_max_bytes},
        {"raw_buffer_bytes", options.raw_buffer_bytes},
        {"fsync",
         options.fsync ? "once at the end of each write phase (fdatasync; Log::flush)" : "none"},
        {"page_cache", options.cold ? "cold" : "warm"},
        {"segment_bytes", lc.segment_bytes},
        {"strict_validation", lc.strict_validation},
        {"backend", "EventLoop + PosixDisk + RealClock"}}}};
}

std::string LogBenchResult::to_text() const {
  auto line = [](const char* name, const PhaseResult& r) {
    return fmt::format("  {:<11} {:>9.1f} MiB/s  {:>8.3f} s  {:>12} bytes\n", name, r.mb_s(),
                       r.seconds, r.bytes);
  };
  std::string s = fmt::format("log bench in {} ({} MiB per phase, {} page cache, {})\n", dir,
                              options.mb, options.cold ? "cold" : "warm",
                              options.fsync ? "one fsync per phase" : "no fsync");
  s += line("raw_write", raw_write) + line("append_16k", append_16k) +
       line("append_1m", append_1m) + line("raw_read", raw_read) + line("read", read);
  s += fmt::format("  append_ratio {:.2f} (append_1m / raw_write)\n", append_ratio());
  s += fmt::format("  read_ratio   {:.2f} (read / raw_read)\n", read_ratio());
  return s;
}

Result<LogBenchResult> run_log_bench(const LogBenchOptions& options) {
  if (options.mb == 0) return error(Errc::invalid_argument, "--mb must be at least 1");
  if (options.cold && !options.fsync) {
    return error(Errc::invalid_argument, "--cold needs the fsync (only clean pages drop)");
  }
  if (options.batch_bytes_large > LogConfig{}.max_message_bytes) {
    return error(Errc::invalid_argument, "large batches exceed max.message.bytes");
  }
  std::string tmpl = options.parent_dir + "/gregor-log-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return errorf(Errc::io_error, "mkdtemp {}: {}", tmpl, std::strerror(errno));
  }
  LogBenchResult out;
  out.options = options;
  out.dir = tmpl;
  Status s = run_phases(tmpl, options, out);
  if (!options.keep_dir) {
    std::error_code ec;
    fs::remove_all(tmpl, ec);
  }
  if (!s.ok()) return s;
  return out;
}

}  // namespace gregor::bench
