// Proves the sweep engine with fake run_one functions (no simulator): seed ranges and shards parse
// and reject what they should; the shards of a range are disjoint, cover it and are ascending;
// jobs = 1 (in-process) and jobs = 3 (forked workers) give the same SweepResult; a worker that
// aborts, exits or is killed fails only its seed ("worker died: ...") while the other seeds still
// run, and no child or descriptor outlives the sweep; a seed that hangs fails as "timeout"; worker
// state stays in the worker; the failures file gets one flushed "SEED KIND" line per failure;
// progress lines and their throttling.
#include "sim/scenario/sweep.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <stdexcept>

namespace gregor::scenario {
namespace {

// Fails every seventh seed as a lost write, throws on seed 50, and reports a probe per seed % 5.
SeedOutcome fake_run(uint64_t seed) {
  if (seed == 50) throw std::runtime_error("bad cluster config");
  SeedOutcome o;
  o.pass = seed % 7 != 0;
  if (!o.pass) o.first_violation_kind = "lost-write";
  o.trace_hash = fmt::format("{:016x}", seed * 0x9E3779B97F4A7C15ull);
  o.sim_seconds = 0.1 * static_cast<double>(seed);
  o.wall_seconds = 0.001;
  o.probes_hit = {fmt::format("probe-{}", seed % 5)};
  return o;
}

// Dies without a core file (a core dump per test run would be slow and litter the machine).
[[noreturn]] void die_by(int sig) {
  rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  if (sig == SIGABRT) std::abort();
  raise(sig);
  _exit(99);
}

SweepOptions options(uint64_t first, uint64_t last, unsigned jobs) {
  SweepOptions o;
  o.seeds = {first, last};
  o.jobs = jobs;
  return o;
}

// Everything but the wall-clock times, which legitimately differ between runs.
void expect_same(SweepResult a, SweepResult b) {
  for (auto* r : {&a, &b}) {
    r->wall_seconds = 0;
    for (SeedOutcome& f : r->failures) f.wall_seconds = 0;
  }
  EXPECT_EQ(a.total, b.total);
  EXPECT_EQ(a.run, b.run);
  EXPECT_EQ(a.passed, b.passed);
  EXPECT_EQ(a.failed, b.failed);
  EXPECT_EQ(a.failures, b.failures);
  EXPECT_EQ(a.probes_hit, b.probes_hit);
  EXPECT_EQ(a.sim_seconds, b.sim_seconds);  // exact: summed in whole nanoseconds
  EXPECT_EQ(a.error, b.error);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Sweep, ParsesSeedRanges) {
  EXPECT_EQ(*parse_seed_range("1..10000"), (SeedRange{1, 10000}));
  EXPECT_EQ(*parse_seed_range("7"), (SeedRange{7, 7}));
  EXPECT_EQ(*parse_seed_range("0..0"), (SeedRange{0, 0}));
  EXPECT_EQ(parse_seed_range("1..10000")->count(), 10000u);
  for (const char* bad : {"10..1", "", "junk", "1..", "..5", "1...5", "1..5x", " 1..5", "-1..5",
                          "18446744073709551616", "1,5", "0x10"})
    EXPECT_FALSE(parse_seed_range(bad).ok()) << bad;
  EXPECT_EQ(parse_seed_range("10..1").code(), Errc::invalid_argument);
  EXPECT_EQ(parse_seed_range("1..1000000001").code(), Errc::limit_exceeded);
  EXPECT_TRUE(parse_seed_range("1..1000000000").ok());
}

TEST(Sweep, ParsesShards) {
  EXPECT_EQ(*parse_shard("3/8"), (Shard{3, 8}));
  EXPECT_EQ(*parse_shard("0/1"), (Shard{0, 1}));
  EXPECT_EQ(*parse_shard("63/64"), (Shard{63, 64}));
  for (const char* bad :
       {"0/0", "3/2", "8/8", "junk", "3", "/8", "3/", "-1/8", "1/-8", "1/2000000", "3/8/1", " 3/8"})
    EXPECT_FALSE(parse_shard(bad).ok()) << bad;
  EXPECT_NE(parse_shard("8/8").status().message().find("0-based"), std::string::npos);
}

TEST(Sweep, ShardSeedsInterleave) {
  EXPECT_EQ(shard_seeds({1, 10}, {1, 3}), (std::vector<uint64_t>{2, 5, 8}));
  EXPECT_EQ(shard_seeds({1, 10}, {0, 1}).size(), 10u);
  EXPECT_TRUE(shard_seeds({1, 3}, {5, 8}).empty());
  EXPECT_EQ(shard_seeds({7, 7}, {0, 4}), (std::vector<uint64_t>{7}));
}

RC_GTEST_PROP(Sweep, ShardsAreDisjointAndCoverTheRange, ()) {
  const uint64_t first = *rc::gen::inRange<uint64_t>(0, 1000);
  const uint64_t count = *rc::gen::inRange<uint64_t>(1, 500);
  const uint64_t shards = *rc::gen::inRange<uint64_t>(1, 40);
  std::vector<uint64_t> all;
  for (uint64_t i = 0; i < shards; ++i) {
    std::vector<uint64_t> seeds = shard_seeds({first, first + count - 1}, {i, shards});
    RC_ASSERT(std::is_sorted(seeds.begin(), seeds.end()));
    all.insert(all.end(), seeds.begin(), seeds.end());
  }
  std::sort(all.begin(), all.end());
  RC_ASSERT(all.size() == count);  // with the next line: each seed exactly once
  for (uint64_t k = 0; k < count; ++k) RC_ASSERT(all[k] == first + k);
}

TEST(Sweep, InProcessAndWorkersGiveTheSameResult) {
  SweepResult one = run_sweep(options(1, 200, 1), fake_run);
  SweepResult three = run_sweep(options(1, 200, 3), fake_run);
  EXPECT_EQ(one.error, "");
  EXPECT_EQ(one.total, 200u);
  EXPECT_EQ(one.run, 200u);
  EXPECT_EQ(one.failed, 28u + 1u);  // 7, 14, ..., 196 and the exception on 50
  EXPECT_EQ(one.passed, 200u - one.failed);
  EXPECT_EQ(one.probes_hit.size(), 5u);
  ASSERT_EQ(one.failures.size(), one.failed);
  EXPECT_TRUE(std::is_sorted(one.failures.begin(), one.failures.end(),
                             [](auto& a, auto& b) { return a.seed < b.seed; }));
  auto exc =
      std::find_if(one.failures.begin(), one.failures.end(), [](auto& f) { return f.seed == 50; });
  ASSERT_NE(exc, one.failures.end());
  EXPECT_EQ(exc->first_violation_kind, "exception");
  EXPECT_EQ(exc->error, "exception: bad cluster config");
  expect_same(one, three);

  SweepOptions sharded = options(1, 200, 2);
  sharded.shard = {1, 4};
  SweepResult part = run_sweep(sharded, fake_run);
  EXPECT_EQ(part.total, 50u);
  EXPECT_EQ(part.run, 50u);
  for (const SeedOutcome& f : part.failures) EXPECT_EQ((f.seed - 1) % 4, 1u) << f.seed;
}

TEST(Sweep, DeadWorkerFailsOnlyItsSeed) {
  auto run_one = [](uint64_t seed) {
    if (seed == 13) die_by(SIGABRT);
    if (seed == 17) _exit(7);
    if (seed == 23) die_by(SIGKILL);
    return SeedOutcome{.pass = true, .probes_hit = {"p"}};
  };
  SweepResult r = run_sweep(options(1, 30, 3), run_one);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.run, 30u);
  EXPECT_EQ(r.passed, 27u);
  ASSERT_EQ(r.failures.size(), 3u);
  EXPECT_EQ(r.failures[0].seed, 13u);
  EXPECT_EQ(r.failures[0].first_violation_kind, "crash");
  EXPECT_EQ(r.failures[0].error.rfind("worker died: signal 6", 0), 0u) << r.failures[0].error;
  EXPECT_EQ(r.failures[1].seed, 17u);
  EXPECT_EQ(r.failures[1].error, "worker died: exit status 7");
  EXPECT_EQ(r.failures[2].seed, 23u);
  EXPECT_EQ(r.failures[2].error.rfind("worker died: signal 9", 0), 0u) << r.failures[2].error;
  EXPECT_EQ(r.probes_hit, (std::set<std::string>{"p"}));
}

TEST(Sweep, EveryWorkerDyingStillFinishes) {
  auto run_one = [](uint64_t) -> SeedOutcome { die_by(SIGABRT); };
  SweepResult r = run_sweep(options(1, 12, 4), run_one);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.run, 12u);
  EXPECT_EQ(r.failed, 12u);
}

