// Proves, by RapidCheck against a naive model, that the log keeps its promises under random
// appends, flushes, truncations, log-start advances, segment rolls and crashes on the simulated
// disk (power loss keeps an arbitrary prefix of unsynced writes, torn at sector boundaries):
// everything flushed survives, nothing unacknowledged or corrupt is ever read, offsets stay
// contiguous, and what survives is a prefix of what was appended. Reopening twice (recovery
// idempotence) changes nothing.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "node/log/log_test_util.h"

namespace gregor::log {
namespace {

using testing::LogHarness;
using testing::make_batch;
using testing::values_of;

struct ModelBatch {
  int64_t first, last;
  int tag;
};

struct Model {
  std::vector<ModelBatch> batches;  // acknowledged, in offset order
  int64_t log_start = 0;
  int64_t durable_end = 0;  // everything below was flushed
  int64_t end() const {
    return batches.empty() ? log_start : std::max(log_start, batches.back().last + 1);
  }
  void truncate(int64_t offset) {
    while (!batches.empty() && batches.back().last >= offset) batches.pop_back();
    durable_end = std::min(durable_end, end());
  }
};

// The log's content must equal the model's from the log start on.
void check_matches(LogHarness& h, const Model& m) {
  RC_ASSERT(h.log().log_end_offset() == m.end());
  int64_t next = h.log().log_start_offset();
  auto it = m.batches.begin();
  while (next < m.end()) {
    auto r = h.read(next, 4096);
    RC_ASSERT(r.ok());
    auto values = values_of(r->batches);
    RC_ASSERT(!values.empty());
    for (auto& [offset, value] : values) {
      if (offset < next) continue;
      RC_ASSERT(offset == next);
      while (it->last < offset) ++it;
      std::string want = std::to_string(it->tag) + ":" + std::to_string(offset - it->first);
      RC_ASSERT(value.substr(0, value.find('.')) == want);
      ++next;
    }
  }
}

// Starts an append (which may roll a segment and write a snapshot), a flush (which writes the
// checkpoints) or a truncation, runs `events` events of it, then cuts the power. Whatever state
// recovery finds must be a whole-batch prefix of what the log held or was writing, and must
// keep everything flushed before the operation began.
void crash_mid_operation(LogHarness& h, Model& m, int kind, int tag, int events) {
  int64_t before_end = m.end();
  std::optional<ModelBatch> in_flight;
  int64_t truncate_to = -1;
  if (kind == 0) {
    int count = 1 + tag % 4;
    in_flight = ModelBatch{before_end, before_end + count - 1, tag};
    h.log().append(make_batch(tag, count), 0, [](auto, auto) {});
  } else if (kind == 1) {
    h.log().flush([](const Status&) {});
  } else {
    truncate_to = m.log_start + (before_end - m.log_start) / 2;
    h.log().truncate_to(truncate_to, [](const Status&) {});
  }
  h.step(events);
  RC_ASSERT(h.crash_and_reopen(true).ok());
  int64_t end = h.log().log_end_offset();
  int64_t floor = m.durable_end;
  if (truncate_to >= 0) {
    Model after = m;  // truncation removes whole batches: a straddling one goes too
    after.truncate(truncate_to);
    floor = std::min(floor, after.end());
  }
  floor = std::max(floor, m.log_start);
  RC_ASSERT(end >= floor);
  if (in_flight && end > before_end) {
    RC_ASSERT(end == in_flight->last + 1);  // the batch survived whole or not at all
    m.batches.push_back(*in_flight);
  } else {
    RC_ASSERT(end <= std::max(before_end, m.log_start));
    if (end == m.log_start) {
      m.batches.clear();
    } else {
      m.truncate(end);
      RC_ASSERT(m.end() == end);
    }
  }
  m.durable_end = std::min(m.durable_end, m.end());
}

RC_GTEST_PROP(LogProperty, MatchesModelThroughCrashes, ()) {
  LogConfig c;
  c.segment_bytes = *rc::gen::element<uint64_t>(700, 2048, 1 << 20);
  c.index_interval_bytes = 128;
  c.retention_bytes = *rc::gen::element<int64_t>(-1, 1500, 6000);
  LogHarness h(c, *rc::gen::inRange<uint64_t>(1, 1u << 30));
  RC_ASSERT(h.open().ok());
  Model m;
  int tag = 0;
  int steps = *rc::gen::inRange(10, 80);
  for (int step = 0; step < steps; ++step) {
    int op = *rc::gen::inRange(0, 100);
    if (op < 55) {
      int count = *rc::gen::inRange(1, 6);
      auto a = h.append(make_batch(++tag, count));
      RC_ASSERT(a.info.ok());
      RC_ASSERT(a.info->first_offset == m.end());
      m.batches.push_back({a.info->first_offset, a.info->last_offset, tag});
    } else if (op < 65) {
      RC_ASSERT(h.flush().ok());
      m.durable_end = m.end();
    } else if (op < 72 && m.end() > m.log_start) {
      int64_t to = *rc::gen::inRange<int64_t>(m.log_start, m.end() + 1);
      RC_ASSERT(h.truncate_to(to).ok());
      m.truncate(to);
    } else if (op < 76 && m.end() > m.log_start) {
      int64_t to = *rc::gen::inRange<int64_t>(m.log_start, m.end() + 1);
      h.log().set_high_watermark(m.end());
      RC_ASSERT(h.advance_start(to).ok());
      m.log_start = std::max(m.log_start, to);
    } else if (op < 79) {
      // Retention deletes whole old segments: the start moves to a batch boundary, never past
      // the end, and what remains still matches.
      RC_ASSERT(h.retention().ok());
      int64_t start = h.log().log_start_offset();
      RC_ASSERT(start >= m.log_start);
      RC_ASSERT(start <= m.end());
      bool boundary = start == m.end();
      for (auto& b : m.batches) boundary |= b.first == start;
      RC_ASSERT(boundary || start == m.log_start);
      m.log_start = start;
    } else if (op < 82) {
      RC_ASSERT(h.crash_and_reopen(false).ok());  // process crash: nothing is lost
    } else if (op < 88) {
      crash_mid_operation(h, m, *rc::gen::inRange(0, 3), ++tag, *rc::gen::inRange(0, 40));
    } else {
      RC_ASSERT(h.crash_and_reopen(true).ok());  // power loss
      int64_t end = h.log().log_end_offset();
      RC_ASSERT(end >= std::max(m.durable_end, m.log_start));  // flushed data survived
      RC_ASSERT(end <= std::max(m.end(), m.log_start));        // nothing appeared from nowhere
      if (m.log_start >= m.end() || end == m.log_start) {
        // The start was past what survived: the log restarts empty at its start.
        m.batches.clear();
        m.durable_end = m.log_start;
        if (end > m.log_start) RC_FAIL("records appeared past a restarted log start");
      } else {
        m.truncate(end);            // the model forgets what the crash took
        RC_ASSERT(m.end() == end);  // ...and it was a whole-batch prefix
      }
    }
    RC_ASSERT(h.log().log_start_offset() == m.log_start);
    check_matches(h, m);
  }
  // Recovery is idempotent: reopening a recovered log changes nothing.
  RC_ASSERT(h.crash_and_reopen(false).ok());
  check_matches(h, m);
  RC_TAG(h.log().recovery_report().indexes_loaded > 0 ? "sealed segments loaded from indexes"
                                                      : "every segment scanned");
}

}  // namespace
}  // namespace gregor::log
