// The lines of a history (docs/history-format.md) that the checker reads, as typed events, and
// their parser. A history is JSONL; the checker keeps the kinds below and skips every other line
// after a scan of its raw text, so a full simulation trace (mostly other kinds) reads fast.
//
// Contract of the parser: a line of a known kind either parses into an Event whose required
// fields are all present with the right JSON types, or gives an invalid_argument Status naming
// the problem ("bad JSON: ...", "op.invoke: missing field \"value\"", "replica.state: field
// \"epoch\": expected an integer"). The message carries no line number: the caller adds it.
// Nothing here throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace gregor::check {

// The kinds of line the checker reads. node_start is either `proc.start` (simulator) or
// `broker.started` (a real broker): both begin a new incarnation of the node that wrote them.
enum class LineKind : uint8_t {
  run_start,
  op_invoke,
  op_ok,
  op_fail,
  op_unknown,
  replica_state,
  replica_log,
  node_start,
};

// The kind of `line` when the checker reads lines of that kind, found by scanning the raw text
// for the first `"k":"..."` pair (whitespace allowed around the colon) without parsing JSON.
// nullopt for every other kind, and for lines without a string `k` (blank lines, other JSON).
// The first `"k"` key of the line must be the top-level one: trace lines put it third.
std::optional<LineKind> known_kind(std::string_view line);

enum class Mode : uint8_t { safety, liveness };
std::string_view mode_name(Mode mode);

// run.start: the run's mode (`safety` when the field is absent).
struct RunStart {
  Mode mode = Mode::safety;
};

enum class OpPhase : uint8_t { invoke, ok, fail, unknown };
// The functions the checker understands; any other `f` is `other` (counted, otherwise ignored).
enum class OpFn : uint8_t { send, poll, seek, commit, final_read, other };
std::string_view fn_name(OpFn f);

// One record as a read returns it: `[topic, partition, offset, value]`.
struct ReadRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string value;
};

// `[topic, partition, offset]`: a seek position or a committed offset.
struct PartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// op.invoke / op.ok / op.fail / op.unknown. Which fields are set depends on the phase and the
// function; the parser checks what it can see on the line itself:
//  - invoke: `op` and `f` always; send: `topic`, `value` (`key` may be null or absent, `ordered`
//    absent means false); commit: `group`; final_read: `topic`, `partition`.
//  - ok/fail/unknown: `op`; `f` is optional on closing lines. When an ok line names its `f`, its
//    fields are checked here; otherwise the checker calls check_ok_fields with the invoke's `f`.
//  - fail/unknown: `error` text when present (optional).
struct OpLine {
  OpPhase phase = OpPhase::invoke;
  uint64_t op = 0;
  std::optional<OpFn> f;
  std::optional<std::string> topic;
  std::optional<std::string> key;
  std::optional<std::string> value;
  bool ordered = false;
  // send invoke: false when the producer may write a value twice (retries without idempotence);
  // absent means true.
  bool idempotent = true;
  std::optional<std::string> group;
  std::optional<int32_t> partition;
  std::optional<int64_t> offset;                   // send ok
  std::optional<int64_t> from, to;                 // final_read ok: the read covered [from, to)
  std::optional<std::vector<ReadRecord>> records;  // poll ok, final_read ok
  std::optional<std::vector<PartitionOffset>> positions;  // seek ok
  std::optional<std::vector<PartitionOffset>> offsets;    // commit ok
  std::string error;
};

// The fields an op.invoke must carry for its function (see OpLine). Ok, or the first missing.
Status check_invoke_fields(const OpLine& invoke);

// The fields an op.ok of function `f` must carry (send: partition, offset; poll: records; seek:
// positions; commit: offsets; final_read: from, to, records). Ok, or the first one missing.
Status check_ok_fields(const OpLine& ok, OpFn f);

enum class Role : uint8_t { leader, follower };

// replica.state: a broker's view of one replica it hosts, written whenever it changes.
struct ReplicaState {
  std::string topic;
  int32_t partition = 0;
  Role role = Role::follower;
  int64_t epoch = 0;
  int64_t leo = 0;
  int64_t hw = 0;
  int64_t log_start = 0;
};

// One batch of a replica.log summary: `[base_offset, last_offset, crc]`.
struct BatchSummary {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  uint64_t crc = 0;
  bool operator==(const BatchSummary&) const = default;
};

// replica.log: a replica's log at the end of a run.
struct ReplicaLog {
  std::string topic;
  int32_t partition = 0;
  int64_t leo = 0;
  int64_t hw = 0;
  int64_t log_start = 0;
  std::vector<BatchSummary> batches;
};

struct NodeStart {};

struct Event {
  LineKind kind = LineKind::run_start;
  int64_t t = 0;     // `t`
  std::string node;  // `n`: the process or broker that wrote the line
  std::variant<RunStart, OpLine, ReplicaState, ReplicaLog, NodeStart> body;
};

// Parses a line already classified as `kind` by known_kind.
Result<Event> parse_event(std::string_view line, LineKind kind);

// known_kind, then parse_event: nullopt for a line the checker skips.
Result<std::optional<Event>> parse_line(std::string_view line);

}  // namespace gregor::check
