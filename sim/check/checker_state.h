// Internal to sim/check: the Checker's state, shared by checker.cc (dispatch, operations,
// results), client_checks.cc (records, reads, sends, commits) and replica_checks.cc. Not an API.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/check/checker.h"

namespace gregor::check::internal {

using Id = uint32_t;  // an interned topic, process, partition or record
inline constexpr Id kNoId = UINT32_MAX;
// Dense offset slots may exceed twice the records they hold by this much (see OffsetIndex).
inline constexpr size_t kDenseSlack = 1024;
// Offsets listed in one poll-skip's evidence (its count is exact).
inline constexpr size_t kEvidenceOffsetsMax = 8;

enum class Kind : uint8_t {
  lost_write,
  duplicate,
  inconsistent_offsets,
  poll_skip,
  nonmonotonic_poll,
  nonmonotonic_send,
  committed_offset_regress,
  leader_conflict,
  epoch_regress,
  hw_regress,
  replica_divergence,
  replicas_differ_after_heal,
};

enum class Via : uint8_t { send, poll, final_read, seek, commit };

// Who saw something and when: every violation's evidence is built from these.
struct Source {
  int64_t t = 0;
  uint64_t op = 0;
  Id proc = kNoId;
  Via via = Via::send;
};

// A distinct value. `part`/`offset`: where it was first seen (kNoId: only invoked so far).
struct Record {
  std::string_view value;  // the key of State::record_ids
  Id part = kNoId;
  int64_t offset = 0;
  bool may_repeat = false;  // sent by a non-idempotent producer: a second copy is no violation
};

// The record first known at one offset of a partition, and who saw it there.
struct Slot {
  Id record = kNoId;
  Source source;
};

// Slots by offset: a vector from the first offset seen on (a partition's offsets are nearly
// contiguous), a hash map for offsets far outside it. The vector never grows past twice the
// slots it holds plus kDenseSlack, so a wild offset cannot make memory jump.
class OffsetIndex {
 public:
  Slot* find(int64_t offset);
  void insert(int64_t offset, const Slot& slot);  // offset must not be present
  std::vector<int64_t> sorted_offsets() const;

 private:
  bool has_base_ = false;
  int64_t base_ = 0;
  size_t count_ = 0;
  std::vector<Slot> dense_;  // dense_[offset - base_]
  std::unordered_map<int64_t, Slot> sparse_;
};

struct Ack {
  Id record = kNoId;
  Id part = kNoId;
  int64_t offset = 0;
  Source source;          // the op.ok
  uint64_t ack_line = 0;  // line number of the op.ok
  uint64_t invoke_seq = 0;
  int64_t invoke_t = 0;
  uint32_t incarnation = 0;  // the producer's, at invoke
  bool ordered = false;
  bool lost = false;
};

// A consumer read offset `after` (or was sought to after + 1) then `before`, no seek between:
// offsets in (after, before) were skipped.
struct Gap {
  int64_t after = 0;
  int64_t before = 0;
  Source from, to;
  bool from_seek = false;
};

struct FinalRead {
  Source source;
  uint64_t invoke_line = 0;
  int64_t from = 0, to = 0;
  std::vector<std::pair<int64_t, Id>> records;  // (offset, record) of this partition, sorted
};

struct ReplicaSummary {
  Id node = kNoId;
  int64_t t = 0;
  ReplicaLog log;
};

struct Partition {
  Id topic = kNoId;
  int32_t index = 0;
  OffsetIndex slots;
  std::vector<Gap> gaps;
  std::vector<FinalRead> finals;
  std::vector<ReplicaSummary> logs;  // the last replica.log of each node
};

struct OpenOp {
  OpFn f = OpFn::other;
  Source invoke;
  uint64_t invoke_line = 0;
  uint64_t seq = 0;  // order of invocation in the history
  uint32_t incarnation = 0;
  Id topic = kNoId;
  int32_t partition = 0;
  bool ordered = false;
  std::string value;
  std::string group;
};

// A consumer's place in one partition: the last offset read, or (at_seek) its seek position.
struct Chain {
  int64_t offset = 0;
  bool at_seek = false;
  Source source;
};

struct Process {
  std::string name;
  uint32_t incarnation = 0;
  std::unordered_map<uint64_t, OpenOp> open;  // by op number
  std::unordered_map<Id, Chain> chains;       // by partition
};

// The acknowledged commits of one (group, partition) that raised the highest offset, in the
// order of their ok lines: both `ok_line` and `offset` strictly increase along the vector, so the
// highest commit acknowledged before a given line is found by binary search.
struct CommitMark {
  uint64_t ok_line = 0;
  int64_t offset = 0;
  Source source;
};

struct LeaderMark {  // the first node seen as leader of one (partition, epoch)
  Id node = kNoId;
  int64_t t = 0;
};

struct Mark {  // the last replica.state of one replica
  int64_t epoch = 0, epoch_t = 0;
  int64_t hw = 0, hw_t = 0;
  uint32_t incarnation = 0;
};

using Json = nlohmann::ordered_json;

}  // namespace gregor::check::internal

