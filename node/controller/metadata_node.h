// MetadataNode: a process's copy of the cluster metadata, kept by following the Raft metadata log
// (KRaft's MetadataLoader on top of its RaftManager). It runs the RaftNode (a voter in a
// controller, an observer in a broker-only process) and replays every committed entry's records
// onto the committed ControllerImage, then tells its subscribers what changed: the broker (which
// opens, closes and serves partitions from it) and the quorum controller (which decides from it
// when it becomes active).
//
// Each data entry of the metadata log is one controller write: the records of one decision,
// encoded with metadata::encode_records, applied atomically. LeaderChange entries carry nothing
// for the image. Snapshots hold metadata::encode_snapshot of the image at their end offset.
//
// A committed record that does not replay onto the committed image means the quorum's log and
// this process disagree about the past, which the controller's own replay before proposing rules
// out: it is a bug, asserted (as Kafka's MetadataLoader fault handler stops the process).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "base/env.h"
#include "node/controller/metadata_delta.h"
#include "node/controller/raft_node.h"

namespace gregor::metadata {

class MetadataNode {
 public:
  // delta: what the applied entry changed (nullptr: the whole image was replaced by a snapshot).
  using OnApplied = std::function<void(const MetadataDelta* delta, const ControllerImage& image)>;
  using OnStateChange = std::function<void()>;

  MetadataNode(Env& env, raft::RaftNodeConfig config);
  ~MetadataNode();
  MetadataNode(const MetadataNode&) = delete;
  MetadataNode& operator=(const MetadataNode&) = delete;

  void start(std::function<void(const Status&)> done);
  void stop();

  // Subscribers run in subscription order; the returned id unsubscribes. on_state_change runs
  // after a change of role, epoch or leader, and after every batch of committed entries.
  int subscribe(OnApplied on_applied, OnStateChange on_state_change = nullptr);
  void unsubscribe(int id);

  raft::RaftNode& raft() { return raft_; }
  const raft::RaftNode& raft() const { return raft_; }
  const ControllerImage& image() const { return image_; }
  // The metadata log offset up to which image() is built (exclusive). Not the RaftNode's: that
  // one passes a whole delivered batch before its entries are replayed one by one, and a
  // subscriber called in the middle of the batch must not take the image for complete.
  int64_t applied_offset() const { return applied_; }
  // The offset of the entry that last changed broker `id`'s registration (its epoch's record),
  // for the "caught up" rule of unfencing; -1 when unknown.
  int64_t registration_offset(int32_t broker_id) const;

 private:
  void on_snapshot(const raft::Snapshot& snapshot);
  void on_committed(const std::vector<raft::Entry>& entries);
  void on_state_change();

  Env& env_;
  raft::RaftNode raft_;
  ControllerImage image_;
  int64_t applied_ = 0;
  struct Subscriber {
    OnApplied on_applied;
    OnStateChange on_state_change;
  };
  std::map<int, Subscriber> subscribers_;
  int next_subscriber_ = 1;
};

}  // namespace gregor::metadata