size_t open_descriptors() {
  size_t n = 0;
  for (int fd = 0; fd < 1024; ++fd) n += fcntl(fd, F_GETFD) != -1;
  return n;
}

TEST(Sweep, LeavesNoChildrenOrDescriptorsBehind) {
  size_t before = open_descriptors();
  auto run_one = [](uint64_t seed) {
    if (seed % 5 == 0) die_by(SIGABRT);
    return SeedOutcome{.pass = true};
  };
  EXPECT_EQ(run_sweep(options(1, 40, 4), run_one).failed, 8u);
  EXPECT_EQ(open_descriptors(), before);
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);  // every worker was reaped
  EXPECT_EQ(errno, ECHILD);
}

TEST(Sweep, HangingSeedTimesOut) {
  auto run_one = [](uint64_t seed) {
    if (seed == 4) pause();
    return SeedOutcome{.pass = true};
  };
  SweepOptions o = options(1, 6, 2);
  o.seed_timeout_seconds = 0.5;
  SweepResult r = run_sweep(o, run_one);
  EXPECT_EQ(r.run, 6u);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].seed, 4u);
  EXPECT_EQ(r.failures[0].first_violation_kind, "timeout");
  EXPECT_EQ(r.failures[0].error, "timed out after 0.5s");
}

int calls_seen = 0;  // changed only inside workers when jobs > 1

