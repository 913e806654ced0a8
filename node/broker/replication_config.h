// The broker's partition-replication settings: Kafka's replica.* keys, and the legacy switches
// that bring back historic replication behaviours (docs/legacy-switches.md says what each breaks).
#pragma once

#include <cstdint>

#include "base/time.h"

namespace gregor::broker {

struct ReplicationConfig {
  // replica.lag.time.max.ms: a follower that has not caught up to the leader's log end for this
  // long leaves the ISR.
  Duration lag_time_max = milliseconds(30000);
  // replica.fetch.wait.max.ms: how long a follower's fetch waits at the leader for new data.
  Duration fetch_wait_max = milliseconds(500);
  // replica.fetch.max.bytes: per partition in one follower fetch (the first batch always comes).
  int32_t fetch_max_bytes = 1024 * 1024;
  // replica.fetch.response.max.bytes: for the whole follower fetch.
  int32_t fetch_response_max_bytes = 10 * 1024 * 1024;
  // replica.fetch.backoff.ms: after a failed follower fetch, the wait before the next.
  Duration fetch_backoff = milliseconds(1000);

  // --- Legacy switches (all off: Kafka's fixed behaviour) ---
  // legacy.replication.truncate.to.high.watermark: a replica that becomes follower truncates its
  // log to its high watermark instead of asking the leader where their logs diverge (before
  // KIP-101, Kafka < 0.11). Loses acknowledged records when leaders change in quick succession.
  bool truncate_to_high_watermark = false;
  // legacy.replication.epoch.answer.pre.kip.279: the leader answers OffsetsForLeaderEpoch with
  // only the end offset of the asked epoch, never the largest epoch it holds at or below it
  // (KIP-101 as first shipped, before KIP-279). Logs can stay diverged after two fast elections.
  bool epoch_answer_pre_kip279 = false;
  // legacy.replication.isr.expand.without.epoch.start: a follower rejoins the ISR once it has
  // reached the high watermark, even before it has reached the start of the leader's current
  // epoch (KAFKA-7128). The new ISR member may then be elected without the records the leader
  // appended in its epoch.
  bool isr_expand_without_epoch_start = false;
  // legacy.replication.high.watermark.before.truncation: a follower told by the leader's fetch
  // answer that its log diverges (KIP-320) applies the leader's high watermark first and
  // truncates after (KAFKA-14704, fixed in Kafka 3.5). Its log end still holds the diverging
  // tail, so for a while its high watermark covers records that are about to go: readable as
  // committed, then taken back.
  bool high_watermark_before_truncation = false;

  // Whether followers learn of a divergence from the leader's Fetch answer (KIP-320, Kafka 2.7+)
  // rather than by asking OffsetsForLeaderEpoch before fetching: not when a switch brings back
  // a protocol older than that.
  bool truncate_on_fetch() const { return !truncate_to_high_watermark && !epoch_answer_pre_kip279; }

  bool operator==(const ReplicationConfig&) const = default;
};

}  // namespace gregor::broker
