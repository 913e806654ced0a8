// The client checks that need the whole history (see client_checks.cc for why they wait):
// lost writes against final reads and against consumers' skips, poll skips, and the send order
// of ordered producers. Each runs per partition over offset-sorted vectors, so the whole pass is
// a sort plus linear scans; a union-find over each partition's acks lets every gap jump past the
// acks already found lost, so overlapping gaps cannot make it quadratic.
#include <fmt/format.h>

#include <algorithm>

#include "sim/check/checker_state.h"

namespace gregor::check::internal {
namespace {

// Reports `a` lost (once). why() returns {reason text, evidence fields to add}.
template <typename Why>
void report_lost(State& s, Ack& a, Why&& why) {
  a.lost = true;
  s.report(Kind::lost_write, [&] {
    auto [reason, detail] = why();
    std::string text = fmt::format("acked send \"{}\" ({}, {} offset {}) is missing: {}",
                                   s.records[a.record].value, s.source_text(a.source),
                                   s.part_name(a.part), a.offset, reason);
    Json e;
    e["value"] = s.records[a.record].value;
    e["topic"] = s.topics[s.parts[a.part].topic];
    e["partition"] = s.parts[a.part].index;
    e["offset"] = a.offset;
    e["ack"] = s.source_json(a.source);
    for (auto& [k, v] : detail.items()) e[k] = v;
    return std::make_pair(std::move(text), std::move(e));
  });
}

Json final_read_json(const State& s, const FinalRead& f) {
  Json j = s.source_json(f.source);
  j["from"] = f.from;
  j["to"] = f.to;
  return j;
}

// Every ack of the partition (offset-sorted `acked`) that a final read covered must be in it.
void check_final_reads(State& s, Id part, const std::vector<uint32_t>& acked) {
  for (const FinalRead& f : s.parts[part].finals) {
    size_t j = 0;
    for (uint32_t i : acked) {
      Ack& a = s.acks[i];
      if (a.lost || a.ack_line > f.invoke_line || a.offset < f.from) continue;
      Id found = kNoId;
      bool there = false;
      if (a.offset < f.to) {
        while (j < f.records.size() && f.records[j].first < a.offset) ++j;
        for (size_t k = j; k < f.records.size() && f.records[k].first == a.offset; ++k) {
          there = there || f.records[k].second == a.record;
          found = f.records[k].second;
        }
      }
      if (there) continue;
      report_lost(s, a, [&] {
        std::string where = a.offset >= f.to ? fmt::format("the log ended at {}", f.to)
                            : found == kNoId
                                ? std::string("nothing is there")
                                : fmt::format("\"{}\" is there", s.records[found].value);
        Json d;
        d["final_read"] = final_read_json(s, f);
        d["found"] = found == kNoId ? Json() : Json(s.records[found].value);
        return std::make_pair(
            fmt::format("{} read [{}, {}) and {}", s.source_text(f.source), f.from, f.to, where),
            std::move(d));
      });
    }
  }
}

void report_poll_skip(State& s, Id part, const Gap& g, const std::vector<int64_t>& known, size_t lo,
                      size_t hi) {
  s.report(Kind::poll_skip, [&] {
    const Partition& p = s.parts[part];
    const std::string& consumer = s.procs[g.to.proc].name;
    int64_t first = known[lo];
    std::string first_value(s.records[s.parts[part].slots.find(first)->record].value);
    std::string start =
        g.from_seek
            ? fmt::format("was positioned at offset {} ({})", g.after + 1, s.source_text(g.from))
            : fmt::format("read offset {} ({})", g.after, s.source_text(g.from));
    std::string text = fmt::format(
        "{} {} of {} then read offset {} ({}), skipping {} known records from offset {} (\"{}\")",
        consumer, start, s.part_name(part), g.before, s.source_text(g.to), hi - lo, first,
        first_value);
    Json e;
    e["consumer"] = consumer;
    e["topic"] = s.topics[p.topic];
    e["partition"] = p.index;
    e[g.from_seek ? "position" : "read_before"] = g.from_seek ? g.after + 1 : g.after;
    e["read_after"] = g.before;
    e["before"] = s.source_json(g.from);
    e["after"] = s.source_json(g.to);
    e["skipped_count"] = hi - lo;
    e["skipped"] = Json::array();
    for (size_t k = lo; k < hi && k < lo + kEvidenceOffsetsMax; ++k) {
      Id rec = s.parts[part].slots.find(known[k])->record;
      e["skipped"].push_back(Json::array({known[k], s.records[rec].value}));
    }
    return std::make_pair(std::move(text), std::move(e));
  });
}

// Gaps in consumers' reads: poll-skip when a known record is inside, lost-write for each ack
// inside (found once, however many gaps cover it).
void check_gaps(State& s, Id part, const std::vector<uint32_t>& acked) {
  Partition& p = s.parts[part];
  if (p.gaps.empty()) return;
  std::vector<int64_t> known = p.slots.sorted_offsets();
  // next[k]: the first index >= k of an ack not yet lost (union-find with path halving).
  std::vector<uint32_t> next(acked.size() + 1);
  for (uint32_t k = 0; k <= acked.size(); ++k)
    next[k] = k < acked.size() && s.acks[acked[k]].lost ? k + 1 : k;
  auto alive = [&](uint32_t k) {
    while (next[k] != k) k = next[k] = next[next[k]];
    return k;
  };
  for (const Gap& g : p.gaps) {
    auto lo = std::upper_bound(known.begin(), known.end(), g.after) - known.begin();
    auto hi = std::lower_bound(known.begin(), known.end(), g.before) - known.begin();
    if (lo >= hi) continue;
    report_poll_skip(s, part, g, known, static_cast<size_t>(lo), static_cast<size_t>(hi));
    auto first = std::upper_bound(acked.begin(), acked.end(), g.after,
                                  [&](int64_t o, uint32_t i) { return o < s.acks[i].offset; });
    for (uint32_t k = alive(static_cast<uint32_t>(first - acked.begin()));
         k < acked.size() && s.acks[acked[k]].offset < g.before; k = alive(k + 1)) {
      next[k] = k + 1;
      report_lost(s, s.acks[acked[k]], [&] {
        const std::string& consumer = s.procs[g.to.proc].name;
        Json d;
        d["consumer"] = consumer;
        d[g.from_seek ? "position" : "read_before"] = g.from_seek ? g.after + 1 : g.after;
        d["read_after"] = g.before;
        d["before"] = s.source_json(g.from);
        d["after"] = s.source_json(g.to);
        return std::make_pair(
            fmt::format("{} read offset {} ({}) right after {} {} ({})", consumer, g.before,
                        s.source_text(g.to), g.from_seek ? "being positioned at" : "reading",
                        g.from_seek ? g.after + 1 : g.after, s.source_text(g.from)),
            std::move(d));
      });
    }
  }
}

void report_send_order(State& s, const Ack& earlier, const Ack& later) {
  s.report(Kind::nonmonotonic_send, [&] {
    const std::string& producer = s.procs[later.source.proc].name;
    std::string text = fmt::format(
        "ordered producer {} sent \"{}\" (op {}) before \"{}\" (op {}) to {}, but they got "
        "offsets {} and {}",
        producer, s.records[earlier.record].value, earlier.source.op, s.records[later.record].value,
        later.source.op, s.part_name(later.part), earlier.offset, later.offset);
    auto side = [&](const Ack& a) {
      Json j;
      j["op"] = a.source.op;
      j["value"] = s.records[a.record].value;
      j["offset"] = a.offset;
      j["invoke_t"] = a.invoke_t;
      j["ack_t"] = a.source.t;
      return j;
    };
    Json e;
    e["producer"] = producer;
    e["topic"] = s.topics[s.parts[later.part].topic];
    e["partition"] = s.parts[later.part].index;
    e["earlier"] = side(earlier);
    e["later"] = side(later);
    return std::make_pair(std::move(text), std::move(e));
  });
}

// Per (ordered producer incarnation, partition), in invoke order: every ack's offset must exceed
// the offsets of all sends invoked before it.
void check_send_order(State& s) {
  std::vector<uint32_t> ordered;
  for (uint32_t i = 0; i < s.acks.size(); ++i)
    if (s.acks[i].ordered) ordered.push_back(i);
  auto key = [&](uint32_t i) {
    const Ack& a = s.acks[i];
    return std::make_tuple(a.source.proc, a.incarnation, a.part, a.invoke_seq);
  };
  std::sort(ordered.begin(), ordered.end(),
            [&](uint32_t x, uint32_t y) { return key(x) < key(y); });
  size_t high = 0;  // index in `ordered` of the highest offset so far in this run
  for (size_t k = 0; k < ordered.size(); ++k) {
    const Ack& a = s.acks[ordered[k]];
    const Ack* prev = k > 0 ? &s.acks[ordered[k - 1]] : nullptr;
    if (!prev || prev->source.proc != a.source.proc || prev->incarnation != a.incarnation ||
        prev->part != a.part) {
      high = k;  // a new (producer incarnation, partition)
      continue;
    }
    const Ack& h = s.acks[ordered[high]];
    if (a.offset < h.offset)
      report_send_order(s, h, a);
    else if (a.offset > h.offset)
      high = k;
  }
}

}  // namespace

void finish_client_checks(State& s) {
  std::vector<std::vector<uint32_t>> acked(s.parts.size());
  for (uint32_t i = 0; i < s.acks.size(); ++i) acked[s.acks[i].part].push_back(i);
  for (Id part = 0; part < s.parts.size(); ++part) {
    std::vector<uint32_t>& list = acked[part];
    std::sort(list.begin(), list.end(), [&](uint32_t x, uint32_t y) {
      return std::make_pair(s.acks[x].offset, x) < std::make_pair(s.acks[y].offset, y);
    });
    check_final_reads(s, part, list);
    check_gaps(s, part, list);
  }
  check_send_order(s);
  std::vector<bool> lost(s.records.size());
  for (const Ack& a : s.acks)
    if (a.lost && !lost[a.record]) {
      lost[a.record] = true;
      ++s.stats.records_lost;
    }
}

}  // namespace gregor::check::internal