TEST(Sweep, WorkersDoNotShareTheParentsState) {
  auto run_one = [](uint64_t) {
    ++calls_seen;
    return SeedOutcome{.pass = true};
  };
  calls_seen = 0;
  EXPECT_EQ(run_sweep(options(1, 9, 3), run_one).passed, 9u);
  EXPECT_EQ(calls_seen, 0);
  EXPECT_EQ(run_sweep(options(1, 9, 1), run_one).passed, 9u);
  EXPECT_EQ(calls_seen, 9);
}

TEST(Sweep, FailuresFileGetsOneLinePerFailure) {
  std::string path = testing::TempDir() + "sweep_failures.txt";
  std::remove(path.c_str());
  { std::ofstream(path) << "3 earlier-run\n"; }  // appended to, never truncated
  SweepOptions o = options(1, 60, 3);
  o.failures_path = path;
  SweepResult r = run_sweep(o, fake_run);
  EXPECT_EQ(r.error, "");
  std::vector<std::string> lines = read_lines(path);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "3 earlier-run");
  lines.erase(lines.begin());
  std::sort(lines.begin(), lines.end(), [](const std::string& a, const std::string& b) {
    return std::stoull(a) < std::stoull(b);
  });
  EXPECT_EQ(lines, (std::vector<std::string>{"7 lost-write", "14 lost-write", "21 lost-write",
                                             "28 lost-write", "35 lost-write", "42 lost-write",
                                             "49 lost-write", "50 exception", "56 lost-write"}));
  std::remove(path.c_str());
}

TEST(Sweep, BadOptionsRunNothing) {
  SweepOptions o = options(1, 10, 1);
  o.failures_path = "/nonexistent-dir/failures.txt";
  SweepResult r = run_sweep(o, fake_run);
  EXPECT_NE(r.error.find("cannot open failures file"), std::string::npos);
  EXPECT_EQ(r.run, 0u);
  EXPECT_NE(run_sweep(options(1, 10, 0), fake_run).error, "");
  EXPECT_NE(run_sweep(options(1, 10, kWorkersMax + 1), fake_run).error, "");
  EXPECT_NE(run_sweep(options(10, 1, 1), fake_run).error, "");
  SweepOptions bad_shard = options(1, 10, 1);
  bad_shard.shard = {2, 2};
  EXPECT_NE(run_sweep(bad_shard, fake_run).error, "");
}

TEST(Sweep, MoreJobsThanSeedsAndEmptyShards) {
  EXPECT_EQ(run_sweep(options(1, 3, 8), fake_run).passed, 3u);
  SweepOptions empty = options(1, 3, 4);
  empty.shard = {5, 8};
  SweepResult r = run_sweep(empty, fake_run);
  EXPECT_EQ(r.total, 0u);
  EXPECT_EQ(r.run, 0u);
  EXPECT_EQ(r.error, "");
}

