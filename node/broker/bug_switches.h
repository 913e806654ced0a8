// Bug switches: deliberately broken (planted) or historic (legacy Kafka) behaviours that the
// simulator turns on to show the checker catching them. All are off in production: `gregor serve`
// has no way to set them, only scenario files (cluster.bugs) do.
#pragma once

namespace gregor::broker {

struct BugSwitches {
  // Planted: a Produce is answered as soon as its append is submitted, with the offset the batch
  // is predicted to get, before it is written, let alone fsynced. A crash in between loses
  // acknowledged records; retries and failed appends make the predicted offsets lie.
  bool ack_before_append = false;

  bool operator==(const BugSwitches&) const = default;
};

}  // namespace gregor::broker
