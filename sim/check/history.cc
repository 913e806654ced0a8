// The history line parser. Why it is shaped this way:
// - Most lines of a simulation trace are of kinds the checker does not read (network, disk,
//   scheduler events), so known_kind looks at the raw text first and the JSON parser only runs
//   on the few kinds that matter.
// - Parsing is nearly all of the checker's time, so lines go through JsonDoc (json_scan.h: flat
//   nodes, views into the line, no allocation per value) rather than an nlohmann::json DOM, and
//   one JsonDoc per thread is reused from line to line.
// - Field access goes through FieldReader, which checks presence and type and keeps the first
//   error, so the parse functions read as lists of fields.
#include "sim/check/history.h"

#include <fmt/format.h>

#include <limits>

#include "sim/check/json_scan.h"

namespace gregor::check {
namespace {

using Type = JsonNode::Type;
constexpr uint32_t kAbsent = JsonDoc::kNotFound;

constexpr std::pair<std::string_view, LineKind> kKnownKinds[] = {
    {"run.start", LineKind::run_start},
    {"op.invoke", LineKind::op_invoke},
    {"op.ok", LineKind::op_ok},
    {"op.fail", LineKind::op_fail},
    {"op.unknown", LineKind::op_unknown},
    {"replica.state", LineKind::replica_state},
    {"replica.log", LineKind::replica_log},
    {"proc.start", LineKind::node_start},
    {"broker.started", LineKind::node_start},
};

std::string_view kind_text(LineKind kind) {
  for (auto& [name, k] : kKnownKinds)
    if (k == kind) return name;
  return "?";
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_partition(int64_t p) {
  return p >= 0 && p <= std::numeric_limits<int32_t>::max();
}

// Reads typed fields of the line's top-level object; the first problem becomes status() and
// every later call returns a default value.
class FieldReader {
 public:
  FieldReader(const JsonDoc& doc, std::string_view kind) : doc_(doc), kind_(kind) {}

  const Status& status() const { return status_; }
  const JsonDoc& doc() const { return doc_; }
  void fail(const std::string& what) {
    if (status_.ok()) status_ = error(Errc::invalid_argument, fmt::format("{}: {}", kind_, what));
  }

  // The field's node, or kAbsent when absent or null.
  uint32_t find(const char* key) const {
    uint32_t i = doc_.find(JsonDoc::kRoot, key);
    return i == kAbsent || doc_.node(i).type == Type::null ? kAbsent : i;
  }
  uint32_t need(const char* key) {
    uint32_t i = find(key);
    if (i == kAbsent) fail(fmt::format("missing field \"{}\"", key));
    return i;
  }

  std::optional<std::string> opt_str(const char* key) {
    uint32_t i = find(key);
    if (i == kAbsent) return std::nullopt;
    if (doc_.node(i).type != Type::string) {
      fail(fmt::format("field \"{}\": expected a string", key));
      return std::string();
    }
    return std::string(doc_.node(i).string);
  }
  std::string str(const char* key) {
    return need(key) != kAbsent ? opt_str(key).value_or(std::string()) : std::string();
  }

  std::optional<int64_t> opt_i64(const char* key) {
    uint32_t i = find(key);
    if (i == kAbsent) return std::nullopt;
    if (doc_.node(i).type != Type::integer)
      fail(fmt::format("field \"{}\": expected an integer", key));
    return doc_.node(i).integer;
  }
  int64_t i64(const char* key) { return need(key) != kAbsent ? opt_i64(key).value_or(0) : 0; }

  int32_t partition(const char* key) {
    int64_t p = i64(key);
    if (!is_partition(p)) fail(fmt::format("field \"{}\": expected a partition number", key));
    return static_cast<int32_t>(p);
  }

  bool opt_bool(const char* key) {
    uint32_t i = find(key);
    if (i == kAbsent) return false;
    if (doc_.node(i).type != Type::boolean) {
      fail(fmt::format("field \"{}\": expected true or false", key));
      return false;
    }
    return doc_.node(i).boolean;
  }

  // A field that must be an array (or absent); kAbsent when absent or wrong.
  uint32_t opt_array(const char* key) {
    uint32_t i = find(key);
    if (i != kAbsent && doc_.node(i).type != Type::array) {
      fail(fmt::format("field \"{}\": expected an array", key));
      return kAbsent;
    }
    return i;
  }

  // The children of array node `i` when it has exactly n of them.
  bool tuple(uint32_t i, uint32_t n, uint32_t* out) const {
    const JsonNode& a = doc_.node(i);
    if (a.type != Type::array || a.size != n) return false;
    uint32_t c = i + 1;
    for (uint32_t k = 0; k < n; ++k, c = doc_.node(c).next) out[k] = c;
    return true;
  }
  bool is(uint32_t i, Type type) const { return doc_.node(i).type == type; }
  int64_t integer(uint32_t i) const { return doc_.node(i).integer; }
  std::string_view text(uint32_t i) const { return doc_.node(i).string; }

 private:
  const JsonDoc& doc_;
  std::string_view kind_;
  Status status_;
};

std::optional<OpFn> fn_from_text(std::string_view f) {
  if (f == "send") return OpFn::send;
  if (f == "poll") return OpFn::poll;
  if (f == "seek") return OpFn::seek;
  if (f == "commit") return OpFn::commit;
  if (f == "final_read") return OpFn::final_read;
  return OpFn::other;
}

// `records`: an array of [topic, partition, offset, value].
std::optional<std::vector<ReadRecord>> read_records(FieldReader& r) {
  uint32_t a = r.opt_array("records");
  if (a == kAbsent) return std::nullopt;
  std::vector<ReadRecord> out;
  out.reserve(r.doc().node(a).size);
  uint32_t e = a + 1;
  for (uint32_t i = 0; i < r.doc().node(a).size; ++i, e = r.doc().node(e).next) {
    uint32_t c[4];
    if (!r.tuple(e, 4, c) || !r.is(c[0], Type::string) || !r.is(c[1], Type::integer) ||
        !r.is(c[2], Type::integer) || !r.is(c[3], Type::string) || !is_partition(r.integer(c[1]))) {
      r.fail(fmt::format("field \"records\"[{}]: expected [topic, partition, offset, value]", i));
      return std::nullopt;
    }
    out.push_back({std::string(r.text(c[0])), static_cast<int32_t>(r.integer(c[1])),
                   r.integer(c[2]), std::string(r.text(c[3]))});
  }
  return out;
}

// `positions` / `offsets`: an array of [topic, partition, offset].
std::optional<std::vector<PartitionOffset>> read_offsets(FieldReader& r, const char* key) {
  uint32_t a = r.opt_array(key);
  if (a == kAbsent) return std::nullopt;
  std::vector<PartitionOffset> out;
  out.reserve(r.doc().node(a).size);
  uint32_t e = a + 1;
  for (uint32_t i = 0; i < r.doc().node(a).size; ++i, e = r.doc().node(e).next) {
    uint32_t c[3];
    if (!r.tuple(e, 3, c) || !r.is(c[0], Type::string) || !r.is(c[1], Type::integer) ||
        !r.is(c[2], Type::integer) || !is_partition(r.integer(c[1]))) {
      r.fail(fmt::format("field \"{}\"[{}]: expected [topic, partition, offset]", key, i));
      return std::nullopt;
    }
    out.push_back(
        {std::string(r.text(c[0])), static_cast<int32_t>(r.integer(c[1])), r.integer(c[2])});
  }
  return out;
}

Result<OpLine> parse_op(FieldReader& r, LineKind kind) {
  OpLine op;
  op.phase = kind == LineKind::op_invoke ? OpPhase::invoke
             : kind == LineKind::op_ok   ? OpPhase::ok
             : kind == LineKind::op_fail ? OpPhase::fail
                                         : OpPhase::unknown;
  int64_t number = r.i64("op");
  if (number < 0) r.fail("field \"op\": expected a non-negative integer");
  op.op = static_cast<uint64_t>(number);
  auto f = op.phase == OpPhase::invoke ? std::optional<std::string>(r.str("f")) : r.opt_str("f");
  if (f) op.f = fn_from_text(*f);
  op.topic = r.opt_str("topic");
  op.key = r.opt_str("key");
  op.value = r.opt_str("value");
  op.ordered = r.opt_bool("ordered");
  op.idempotent = r.find("idempotent") == kAbsent || r.opt_bool("idempotent");
  op.group = r.opt_str("group");
  if (r.find("partition") != kAbsent) op.partition = r.partition("partition");
  op.offset = r.opt_i64("offset");
  op.from = r.opt_i64("from");
  op.to = r.opt_i64("to");
  op.records = read_records(r);
  op.positions = read_offsets(r, "positions");
  op.offsets = read_offsets(r, "offsets");
  op.error = r.opt_str("error").value_or("");
  if (!r.status().ok()) return r.status();
  if (op.phase == OpPhase::invoke) GREGOR_RETURN_IF_ERROR(check_invoke_fields(op));
  if (op.phase == OpPhase::ok && op.f) GREGOR_RETURN_IF_ERROR(check_ok_fields(op, *op.f));
  return op;
}

Result<ReplicaState> parse_replica_state(FieldReader& r) {
  ReplicaState s;
  s.topic = r.str("topic");
  s.partition = r.partition("partition");
  std::string role = r.str("role");
  if (r.status().ok() && role != "leader" && role != "follower")
    r.fail(fmt::format("field \"role\": expected leader or follower, got \"{}\"", role));
  s.role = role == "leader" ? Role::leader : Role::follower;
  s.epoch = r.i64("epoch");
  s.leo = r.i64("leo");
  s.hw = r.i64("hw");
  s.log_start = r.i64("log_start");
  if (!r.status().ok()) return r.status();
  return s;
}

Result<ReplicaLog> parse_replica_log(FieldReader& r) {
  ReplicaLog l;
  l.topic = r.str("topic");
  l.partition = r.partition("partition");
  l.leo = r.i64("leo");
  l.hw = r.i64("hw");
  l.log_start = r.i64("log_start");
  uint32_t batches = r.need("batches") != kAbsent ? r.opt_array("batches") : kAbsent;
  uint32_t e = batches + 1;
  for (uint32_t i = 0; batches != kAbsent && i < r.doc().node(batches).size && r.status().ok();
       ++i, e = r.doc().node(e).next) {
    uint32_t c[3];
    if (!r.tuple(e, 3, c) || !r.is(c[0], Type::integer) || !r.is(c[1], Type::integer) ||
        !r.is(c[2], Type::integer) || r.integer(c[2]) < 0)
      r.fail(fmt::format("field \"batches\"[{}]: expected [base_offset, last_offset, crc]", i));
    else
      l.batches.push_back(
          {r.integer(c[0]), r.integer(c[1]), static_cast<uint64_t>(r.integer(c[2]))});
  }
  if (!r.status().ok()) return r.status();
  return l;
}

}  // namespace

std::optional<LineKind> known_kind(std::string_view line) {
  size_t at = 0;
  while ((at = line.find("\"k\"", at)) != std::string_view::npos) {
    size_t i = at + 3;
    at = i;
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size() || line[i] != ':') continue;
    ++i;
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size() || line[i] != '"') return std::nullopt;
    size_t end = line.find('"', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view kind = line.substr(i + 1, end - i - 1);
    for (auto& [name, k] : kKnownKinds)
      if (name == kind) return k;
    return std::nullopt;
  }
  return std::nullopt;
}

std::string_view mode_name(Mode mode) {
  return mode == Mode::liveness ? "liveness" : "safety";
}

std::string_view fn_name(OpFn f) {
  switch (f) {
    case OpFn::send:
      return "send";
    case OpFn::poll:
      return "poll";
    case OpFn::seek:
      return "seek";
    case OpFn::commit:
      return "commit";
    case OpFn::final_read:
      return "final_read";
    case OpFn::other:
      return "other";
  }
  return "?";
}

Status check_invoke_fields(const OpLine& op) {
  auto missing = [](const char* field) {
    return errorf(Errc::invalid_argument, "op.invoke: missing field \"{}\"", field);
  };
  if (!op.f) return missing("f");
  switch (*op.f) {
    case OpFn::send:
      if (!op.topic) return missing("topic");
      if (!op.value) return missing("value");
      return Status::Ok();
    case OpFn::commit:
      return op.group ? Status::Ok() : missing("group");
    case OpFn::final_read:
      if (!op.topic) return missing("topic");
      return op.partition ? Status::Ok() : missing("partition");
    default:
      return Status::Ok();
  }
}

Status check_ok_fields(const OpLine& ok, OpFn f) {
  auto missing = [f](const char* field) {
    return errorf(Errc::invalid_argument, "op.ok of {}: missing field \"{}\"", fn_name(f), field);
  };
  switch (f) {
    case OpFn::send:
      if (!ok.partition) return missing("partition");
      return ok.offset ? Status::Ok() : missing("offset");
    case OpFn::poll:
      return ok.records ? Status::Ok() : missing("records");
    case OpFn::seek:
      return ok.positions ? Status::Ok() : missing("positions");
    case OpFn::commit:
      return ok.offsets ? Status::Ok() : missing("offsets");
    case OpFn::final_read:
      if (!ok.from) return missing("from");
      if (!ok.to) return missing("to");
      return ok.records ? Status::Ok() : missing("records");
    case OpFn::other:
      return Status::Ok();
  }
  return Status::Ok();
}

Result<Event> parse_event(std::string_view line, LineKind kind) {
  thread_local JsonDoc doc;  // reused: its vectors keep their capacity from line to line
  GREGOR_RETURN_IF_ERROR(doc.parse(line));
  if (doc.node(JsonDoc::kRoot).type != Type::object)
    return error(Errc::invalid_argument, "bad JSON: not an object");
  FieldReader r(doc, kind_text(kind));
  Event event;
  event.kind = kind;
  event.t = r.i64("t");
  event.node = r.str("n");
  if (!r.status().ok()) return r.status();
  switch (kind) {
    case LineKind::run_start: {
      std::string mode = r.opt_str("mode").value_or("safety");
      if (mode != "safety" && mode != "liveness")
        r.fail(fmt::format("field \"mode\": expected safety or liveness, got \"{}\"", mode));
      if (!r.status().ok()) return r.status();
      event.body = RunStart{mode == "liveness" ? Mode::liveness : Mode::safety};
      return event;
    }
    case LineKind::op_invoke:
    case LineKind::op_ok:
    case LineKind::op_fail:
    case LineKind::op_unknown: {
      auto op = parse_op(r, kind);
      if (!op.ok()) return op.status();
      event.body = std::move(op).value();
      return event;
    }
    case LineKind::replica_state: {
      auto s = parse_replica_state(r);
      if (!s.ok()) return s.status();
      event.body = std::move(s).value();
      return event;
    }
    case LineKind::replica_log: {
      auto l = parse_replica_log(r);
      if (!l.ok()) return l.status();
      event.body = std::move(l).value();
      return event;
    }
    case LineKind::node_start:
      event.body = NodeStart{};
      return event;
  }
  return error(Errc::invalid_argument, "unknown line kind");
}

Result<std::optional<Event>> parse_line(std::string_view line) {
  auto kind = known_kind(line);
  if (!kind) return std::optional<Event>();
  auto event = parse_event(line, *kind);
  if (!event.ok()) return event.status();
  return std::optional<Event>(std::move(event).value());
}

}  // namespace gregor::check
