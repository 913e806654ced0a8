// The seed sweep engine behind `gregor sweep`: runs one scenario over a range of seeds, optionally
// one shard of it, in worker processes, and aggregates the outcomes. It knows nothing of
// scenarios: the caller passes `run_one(seed)` (in the CLI, a wrapper around run_scenario), so the
// engine is tested with fakes.
//
// Sharding splits a range across machines with no coordination: shard i/n gets the seeds whose
// position in the range (0 for the first seed) is i mod n. The n shards of a range are disjoint,
// together cover it, and depend only on (range, i, n), so a Kubernetes Indexed Job or a Slurm job
// array can run them in any order, retry any one, and merge their failures files (docs/sweeps.md).
//
// Determinism: the SweepResult (counts, failures sorted by seed, probe union, simulated seconds)
// depends only on the seeds and run_one, never on the number of workers or their timing; only
// wall_seconds and the order of lines in the failures file vary.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gregor::scenario {

// Named limits.
inline constexpr uint64_t kSweepSeedsMax = 1'000'000'000;  // seeds in one range
inline constexpr uint64_t kShardsMax = 1'000'000;          // n in "i/n"
inline constexpr unsigned kWorkersMax = 256;               // --jobs
inline constexpr size_t kFailuresKeptMax = 10'000;         // SweepResult::failures (lowest seeds)
inline constexpr size_t kWorkerLineBytesMax = 4 << 20;     // one outcome line from a worker

// An inclusive range of seeds: "1..10000" is 10000 seeds, "7" is the range 7..7.
struct SeedRange {
  uint64_t first = 1;
  uint64_t last = 1;
  uint64_t count() const { return last - first + 1; }
  bool operator==(const SeedRange&) const = default;
};

// Parses "A..B" (A <= B) or "A", decimal, no spaces; at most kSweepSeedsMax seeds.
Result<SeedRange> parse_seed_range(std::string_view text);

// Shard `index` of `count`, 0-based: "0/8" is the first of eight shards and "7/8" the last (the
// form of $JOB_COMPLETION_INDEX and $SLURM_ARRAY_TASK_ID). "0/1", the default, is everything.
struct Shard {
  uint64_t index = 0;
  uint64_t count = 1;
  bool operator==(const Shard&) const = default;
};

// Parses "i/n" with 1 <= n <= kShardsMax and i < n.
Result<Shard> parse_shard(std::string_view text);

// The seeds of `shard` in `range`, ascending: first + p for every position p in [0, count) with
// p mod shard.count == shard.index. Empty when the shard count exceeds the range's size and this
// shard has no position. Materializes the list; run_sweep walks it without doing so.
std::vector<uint64_t> shard_seeds(const SeedRange& range, const Shard& shard);

// One seed's result, what a worker sends to the parent.
struct SeedOutcome {
  uint64_t seed = 0;
  bool pass = false;
  // The first violation's kind (docs/history-format.md), or one of the sweep's own kinds:
  // "crash" (the worker died on this seed), "timeout" (killed after seed_timeout_seconds),
  // "exception" (run_one threw). Empty for a pass.
  std::string first_violation_kind;
  std::string trace_hash;
  double sim_seconds = 0;
  double wall_seconds = 0;
  std::vector<std::string> probes_hit;
  std::string error;  // why the run did not complete ("worker died: signal 6 (Aborted)")
  bool operator==(const SeedOutcome&) const = default;
};

// The word written after the seed in a failures file: first_violation_kind, else "error" when
// error is set, else "fail". Never empty and never contains whitespace.
std::string failure_kind(const SeedOutcome& outcome);

// The worker wire format: one compact JSON object, no newline. parse_outcome_json rejects
// anything outcome_json did not write (missing or mistyped fields).
std::string outcome_json(const SeedOutcome& outcome);
Result<SeedOutcome> parse_outcome_json(std::string_view line);

struct SweepProgress {
  uint64_t done = 0;   // seeds finished, passed or failed
  uint64_t total = 0;  // seeds in this shard
  uint64_t failed = 0;
  double wall_seconds = 0;  // since the sweep started
};

struct SweepOptions {
  SeedRange seeds;
  Shard shard;
  // 1: run every seed in this process, in order (no fork; what tests and debuggers want, but a
  // crash in run_one ends the sweep). > 1: that many worker processes (at most kWorkersMax, never
  // more than the shard has seeds); a worker that dies fails its seed and is replaced.
  unsigned jobs = 1;
  // When set, each failing seed is appended as "SEED KIND\n" and flushed as it happens (so an
  // interrupted sweep keeps what it found). Line order follows completion, not seeds.
  std::string failures_path;
  // Called in the calling process at the start and after every seed; see ProgressPrinter.
  std::function<void(const SweepProgress&)> on_progress;
  // jobs > 1 only: a worker still on one seed after this many wall seconds is killed and the
  // seed fails as "timeout". 0: no limit.
  double seed_timeout_seconds = 0;
};

struct SweepResult {
  uint64_t total = 0;  // seeds in the shard
  uint64_t run = 0;    // seeds finished (== total unless error is set)
  uint64_t passed = 0;
  uint64_t failed = 0;
  std::vector<SeedOutcome> failures;  // sorted by seed; the kFailuresKeptMax lowest seeds
  std::set<std::string> probes_hit;   // union over every seed
  double wall_seconds = 0;
  double sim_seconds = 0;  // summed over seeds (in whole nanoseconds, so order-independent)
  // Set when the sweep could not start or had to stop (bad options, failures file not writable,
  // fork failing with no worker left); then run < total.
  std::string error;
};

using RunOneSeed = std::function<SeedOutcome(uint64_t seed)>;

// Runs run_one for every seed of options.shard in options.seeds and aggregates. run_one's
// returned seed is ignored (the sweep sets it); an exception from it fails the seed. With
// jobs > 1, run_one runs in forked children: whatever it changes there (globals, logging state)
// stays there, and it must not expect to share state with the caller.
SweepResult run_sweep(const SweepOptions& options, const RunOneSeed& run_one);

// "[####......] 4120/10000 seeds  37.2 seeds/s  2 failed  ETA 2m38s"; when done == total the ETA
// becomes the elapsed time ("took 4m30s").
std::string progress_line(const SweepProgress& progress);

// Decides when a progress line is worth writing. On a TTY: "\r" + the line (padded over the
// previous one) at most every kTtyRedrawSeconds and at the end; otherwise the line + "\n" at the
// start, at every new tenth of the seeds, kPlainIntervalSeconds after the last line, and at the
// end. Times come from SweepProgress::wall_seconds, so it is testable.
//
//   ProgressPrinter printer(isatty(STDERR_FILENO));
//   options.on_progress = [&](const SweepProgress& p) { std::cerr << printer.update(p); };
//   ... run_sweep ...; std::cerr << printer.finish();
class ProgressPrinter {
 public:
  static constexpr double kTtyRedrawSeconds = 0.1;
  static constexpr double kPlainIntervalSeconds = 10;

  explicit ProgressPrinter(bool tty) : tty_(tty) {}
  // The text to write now, "" when nothing is due.
  std::string update(const SweepProgress& progress);
  // What to write once the sweep is over: "\n" on a TTY after a drawn line, else "".
  std::string finish() const;

 private:
  bool tty_;
  bool drawn_ = false;
  bool ended_ = false;  // plain mode: the final line is out
  double last_seconds_ = 0;
  uint64_t last_tenth_ = 0;
  size_t last_width_ = 0;
};

}  // namespace gregor::scenario
