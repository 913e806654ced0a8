// An in-memory cluster of Raft state machines for tests: each node's "disk" is a PersistentState
// that the cluster updates from every Ready exactly as a host would (so a crash keeps exactly
// what was persisted), a tiny host state machine applies committed data entries (and is what
// snapshots hold), and every effect can be written as a transcript line. The network is the
// caller's: it takes the outbox and delivers messages in whatever order, late, twice or never.
// The cluster also checks the Raft invariants as it goes and records violations as text. Nodes
// after the voters are observers (Raft::observer()): they must only ever fetch, commit nothing
// before a voter has, and never help a leader's high watermark.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/controller/raft.h"

namespace gregor::raft {

struct ClusterOptions {
  int nodes = 3;      // ids 1..nodes, the voters
  int observers = 0;  // ids nodes+1..nodes+observers, not voters
  bool pre_vote = true;
  bool check_quorum = true;
  int election_timeout_ticks = 10;
  size_t fetch_entries_max = 16;
  uint64_t seed = 0;
  bool record_lines = false;  // write transcript lines (the safety test leaves this off)
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options);

  static constexpr int kObserversMax = 4;

  // Every node, voters first; ids 1..size().
  int size() const { return options_.nodes + options_.observers; }
  int voters() const { return options_.nodes; }
  bool is_observer(NodeId id) const { return id > options_.nodes; }
  bool up(NodeId id) const { return node(id).raft.has_value(); }
  const Raft& raft(NodeId id) const { return *node(id).raft; }
  // The data payloads this node has applied, in offset order.
  const std::vector<std::string>& applied(NodeId id) const { return node(id).applied; }

  // Inputs; each processes the node's Ready at once, as a host with a synchronous disk does.
  void tick(NodeId id);
  void campaign(NodeId id);
  void resign(NodeId id);
  int64_t propose(NodeId id, const std::string& payload);
  void deliver(const Message& m);  // dropped when m.to is down
  void crash(NodeId id);           // volatile state gone, the persisted state stays
  void restart(NodeId id);
  // Snapshot at the high watermark; false when there is nothing new to snapshot.
  bool compact(NodeId id);

  std::vector<Message> take_outbox();
  std::vector<std::string> take_lines();
  // Node summaries for `status` and `log`.
  std::string status_line(NodeId id) const;
  std::string log_line(NodeId id) const;

  // Cross-node invariants: one leader per epoch, leader completeness, a leader's high watermark
  // held by a majority of the voters' persisted logs (observers do not count). Cheap per-node
  // ones (epoch and high watermark monotonic, committed entries unchanged, observers only fetch
  // and commit nothing a voter has not) are checked on every Ready.
  void check_invariants();
  const std::vector<std::string>& violations() const { return violations_; }
  // The largest committed offset + 1 seen on any node.
  int64_t committed_end() const;

  // What happened, so that a sweep can show it exercised the interesting paths.
  struct Stats {
    int64_t leaders = 0;  // distinct (epoch, leader) pairs seen by check_invariants
    int64_t truncations = 0;
    int64_t snapshots_installed = 0;
    int64_t crashes = 0;
    int64_t observer_applied = 0;  // entries observers applied (each incarnation anew)
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Node {
    PersistentState disk;
    std::optional<Raft> raft;
    std::vector<std::string> applied;
    int64_t applied_end = 0;
    int incarnation = 0;
    int32_t max_epoch = 0;
    std::string last_status;
  };

  Node& node(NodeId id);
  const Node& node(NodeId id) const;
  RaftConfig config_for(NodeId id) const;
  void process(NodeId id);
  void persist(NodeId id, Ready& rd);
  void apply_committed(NodeId id, int64_t hw);
  void violation(std::string what);
  void check_observer(NodeId id, const std::vector<Message>& sent);
  void check_high_watermark_held(NodeId leader);
  // Whether the node's persisted state holds `e` (an entry, or a snapshot that covers it).
  bool persisted(NodeId id, const Entry& e) const;
  void line(NodeId id, const std::string& text);

  ClusterOptions options_;
  std::vector<Node> nodes_;  // index id - 1
  std::vector<Message> outbox_;
  std::vector<std::string> lines_;
  std::map<int64_t, Entry> committed_;       // every offset any node applied
  std::map<int64_t, int32_t> commit_epoch_;  // the earliest epoch a node applied it in
  std::map<int32_t, NodeId> leader_of_epoch_;
  int64_t voters_committed_end_ = 0;  // the largest high watermark any voter applied
  std::vector<std::string> violations_;
  Stats stats_;
};

// The host's state for snapshots: applied payloads joined by ','.
Bytes encode_applied(const std::vector<std::string>& applied);
std::vector<std::string> decode_applied(ByteView data);

}  // namespace gregor::raft
