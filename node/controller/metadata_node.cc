#include "node/controller/metadata_node.h"

#include <spdlog/spdlog.h>

#include "base/assert.h"

namespace gregor::metadata {

MetadataNode::MetadataNode(Env& env, raft::RaftNodeConfig config)
    : env_(env),
      raft_(env, std::move(config),
            raft::RaftNode::Listener{
                .on_snapshot = [this](const raft::Snapshot& s) { on_snapshot(s); },
                .on_committed = [this](const std::vector<raft::Entry>& e) { on_committed(e); },
                .on_state_change = [this] { on_state_change(); },
                .snapshot_data =
                    [this](int64_t end_offset) {
                      GREGOR_ASSERT(end_offset == applied_,
                                    "snapshot at {} of an image applied to {}", end_offset,
                                    applied_);
                      auto bytes = encode_snapshot(image_);
                      GREGOR_ASSERT(bytes.ok(), "encoding the metadata image: {}", bytes.status());
                      return std::move(bytes).value();
                    },
            }) {}

MetadataNode::~MetadataNode() {
  stop();
}

void MetadataNode::start(std::function<void(const Status&)> done) {
  raft_.start(std::move(done));
}

void MetadataNode::stop() {
  raft_.stop();
}

int MetadataNode::subscribe(OnApplied on_applied, OnStateChange on_state_change) {
  int id = next_subscriber_++;
  subscribers_.emplace(id, Subscriber{std::move(on_applied), std::move(on_state_change)});
  return id;
}

void MetadataNode::unsubscribe(int id) {
  subscribers_.erase(id);
}

int64_t MetadataNode::registration_offset(int32_t broker_id) const {
  auto it = image_.brokers.find(broker_id);
  // The broker epoch is the offset of the RegisterBrokerRecord that created it (Kafka's rule).
  return it == image_.brokers.end() ? -1 : it->second.epoch;
}

void MetadataNode::on_snapshot(const raft::Snapshot& snapshot) {
  auto image = decode_snapshot(snapshot.data);
  GREGOR_ASSERT(image.ok(), "metadata snapshot at {}: {}", snapshot.id.end_offset, image.status());
  image_ = std::move(image).value();
  applied_ = snapshot.id.end_offset;
  env_.tracer.event("metadata.snapshot_loaded",
                    TraceFields().add("end_offset", snapshot.id.end_offset));
  auto subs = subscribers_;  // a subscriber may unsubscribe
  for (auto& [id, s] : subs)
    if (s.on_applied) s.on_applied(nullptr, image_);
}

void MetadataNode::on_committed(const std::vector<raft::Entry>& entries) {
  for (const raft::Entry& entry : entries) {
    GREGOR_ASSERT(entry.offset == applied_, "metadata entry {} delivered after {}", entry.offset,
                  applied_);
    applied_ = entry.offset + 1;
    if (entry.kind != raft::EntryKind::kData) continue;
    auto records = decode_records(entry.payload);
    GREGOR_ASSERT(records.ok(), "metadata log entry {}: {}", entry.offset, records.status());
    MetadataDelta delta(image_);
    for (const MetadataRecord& r : *records) {
      Status st = delta.replay(r);
      GREGOR_ASSERT(st.ok(), "metadata log entry {}: {}", entry.offset, st);
    }
    image_ = delta.apply();  // a copy: the delta keeps what changed for the subscribers
    auto subs = subscribers_;
    for (auto& [id, s] : subs)
      if (s.on_applied) s.on_applied(&delta, image_);
  }
  // Progress without data (a LeaderChange entry committed) matters too: a new leader becomes the
  // active controller once its own epoch's entry is applied.
  on_state_change();
}

void MetadataNode::on_state_change() {
  auto subs = subscribers_;
  for (auto& [id, s] : subs)
    if (s.on_state_change) s.on_state_change();
}

}  // namespace gregor::metadata
