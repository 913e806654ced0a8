// The client-side checks: every record is followed by its value (values are unique per history),
// so an offset that holds two values, a value at two offsets, a read that skips or goes back,
// and an acknowledged send missing from the log are all found from a few maps built as lines
// stream by.
//
// Why some checks wait for finish():
// - lost-write needs every acknowledgement and every final read; an ack whose op.ok comes after
//   a final read was invoked is not held against that read (it may have landed after the read).
// - poll-skip asks whether an offset a consumer jumped over is known to hold a record, and the
//   record may become known later (a final read, a slower consumer). So gaps are kept (only the
//   reads that jumped: b > a + 1) and resolved against the sorted offsets of each partition.
// - nonmonotonic-send compares sends in invoke order, while acks arrive in any order.
#include <fmt/format.h>

#include <algorithm>

#include "sim/check/checker_state.h"

namespace gregor::check::internal {

// offset - base_ without overflow (offsets are any int64 a history line holds), when offset >=
// base_.
static uint64_t offset_distance(int64_t offset, int64_t base) {
  return static_cast<uint64_t>(offset) - static_cast<uint64_t>(base);
}

Slot* OffsetIndex::find(int64_t offset) {
  if (has_base_ && offset >= base_ && offset_distance(offset, base_) < dense_.size()) {
    Slot& slot = dense_[offset_distance(offset, base_)];
    if (slot.record != kNoId) return &slot;
  }
  if (sparse_.empty()) return nullptr;
  auto it = sparse_.find(offset);
  return it == sparse_.end() ? nullptr : &it->second;
}

void OffsetIndex::insert(int64_t offset, const Slot& slot) {
  if (!has_base_) {
    has_base_ = true;
    base_ = offset;
  }
  ++count_;
  // Grow the vector only while it stays within twice the slots held (plus slack).
  if (offset >= base_ && offset_distance(offset, base_) < 2 * count_ + kDenseSlack) {
    size_t at = offset_distance(offset, base_);
    if (at >= dense_.size()) dense_.resize(at + 1);
    dense_[at] = slot;
    return;
  }
  sparse_.emplace(offset, slot);
}

std::vector<int64_t> OffsetIndex::sorted_offsets() const {
  std::vector<int64_t> out;
  out.reserve(count_);
  for (size_t i = 0; i < dense_.size(); ++i)
    if (dense_[i].record != kNoId) out.push_back(base_ + static_cast<int64_t>(i));
  for (auto& [offset, slot] : sparse_) out.push_back(offset);
  if (!sparse_.empty()) std::sort(out.begin(), out.end());
  return out;
}

Json position_json(const State& s, Id part, int64_t offset, const Source& source) {
  Json j = s.source_json(source);
  j["topic"] = s.topics[s.parts[part].topic];
  j["partition"] = s.parts[part].index;
  j["offset"] = offset;
  return j;
}

namespace {

void note_duplicate(State& s, Id rec, Id part, int64_t offset, const Source& source) {
  auto& extra = s.extra_positions[rec];
  auto at = std::make_pair(part, offset);
  if (std::find(extra.begin(), extra.end(), at) != extra.end()) return;
  extra.push_back(at);
  if (s.records[rec].may_repeat) return;  // a non-idempotent producer's retry wrote it again
  s.report(Kind::duplicate, [&] {
    const Record& r = s.records[rec];
    Slot* first = s.parts[r.part].slots.find(r.offset);
    Source first_source = first && first->record == rec ? first->source : Source{};
    std::string text = fmt::format(
        "value \"{}\" at {} offset {} ({}) and at {} offset {} ({})", r.value, s.part_name(r.part),
        r.offset, s.source_text(first_source), s.part_name(part), offset, s.source_text(source));
    Json e;
    e["value"] = r.value;
    e["first"] = position_json(s, r.part, r.offset, first_source);
    e["second"] = position_json(s, part, offset, source);
    return std::make_pair(std::move(text), std::move(e));
  });
}

void note_inconsistent(State& s, Id part, int64_t offset, const Slot& first, Id rec,
                       const Source& source) {
  if (!s.inconsistent_reported.emplace(part, offset, rec).second) return;
  s.report(Kind::inconsistent_offsets, [&] {
    std::string text =
        fmt::format("{} offset {} holds \"{}\" ({}) and \"{}\" ({})", s.part_name(part), offset,
                    s.records[first.record].value, s.source_text(first.source),
                    s.records[rec].value, s.source_text(source));
    Json e;
    e["topic"] = s.topics[s.parts[part].topic];
    e["partition"] = s.parts[part].index;
    e["offset"] = offset;
    e["first"] = s.source_json(first.source);
    e["first"]["value"] = s.records[first.record].value;
    e["second"] = s.source_json(source);
    e["second"]["value"] = s.records[rec].value;
    return std::make_pair(std::move(text), std::move(e));
  });
}

// Record `rec` was seen at (part, offset) by `source`.
void observe(State& s, Id rec, Id part, int64_t offset, const Source& source) {
  Record& r = s.records[rec];
  if (r.part == kNoId) {
    r.part = part;
    r.offset = offset;
  } else if (r.part != part || r.offset != offset) {
    note_duplicate(s, rec, part, offset, source);
  }
  OffsetIndex& slots = s.parts[part].slots;
  Slot* slot = slots.find(offset);
  if (!slot) return slots.insert(offset, Slot{rec, source});
  if (slot->record != rec) note_inconsistent(s, part, offset, *slot, rec, source);
}

void report_nonmonotonic_poll(State& s, Id part, const Chain& chain, int64_t offset,
                              const Source& source) {
  s.report(Kind::nonmonotonic_poll, [&] {
    std::string text =
        chain.at_seek ? fmt::format("{} read {} offset {} below its position {} ({})",
                                    s.procs[source.proc].name, s.part_name(part), offset,
                                    chain.offset, s.source_text(chain.source))
                      : fmt::format("{} read {} offset {} after offset {} ({}), no seek between",
                                    s.procs[source.proc].name, s.part_name(part), offset,
                                    chain.offset, s.source_text(chain.source));
    Json e;
    e["consumer"] = s.procs[source.proc].name;
    e["topic"] = s.topics[s.parts[part].topic];
    e["partition"] = s.parts[part].index;
    e[chain.at_seek ? "position" : "previous_offset"] = chain.offset;
    e["offset"] = offset;
    e["before"] = s.source_json(chain.source);
    e["read"] = s.source_json(source);
    return std::make_pair(std::move(text), std::move(e));
  });
}

// A consumer read `offset` of `part`: compare with its last read or seek position there.
void advance_chain(State& s, Process& proc, Id part, int64_t offset, const Source& source) {
  auto [it, fresh] = proc.chains.try_emplace(part, Chain{offset, false, source});
  if (fresh) return;
  Chain& c = it->second;
  int64_t after = c.at_seek ? c.offset - 1 : c.offset;  // the last offset taken as read
  if (offset <= after) {
    report_nonmonotonic_poll(s, part, c, offset, source);
  } else if (offset > after + 1) {
    s.parts[part].gaps.push_back(Gap{after, offset, c.source, source, c.at_seek});
  }
  c = Chain{offset, false, source};
}

void on_poll_ok(State& s, Id proc, const OpLine& ok, const Source& source) {
  for (const ReadRecord& r : *ok.records) {
    ++s.stats.records_polled;
    Id part = s.part_id(r.topic, r.partition);
    observe(s, s.record_id(r.value), part, r.offset, source);
    advance_chain(s, s.procs[proc], part, r.offset, source);
  }
}

void on_seek_ok(State& s, Id proc, const OpLine& ok, const Source& source) {
  for (const PartitionOffset& p : *ok.positions) {
    Id part = s.part_id(p.topic, p.partition);
    if (p.offset < 0)  // a sentinel (latest, earliest) rather than an offset: position unknown
      s.procs[proc].chains.erase(part);
    else
      s.procs[proc].chains[part] = Chain{p.offset, true, source};
  }
}

// A commit takes effect somewhere between its invoke and its ok. So it regresses only against a
// commit acknowledged before it was invoked: two commits that overlap in time may land in either
// order (a consumer paused with its commit in flight is acknowledged late, for a commit that took
// effect early), and the later of two overlapping commits may legally carry the lower offset.
void on_commit_ok(State& s, const OpenOp& op, const OpLine& ok, const Source& source) {
  const std::string& group = ok.group ? *ok.group : op.group;
  for (const PartitionOffset& c : *ok.offsets) {
    Id part = s.part_id(c.topic, c.partition);
    std::vector<CommitMark>& marks = s.commits[{group, part}];
    auto before =
        std::lower_bound(marks.begin(), marks.end(), op.invoke_line,
                         [](const CommitMark& m, uint64_t line) { return m.ok_line < line; });
    if (before != marks.begin() && std::prev(before)->offset > c.offset) {
      const CommitMark& high = *std::prev(before);
      s.report(Kind::committed_offset_regress, [&] {
        std::string text = fmt::format(
            "group {} committed {} offset {} ({}) after offset {} ({}) was acknowledged", group,
            s.part_name(part), c.offset, s.source_text(source), high.offset,
            s.source_text(high.source));
        Json e;
        e["group"] = group;
        e["topic"] = c.topic;
        e["partition"] = c.partition;
        e["offset"] = c.offset;
        e["commit"] = s.source_json(source);
        e["earlier_offset"] = high.offset;
        e["earlier"] = s.source_json(high.source);
        return std::make_pair(std::move(text), std::move(e));
      });
    }
    if (marks.empty() || c.offset > marks.back().offset) {
      marks.push_back(CommitMark{s.line, c.offset, source});
    }
  }
}

void on_final_read_ok(State& s, const OpenOp& op, const OpLine& ok, const Source& source) {
  Id part = s.part_id(op.topic, op.partition);
  FinalRead read{source, op.invoke_line, *ok.from, *ok.to, {}};
  read.records.reserve(ok.records->size());
  for (const ReadRecord& r : *ok.records) {
    ++s.stats.records_final_read;
    Id at = s.part_id(r.topic, r.partition);
    Id rec = s.record_id(r.value);
    observe(s, rec, at, r.offset, source);
    if (at == part) read.records.emplace_back(r.offset, rec);
  }
  std::sort(read.records.begin(), read.records.end());
  s.parts[part].finals.push_back(std::move(read));
}

}  // namespace

void on_op_ok(State& s, Id proc, const OpenOp& op, const OpLine& ok, const Source& source) {
  switch (op.f) {
    case OpFn::send: {
      ++s.stats.sends_acked;
      if (*ok.offset < 0) break;  // acked without an offset (acks=0): nothing to place
      Id part = s.part_id(op.topic, *ok.partition);
      Id rec = s.record_id(op.value);
      observe(s, rec, part, *ok.offset, source);
      s.acks.push_back(Ack{rec, part, *ok.offset, source, s.line, op.seq, op.invoke.t,
                           op.incarnation, op.ordered});
      break;
    }
    case OpFn::poll:
      on_poll_ok(s, proc, ok, source);
      break;
    case OpFn::seek:
      on_seek_ok(s, proc, ok, source);
      break;
    case OpFn::commit:
      on_commit_ok(s, op, ok, source);
      break;
    case OpFn::final_read:
      on_final_read_ok(s, op, ok, source);
      break;
    case OpFn::other:
      break;
  }
}

}  // namespace gregor::check::internal
