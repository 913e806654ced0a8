// The Raft and controller checker: reads the trace lines of a run with a controller quorum
// ("raft.start", "raft.state", "raft.commit", "controller.fence", "proc.*"; node/controller/
// raft_node.cc and sim/cluster.cc write them) and reports the violations of Raft's safety
// invariants and KAFKA-15489's split brain (docs/history-format.md, "Raft and controller
// kinds").
//
// Contract:
//  - Streaming like Checker: add_line takes one line at a time and keeps per-node state, the
//    first leader of each epoch and the first (epoch, crc) delivered at each metadata offset
//    (metadata logs are small: a few entries per topic and broker). Lines of other kinds are
//    skipped unparsed; a malformed line of a kind it reads is an invalid_argument Status
//    ("line N: ..."), and what it held is not applied.
//  - Lines must come in the order things happened; `t` (nanoseconds) measures the split brain.
//  - finish() closes the open intervals at the last `t` seen, returns the result and starts
//    over, empty, with the same options.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sim/check/checker.h"

namespace gregor::check {

inline constexpr std::array<std::string_view, 5> kRaftViolationKinds = {
    "raft-two-leaders",        // two nodes leader in one epoch
    "raft-epoch-regress",      // a node's epoch went down (across restarts too: it is persisted)
    "raft-hw-regress",         // a node's high watermark went down within one incarnation
    "raft-committed-changed",  // two deliveries of one offset differ (between nodes or in time)
    "controller-split-brain",  // a superseded leader kept leading for longer than allowed
};

// Kafka's default controller.quorum.election.timeout.ms, and the split brain allowance: a
// leader cut off from the majority resigns within one election timeout with check-quorum, so
// twice that is a leader that never found out.
inline constexpr int64_t kElectionTimeoutDefaultNs = 1'000'000'000;

struct RaftCheckOptions {
  int64_t split_brain_ns = 2 * kElectionTimeoutDefaultNs;
  size_t violations_per_kind_max = kViolationsPerKindMax;
};

struct RaftStats {
  uint64_t elections = 0;  // distinct epochs in which some node became leader
  int64_t max_epoch = 0;   // the highest epoch any node reached
  uint64_t fences = 0;     // controller.fence lines (a broker fenced by the active controller)
  uint64_t commits = 0;    // raft.commit lines
  bool any = false;        // some raft line was seen (the run had a quorum)
};

struct RaftCheckResult {
  std::vector<Violation> violations;                          // in kRaftViolationKinds order
  std::array<uint64_t, kRaftViolationKinds.size()> counts{};  // exact
  RaftStats stats;
};

class RaftChecker {
 public:
  explicit RaftChecker(RaftCheckOptions options = {});
  ~RaftChecker();
  RaftChecker(const RaftChecker&) = delete;
  RaftChecker& operator=(const RaftChecker&) = delete;

  Status add_line(std::string_view line);
  RaftCheckResult finish();

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace gregor::check
