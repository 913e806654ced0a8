// The demo service: a replicated counter that exercises every part of the Env seam. It runs
// unchanged on real TCP and POSIX files (tests/demo_real_test.cc) and in the simulator under every
// fault family (sim/demo/counter_sim.h). It is not part of Gregor's broker: it exists to prove
// the foundation, and as a small worked example of the seam.
//
// Protocol (a grow-only counter with one slot per node):
// - A client's increment goes to any node. The node appends (slot=self, count=c+1) to its log,
//   fsyncs, replicates it to its peers, and acknowledges once one peer has persisted it too. An
//   acknowledged increment is therefore durable on two of three nodes.
// - Nodes gossip their slot vectors, so every node converges to the same vector after healing.
// - Recovery: a node replays its log. Each record carries a CRC over (slot, count, index), so
//   torn writes, bit flips and misdirected writes are all detected. If the log is intact and
//   non-empty the node is ready at once. If it is empty (new or wiped) or damaged, it waits until
//   *every* peer has told it their view before it serves: what it lost is on some peer. Until
//   then it writes nothing, so its log is either its own complete history or empty; the union
//   from the peers lands in one atomic rewrite.
// - In-memory counts only ever hold fsynced values, so a failed fsync (EIO that drops dirty
//   pages) needs no rollback; the client is told the outcome is indefinite.
// Fault model: any node may crash, lose unsynced writes, be partitioned, paused or see EIO or a
// full disk; at most one node's disk silently corrupts data (bit flips, misdirected writes, latent
// read errors, wipes). Under that model no acknowledged increment is ever lost.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "base/env.h"
#include "disk/disk.h"
#include "net/frame_reader.h"
#include "net/network.h"

namespace gregor::demo {

struct CounterConfig {
  uint32_t self = 0;                // index of this node in `nodes`
  std::vector<net::Address> nodes;  // every node, this one included; it listens on nodes[self]
  Duration tick_interval = milliseconds(100);
  int gossip_every_ticks = 5;
  // A connection silent this long is presumed dead and closed. TCP alone never notices a peer
  // that lost power (no RST comes back), so every node answers gossip to prove it is alive.
  Duration peer_silence_max = seconds(3);
  size_t pending_increments_max = 64;  // client increments queued per node
  size_t log_records_max = 512;        // compaction threshold
  uint32_t frame_bytes_max = 64 * 1024;
  // A planted bug for testing the checker: acknowledge an increment once it is written, before
  // fsync and before any peer has it. A crash that loses unsynced data then loses acked writes.
  bool bug_ack_before_fsync = false;
};

// Wire message types (1 byte after the frame size).
enum class CounterMsg : uint8_t {
  incr = 1,            // client -> node: u64 request id
  incr_result = 2,     // node -> client: u64 id, u8 outcome, u32 slot, u64 count
  read = 3,            // client -> node: u64 id
  read_result = 4,     // node -> client: u64 id, u8 outcome, u64 total
  hello = 10,          // peer -> peer, first frame: u32 sender index
  replicate = 11,      // u32 slot, u64 count
  ack = 12,            // u32 slot, u64 count
  gossip = 13,         // u32 n, n x u64; answered with a gossip on the same connection
  recover = 14,        // (empty)
  recover_reply = 15,  // u32 n, n x u64
};

enum class CounterOutcome : uint8_t {
  ok = 0,
  failed = 1,      // definitely not applied
  indefinite = 2,  // may or may not have been applied
  not_ready = 3,   // node still recovering; definitely not applied
};

class CounterNode {
 public:
  CounterNode(Env& env, CounterConfig config);
  ~CounterNode();
  CounterNode(const CounterNode&) = delete;
  CounterNode& operator=(const CounterNode&) = delete;

  bool ready() const { return ready_; }
  const std::vector<uint64_t>& counts() const { return counts_; }
  uint64_t total() const;
  // Non-ok if the node could not start (for example its listen address is taken).
  const Status& start_status() const { return start_status_; }

 private:
  struct Inbound;
  struct Peer;
  struct PendingIncrement {
    uint64_t request_id;
    std::weak_ptr<net::Connection> reply_to;
  };
  struct PersistJob {
    std::vector<std::pair<uint32_t, uint64_t>> records;  // (slot, count)
    std::function<void(const Status&)> done;
  };

  // start-up and recovery (counter_recovery.cc)
  void start();
  void open_log();
  void read_log();
  void replay(Bytes data);
  void finish_recovery_from_peers();
  struct CompactJob;
  void compact(std::function<void(const Status&)> done);
  void compact_write(std::shared_ptr<CompactJob> job);
  void compact_rename(std::shared_ptr<CompactJob> job);
  void compact_finish(std::shared_ptr<CompactJob> job, const Status& status);
  // persistence
  void persist(std::vector<std::pair<uint32_t, uint64_t>> records,
               std::function<void(const Status&)> done);
  void run_next_persist();
  Bytes encode_records(const std::vector<std::pair<uint32_t, uint64_t>>& records,
                       uint64_t first_index) const;
  // networking
  void on_accept(net::ConnectionPtr conn);
  void on_frame(Inbound& in, ByteView frame);
  void on_peer_frame(Peer& peer, ByteView frame);
  void send(const net::ConnectionPtr& conn, Bytes payload);
  void send_to_peers(const Bytes& payload);
  void connect_peer(Peer& peer);
  void tick();
  void close_silent_connections();
  // increments
  void on_client_incr(Inbound& in, uint64_t request_id);
  void start_next_increment();
  void on_ack(uint32_t slot, uint64_t count);
  void finish_increment(CounterOutcome outcome);
  void adopt(const std::vector<uint64_t>& counts, std::function<void()> then);
  Bytes counts_payload(CounterMsg type) const;

  Env& env_;
  CounterConfig config_;
  Status start_status_;
  std::unique_ptr<net::Listener> listener_;
  disk::FilePtr log_;
  uint64_t log_records_ = 0;
  bool ready_ = false;
  bool log_busy_ = false;
  std::vector<uint64_t> counts_;
  std::set<uint32_t> recover_replies_;  // peers heard from while recovering
  std::vector<uint64_t> recover_view_;
  std::deque<PersistJob> persist_queue_;
  std::deque<PendingIncrement> increments_;
  bool increment_in_flight_ = false;
  uint64_t increment_count_ = 0;  // count being replicated by the head increment
  std::map<uint64_t, std::unique_ptr<Inbound>> inbound_;
  uint64_t next_inbound_id_ = 1;
  std::vector<std::unique_ptr<Peer>> peers_;  // index = node index; self is null
  TimerId tick_timer_ = kNoTimer;
  uint64_t ticks_ = 0;
  // Set in the destructor: callbacks that outlive us (disk completions) check this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::demo