TEST(Sweep, KeepsTheLowestFailingSeedsAndCountsTheRest) {
  auto run_one = [](uint64_t) { return SeedOutcome{.first_violation_kind = "lost-write"}; };
  SweepResult r = run_sweep(options(1, kFailuresKeptMax + 5, 1), run_one);
  EXPECT_EQ(r.failed, kFailuresKeptMax + 5);
  ASSERT_EQ(r.failures.size(), kFailuresKeptMax);
  EXPECT_EQ(r.failures.front().seed, 1u);
  EXPECT_EQ(r.failures.back().seed, kFailuresKeptMax);
}

TEST(Sweep, ProgressIsReportedForEverySeed) {
  std::vector<SweepProgress> seen;
  SweepOptions o = options(1, 20, 3);
  o.on_progress = [&](const SweepProgress& p) { seen.push_back(p); };
  run_sweep(o, fake_run);
  ASSERT_EQ(seen.size(), 21u);  // the start, then one per seed
  EXPECT_EQ(seen.front().done, 0u);
  EXPECT_EQ(seen.back().done, 20u);
  EXPECT_EQ(seen.back().total, 20u);
  EXPECT_EQ(seen.back().failed, 2u);
}

TEST(Sweep, OutcomeJsonRoundTrips) {
  SeedOutcome o{7, false, "lost-write", "abc", 12.25, 0.1, {"a", "b"}, "why\n\"quoted\""};
  Result<SeedOutcome> back = parse_outcome_json(outcome_json(o));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, o);
  EXPECT_EQ(outcome_json(o).find('\n'), std::string::npos);
  for (const char* bad : {"", "{}", "[]", "not json", R"({"seed":-1,"pass":true})"})
    EXPECT_FALSE(parse_outcome_json(bad).ok()) << bad;
  EXPECT_EQ(failure_kind(SeedOutcome{.error = "x"}), "error");
  EXPECT_EQ(failure_kind(SeedOutcome{}), "fail");
  EXPECT_EQ(failure_kind(SeedOutcome{.first_violation_kind = "two words"}), "two-words");
}

TEST(Sweep, ProgressLine) {
  EXPECT_EQ(progress_line({4120, 10000, 2, 110.75}),
            "[####......] 4120/10000 seeds  37.2 seeds/s  2 failed  ETA 2m38s");
  EXPECT_EQ(progress_line({0, 10, 0, 0}), "[..........] 0/10 seeds  0.0 seeds/s  0 failed  ETA --");
  EXPECT_EQ(progress_line({10, 10, 1, 5400}),
            "[##########] 10/10 seeds  0.0 seeds/s  1 failed  took 1h30m");
}

TEST(Sweep, PlainProgressPrintsEveryTenthAndEveryTenSeconds) {
  ProgressPrinter plain(false);
  int lines = 0;
  for (uint64_t done = 0; done <= 100; ++done) {
    std::string out = plain.update({done, 100, 0, 0.01 * static_cast<double>(done)});
    if (!out.empty()) {
      ++lines;
      EXPECT_EQ(out.back(), '\n');
    }
  }
  EXPECT_EQ(lines, 11);  // 0%, 10%, ..., 100%
  EXPECT_EQ(plain.finish(), "");

  ProgressPrinter slow(false);
  EXPECT_NE(slow.update({0, 1000, 0, 0}), "");
  EXPECT_EQ(slow.update({1, 1000, 0, 9}), "");
  EXPECT_NE(slow.update({2, 1000, 0, 10.5}), "");  // nothing new for ten seconds: say so
}

TEST(Sweep, TtyProgressRedrawsInPlace) {
  ProgressPrinter tty(true);
  std::string first = tty.update({0, 100, 0, 0});
  EXPECT_EQ(first.substr(0, 2), "\r[");
  EXPECT_EQ(tty.update({1, 100, 0, 0.05}), "");  // too soon
  std::string later = tty.update({2, 100, 1, 0.2});
  EXPECT_EQ(later[0], '\r');
  EXPECT_GE(later.size(), first.size());           // covers the previous line
  EXPECT_NE(tty.update({100, 100, 1, 0.21}), "");  // the end is always drawn
  EXPECT_EQ(tty.finish(), "\n");
}

}  // namespace
}  // namespace gregor::scenario