namespace gregor::check {

struct Checker::State {
  using Id = internal::Id;

  CheckOptions options;
  Mode mode = Mode::safety;
  CheckStats stats;
  uint64_t line = 0;
  uint64_t invoke_seq = 0;

  std::array<std::vector<Violation>, kViolationKinds.size()> listed;
  std::array<uint64_t, kViolationKinds.size()> counts{};

  std::unordered_map<std::string, Id> topic_ids;
  std::vector<std::string> topics;
  std::unordered_map<std::string, Id> proc_ids;
  std::vector<internal::Process> procs;
  std::unordered_map<uint64_t, Id> part_ids;
  std::vector<internal::Partition> parts;
  std::unordered_map<std::string, Id> record_ids;
  std::vector<internal::Record> records;

  std::unordered_map<Id, std::vector<std::pair<Id, int64_t>>> extra_positions;  // duplicates
  std::set<std::tuple<Id, int64_t, Id>> inconsistent_reported;  // (part, offset, record)
  std::vector<internal::Ack> acks;
  std::map<std::pair<std::string, Id>, std::vector<internal::CommitMark>> commits;  // (group, part)
  std::unordered_map<uint64_t, internal::Mark> replicas;           // by (node << 32 | part)
  std::map<std::pair<Id, int64_t>, internal::LeaderMark> leaders;  // by (part, epoch)
  std::set<std::tuple<Id, int64_t, Id>> leader_conflicts;          // (part, epoch, node) reported

  Id topic_id(const std::string& topic);
  Id proc_id(const std::string& name);
  Id part_id(Id topic, int32_t partition);
  Id part_id(const std::string& topic, int32_t partition) {
    return part_id(topic_id(topic), partition);
  }
  Id record_id(const std::string& value);

  // "t/0"
  std::string part_name(Id part) const;
  // {"by","op","t","via"}
  internal::Json source_json(const internal::Source& source) const;
  // "poll op 9 by consumer-1 at t=456"
  std::string source_text(const internal::Source& source) const;

  // Counts a violation; builds it (make() returns {text, evidence}) only when the list of its
  // kind still has room.
  template <typename Make>
  void report(internal::Kind kind, Make&& make) {
    auto k = static_cast<size_t>(kind);
    ++counts[k];
    if (listed[k].size() >= options.violations_per_kind_max) return;
    std::pair<std::string, internal::Json> v = make();
    listed[k].push_back(
        Violation{std::string(kViolationKinds[k]), std::move(v.first),
                  v.second.dump(-1, ' ', false, internal::Json::error_handler_t::replace)});
  }
};

}  // namespace gregor::check

namespace gregor::check::internal {

using State = Checker::State;

// client_checks.cc
void on_op_ok(State& s, Id proc, const OpenOp& op, const OpLine& ok, const Source& source);
Json position_json(const State& s, Id part, int64_t offset, const Source& source);

// client_finish.cc
void finish_client_checks(State& s);

// replica_checks.cc
void on_replica_state(State& s, Id node, const ReplicaState& state, int64_t t);
void on_replica_log(State& s, Id node, ReplicaLog&& log, int64_t t);
void finish_replica_checks(State& s);

}  // namespace gregor::check::internal
