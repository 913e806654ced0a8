// The Checker's front: line intake, the operation lifecycle (invoke, close, incarnations), the
// interning of names, and the result's text and JSON forms. The checks themselves are in
// client_checks.cc and replica_checks.cc.
//
// Why operations are keyed per process and closed on a node start: op numbers are unique within
// a process, and a restarted process may number from 1 again; whatever it had in flight when it
// went down has an unknown outcome, exactly like an operation never closed.
#include "sim/check/checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>

#include "sim/check/checker_state.h"

namespace gregor::check {
namespace {

using internal::Id;
using internal::Json;
using internal::OpenOp;
using internal::Source;
using internal::Via;
using State = Checker::State;

std::string_view via_name(Via via) {
  switch (via) {
    case Via::send:
      return "send";
    case Via::poll:
      return "poll";
    case Via::final_read:
      return "final_read";
    case Via::seek:
      return "seek";
    case Via::commit:
      return "commit";
  }
  return "?";
}

Via via_of(OpFn f) {
  switch (f) {
    case OpFn::poll:
      return Via::poll;
    case OpFn::final_read:
      return Via::final_read;
    case OpFn::seek:
      return Via::seek;
    case OpFn::commit:
      return Via::commit;
    default:
      return Via::send;
  }
}

// A node (client process or broker) started again: what it had in flight is unknown, and a
// consumer's positions are gone with it.
void on_node_start(State& s, Id node) {
  internal::Process& p = s.procs[node];
  ++p.incarnation;
  s.stats.ops_unknown += p.open.size();
  p.open.clear();
  p.chains.clear();
}

void on_invoke(State& s, Id proc, int64_t t, OpLine& line) {
  ++s.stats.ops_invoked;
  internal::Process& p = s.procs[proc];
  auto [it, fresh] = p.open.try_emplace(line.op);
  if (!fresh) ++s.stats.ops_unknown;  // the op number came again: the first never closed
  OpenOp& op = it->second;
  op = OpenOp{};
  op.f = line.f.value_or(OpFn::other);
  op.invoke = Source{t, line.op, proc, via_of(op.f)};
  op.invoke_line = s.line;
  op.seq = s.invoke_seq++;
  op.incarnation = p.incarnation;
  if (line.topic) op.topic = s.topic_id(*line.topic);
  op.partition = line.partition.value_or(0);
  op.ordered = line.ordered;
  if (op.f == OpFn::send && !line.idempotent && line.value)
    s.records[s.record_id(*line.value)].may_repeat = true;
  op.value = std::move(line.value).value_or("");
  op.group = std::move(line.group).value_or("");
}

Status on_op(State& s, Id proc, int64_t t, OpLine& line) {
  if (line.phase == OpPhase::invoke) {
    GREGOR_RETURN_IF_ERROR(check_invoke_fields(line));  // parse_event did; add() may not have
    on_invoke(s, proc, t, line);
    return Status::Ok();
  }
  internal::Process& p = s.procs[proc];
  auto it = p.open.find(line.op);
  if (it == p.open.end()) {
    ++s.stats.ops_unmatched;
    return Status::Ok();
  }
  const OpenOp& op = it->second;
  switch (line.phase) {
    case OpPhase::ok: {
      Status fields = check_ok_fields(line, op.f);
      if (!fields.ok()) return fields;
      ++s.stats.ops_ok;
      internal::on_op_ok(s, proc, op, line, Source{t, line.op, proc, via_of(op.f)});
      break;
    }
    case OpPhase::fail:
      ++s.stats.ops_fail;
      break;
    default:
      ++s.stats.ops_unknown;
      // A poll or seek that may have happened may have moved the consumer anywhere.
      if (op.f == OpFn::poll || op.f == OpFn::seek) p.chains.clear();
      break;
  }
  p.open.erase(it);
  return Status::Ok();
}

Status apply(State& s, Event& event) {
  ++s.stats.lines_checked;
  Id node = s.proc_id(event.node);
  if (auto* run = std::get_if<RunStart>(&event.body)) {
    s.mode = run->mode;
  } else if (auto* op = std::get_if<OpLine>(&event.body)) {
    return on_op(s, node, event.t, *op);
  } else if (auto* state = std::get_if<ReplicaState>(&event.body)) {
    internal::on_replica_state(s, node, *state, event.t);
  } else if (auto* log = std::get_if<ReplicaLog>(&event.body)) {
    internal::on_replica_log(s, node, std::move(*log), event.t);
  } else {
    on_node_start(s, node);
  }
  return Status::Ok();
}

}  // namespace

// ---- State helpers ----

Checker::State::Id Checker::State::topic_id(const std::string& topic) {
  auto [it, fresh] = topic_ids.try_emplace(topic, static_cast<Id>(topics.size()));
  if (fresh) topics.push_back(topic);
  return it->second;
}

Checker::State::Id Checker::State::proc_id(const std::string& name) {
  auto [it, fresh] = proc_ids.try_emplace(name, static_cast<Id>(procs.size()));
  if (fresh) procs.push_back(internal::Process{name});
  return it->second;
}

Checker::State::Id Checker::State::part_id(Id topic, int32_t partition) {
  uint64_t key = (uint64_t{topic} << 32) | static_cast<uint32_t>(partition);
  auto [it, fresh] = part_ids.try_emplace(key, static_cast<Id>(parts.size()));
  if (fresh) {
    parts.emplace_back();
    parts.back().topic = topic;
    parts.back().index = partition;
  }
  return it->second;
}

Checker::State::Id Checker::State::record_id(const std::string& value) {
  auto [it, fresh] = record_ids.try_emplace(value, static_cast<Id>(records.size()));
  if (fresh) records.push_back(internal::Record{it->first});
  return it->second;
}

std::string Checker::State::part_name(Id part) const {
  return fmt::format("{}/{}", topics[parts[part].topic], parts[part].index);
}

Json Checker::State::source_json(const Source& source) const {
  Json j;
  j["by"] = source.proc == internal::kNoId ? "" : procs[source.proc].name;
  j["op"] = source.op;
  j["t"] = source.t;
  j["via"] = via_name(source.via);
  return j;
}

std::string Checker::State::source_text(const Source& source) const {
  return fmt::format("{} op {} by {} at t={}", via_name(source.via), source.op,
                     source.proc == internal::kNoId ? "?" : procs[source.proc].name, source.t);
}

// ---- Checker ----

Checker::Checker(CheckOptions options) : state_(std::make_unique<State>()) {
  state_->options = options;
}

Checker::~Checker() = default;

Status Checker::add_line(std::string_view line) {
  State& s = *state_;
  ++s.line;
  ++s.stats.lines;
  auto kind = known_kind(line);
  if (!kind) return Status::Ok();
  auto event = parse_event(line, *kind);
  if (!event.ok())
    return errorf(Errc::invalid_argument, "line {}: {}", s.line, event.status().message());
  Status status = apply(s, event.value());
  if (!status.ok()) return errorf(Errc::invalid_argument, "line {}: {}", s.line, status.message());
  return Status::Ok();
}

Status Checker::add(const Event& event) {
  State& s = *state_;
  ++s.line;
  ++s.stats.lines;
  Event copy = event;
  Status status = apply(s, copy);
  if (!status.ok()) return errorf(Errc::invalid_argument, "line {}: {}", s.line, status.message());
  return Status::Ok();
}

CheckResult Checker::finish() {
  State& s = *state_;
  for (auto& p : s.procs) {
    s.stats.ops_unknown += p.open.size();
    p.open.clear();
  }
  internal::finish_client_checks(s);
  internal::finish_replica_checks(s);
  s.stats.records_distinct = s.records.size();
  CheckResult result;
  result.mode = s.mode;
  result.stats = s.stats;
  result.counts = s.counts;
  for (auto& list : s.listed)
    for (auto& v : list) result.violations.push_back(std::move(v));
  CheckOptions options = s.options;
  state_ = std::make_unique<State>();  // starts over, same options
  state_->options = options;
  return result;
}

// ---- CheckResult and its forms ----

uint64_t CheckResult::total() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

uint64_t CheckResult::count(std::string_view kind) const {
  for (size_t i = 0; i < kViolationKinds.size(); ++i)
    if (kViolationKinds[i] == kind) return counts[i];
  return 0;
}

Result<CheckResult> check_history(std::istream& in, CheckOptions options) {
  Checker checker(options);
  std::string line;
  while (std::getline(in, line)) GREGOR_RETURN_IF_ERROR(checker.add_line(line));
  if (in.bad()) return error(Errc::io_error, "read error");
  return checker.finish();
}

Result<CheckResult> check_history_file(const std::string& path, CheckOptions options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return errorf(Errc::io_error, "cannot open {}: Is a directory", path);
  std::ifstream file(path);
  if (!file) {
    Errc code = errno == ENOENT ? Errc::not_found : Errc::io_error;
    return errorf(code, "cannot open {}: {}", path, std::strerror(errno));
  }
  auto result = check_history(file, options);
  if (!result.ok()) return errorf(result.code(), "{}: {}", path, result.status().message());
  return result;
}

std::string to_text(const CheckResult& r) {
  const CheckStats& st = r.stats;
  std::string s;
  s += fmt::format("history:    {} lines ({} checked), mode {}\n", st.lines, st.lines_checked,
                   mode_name(r.mode));
  s += fmt::format("operations: {} invoked, {} ok, {} failed, {} unknown\n", st.ops_invoked,
                   st.ops_ok, st.ops_fail, st.ops_unknown);
  s += fmt::format(
      "records:    {} sends acked, {} polled, {} in final reads, {} distinct, {} lost\n",
      st.sends_acked, st.records_polled, st.records_final_read, st.records_distinct,
      st.records_lost);
  if (r.pass()) return s + "verdict:    PASS (no violations)\n";
  std::string kinds;
  for (size_t i = 0; i < kViolationKinds.size(); ++i)
    if (r.counts[i] > 0) kinds += fmt::format(" {}={}", kViolationKinds[i], r.counts[i]);
  s += fmt::format("verdict:    FAIL, {} violation{}:{}\n", r.total(), r.total() == 1 ? "" : "s",
                   kinds);
  std::array<uint64_t, kViolationKinds.size()> listed{};
  for (const Violation& v : r.violations) {
    s += fmt::format("{}: {}\n", v.kind, v.text);
    for (size_t i = 0; i < kViolationKinds.size(); ++i)
      if (kViolationKinds[i] == v.kind) ++listed[i];
  }
  for (size_t i = 0; i < kViolationKinds.size(); ++i)
    if (r.counts[i] > listed[i])
      s += fmt::format("({} more {} not listed)\n", r.counts[i] - listed[i], kViolationKinds[i]);
  return s;
}

std::string to_json(const CheckResult& r) {
  Json j;
  j["verdict"] = r.pass() ? "pass" : "fail";
  j["mode"] = mode_name(r.mode);
  j["violations"] = Json::array();
  for (const Violation& v : r.violations) {
    Json evidence = Json::parse(v.evidence, nullptr, /*allow_exceptions=*/false);
    if (evidence.is_discarded()) evidence = v.evidence;
    j["violations"].push_back(Json{{"kind", v.kind}, {"text", v.text}, {"evidence", evidence}});
  }
  for (size_t i = 0; i < kViolationKinds.size(); ++i) j["counts"][kViolationKinds[i]] = r.counts[i];
  const CheckStats& st = r.stats;
  j["stats"] = Json{{"lines", st.lines},
                    {"lines_checked", st.lines_checked},
                    {"ops_invoked", st.ops_invoked},
                    {"ops_ok", st.ops_ok},
                    {"ops_fail", st.ops_fail},
                    {"ops_unknown", st.ops_unknown},
                    {"ops_unmatched", st.ops_unmatched},
                    {"sends_acked", st.sends_acked},
                    {"records_polled", st.records_polled},
                    {"records_final_read", st.records_final_read},
                    {"records_distinct", st.records_distinct},
                    {"records_lost", st.records_lost}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace gregor::check
