// Broker lifecycle: sessions, registration, heartbeats (fencing, unfencing, controlled
// shutdown), session expiry, and producer-id blocks.
#include <limits>

#include <fmt/format.h>

#include "node/controller/controller_logic_internal.h"

namespace gregor::controller {

using metadata::BrokerRegistration;

// --- BrokerHeartbeatTracker ----------------------------------------------------------------

void BrokerHeartbeatTracker::reset(const ControllerImage& image, MonoTime now) {
  last_contact_.clear();
  for (const auto& [id, broker] : image.brokers) last_contact_[id] = now;
}

void BrokerHeartbeatTracker::touch(int32_t broker_id, MonoTime now) {
  MonoTime& last = last_contact_[broker_id];
  if (now > last) last = now;  // a late-processed heartbeat never shortens a session
}

void BrokerHeartbeatTracker::remove(int32_t broker_id) {
  last_contact_.erase(broker_id);
}

bool BrokerHeartbeatTracker::session_alive(int32_t broker_id, MonoTime now) const {
  auto it = last_contact_.find(broker_id);
  return it != last_contact_.end() && now <= it->second + session_timeout_;
}

std::vector<int32_t> BrokerHeartbeatTracker::expired(MonoTime now) const {
  std::vector<int32_t> out;
  for (const auto& [id, last] : last_contact_)
    if (now > last + session_timeout_) out.push_back(id);
  return out;
}

namespace {

using internal::refuse;

}  // namespace

// --- Registration --------------------------------------------------------------------------

Decision<RegisterBrokerAnswer> register_broker(const ControllerImage& image,
                                               BrokerHeartbeatTracker& tracker,
                                               const ControllerConfig& config,
                                               const RegisterBrokerRequest& request,
                                               int64_t record_offset, MonoTime now) {
  Decision<RegisterBrokerAnswer> out;
  if (request.broker_id < 0) {
    out.answer.error =
        refuse(ErrorCode::invalid_request, fmt::format("broker id {}", request.broker_id));
    return out;
  }
  auto existing = image.brokers.find(request.broker_id);
  const BrokerRegistration* current = existing == image.brokers.end() ? nullptr : &existing->second;
  if (current != nullptr && current->incarnation_id == request.incarnation_id) {
    // A retry (the answer was lost): the registration stands, with its epoch.
    tracker.touch(request.broker_id, now);
    out.answer.broker_epoch = current->epoch;
    return out;
  }
  bool clean_restart = current != nullptr && request.previous_broker_epoch == current->epoch;
  // Kafka's hasValidSession: a fenced broker has none, so a crashed broker that was fenced may
  // come back at once; an unfenced one must first be fenced by its session's expiry.
  if (current != nullptr && !current->fenced && !clean_restart &&
      tracker.session_alive(request.broker_id, now)) {
    out.answer.error =
        refuse(kDuplicateBrokerRegistration,
               fmt::format("another broker is registered with id {} (incarnation "
                           "{}) and its session is alive",
                           request.broker_id, metadata::to_string(current->incarnation_id)));
    return out;
  }
  GREGOR_ASSERT(record_offset >= 0 && (current == nullptr || record_offset > current->epoch),
                "broker {}: record offset {} does not pass its epoch {}", request.broker_id,
                record_offset, current == nullptr ? -1 : current->epoch);
  internal::Batch batch(image);
  metadata::RegisterBrokerRecord record;
  record.broker_id = request.broker_id;
  record.incarnation_id = request.incarnation_id;
  record.broker_epoch = record_offset;
  record.endpoints = request.endpoints;
  record.rack = request.rack;
  record.fenced = true;
  batch.add(std::move(record));
  if (current != nullptr) {
    // The previous incarnation is gone: it leaves every ISR (it is fenced now), and, after an
    // unclean shutdown, every ELR too (KIP-966: its log may have lost acknowledged records).
    internal::remove_from_isrs(batch, config, request.broker_id,
                               /*unclean_shutdown=*/!clean_restart);
  }
  tracker.touch(request.broker_id, now);
  out.records = std::move(batch).take();
  out.answer.broker_epoch = record_offset;
  return out;
}

// --- Heartbeats ----------------------------------------------------------------------------

namespace {

enum class BrokerState { kFenced, kUnfenced, kControlledShutdown, kShutdownNow };

BrokerState state_of(const BrokerRegistration& b) {
  if (b.fenced) return b.in_controlled_shutdown ? BrokerState::kShutdownNow : BrokerState::kFenced;
  return b.in_controlled_shutdown ? BrokerState::kControlledShutdown : BrokerState::kUnfenced;
}

bool leads_a_partition(const ControllerImage& image, int32_t broker_id) {
  for (const auto& [id, topic] : image.topics)
    for (const auto& [index, p] : topic.partitions)
      if (p.leader == broker_id) return true;
  return false;
}

// Kafka's BrokerHeartbeatManager.calculateNextBrokerState.
BrokerState next_state(BrokerState current, const HeartbeatRequest& r, bool caught_up, bool leads) {
  switch (current) {
    case BrokerState::kFenced:
      if (r.want_shutdown_now) return BrokerState::kShutdownNow;
      if (!caught_up || r.want_fence) return BrokerState::kFenced;
      return BrokerState::kUnfenced;
    case BrokerState::kUnfenced:
      if (r.want_fence)
        return r.want_shutdown_now ? BrokerState::kShutdownNow : BrokerState::kFenced;
      if (r.want_shutdown_now)
        return leads ? BrokerState::kControlledShutdown : BrokerState::kShutdownNow;
      return BrokerState::kUnfenced;
    case BrokerState::kControlledShutdown:
      if (r.want_fence || !leads) return BrokerState::kShutdownNow;
      return BrokerState::kControlledShutdown;
    case BrokerState::kShutdownNow:
      return BrokerState::kShutdownNow;
  }
  GREGOR_UNREACHABLE("broker state {}", static_cast<int>(current));
}

}  // namespace

Decision<HeartbeatAnswer> heartbeat(const ControllerImage& image, BrokerHeartbeatTracker& tracker,
                                    const ControllerConfig& config, const HeartbeatRequest& request,
                                    MonoTime now, int64_t registration_offset) {
  Decision<HeartbeatAnswer> out;
  auto it = image.brokers.find(request.broker_id);
  if (it == image.brokers.end()) {
    out.answer.error = refuse(kBrokerIdNotRegistered,
                              fmt::format("broker {} is not registered", request.broker_id));
    return out;
  }
  const BrokerRegistration& broker = it->second;
  if (broker.epoch != request.broker_epoch) {
    out.answer.error = refuse(ErrorCode::stale_broker_epoch,
                              fmt::format("expected broker epoch {}, but got broker epoch {}",
                                          broker.epoch, request.broker_epoch));
    return out;
  }
  tracker.touch(request.broker_id, now);
  bool caught_up = request.current_metadata_offset >= registration_offset;
  BrokerState current = state_of(broker);
  BrokerState next =
      next_state(current, request, caught_up, leads_a_partition(image, request.broker_id));
  internal::Batch batch(image);
  if (next != current) {
    switch (next) {
      case BrokerState::kUnfenced:
        batch.add(metadata::UnfenceBrokerRecord{.id = broker.id, .epoch = broker.epoch});
        internal::elect_leaderless(batch, config);
        break;
      case BrokerState::kControlledShutdown:
        batch.add(metadata::BrokerRegistrationChangeRecord{
            .broker_id = broker.id, .broker_epoch = broker.epoch, .in_controlled_shutdown = 1});
        internal::remove_from_isrs(batch, config, broker.id, /*unclean_shutdown=*/false);
        break;
      case BrokerState::kFenced:
      case BrokerState::kShutdownNow:
        // From kFenced to kShutdownNow there is nothing to write: the broker is fenced already.
        if (!broker.fenced) internal::fence_broker(batch, config, broker.id);
        break;
    }
  }
  out.records = std::move(batch).take();
  out.answer.is_caught_up = caught_up;
  out.answer.is_fenced = next == BrokerState::kFenced || next == BrokerState::kShutdownNow;
  out.answer.in_controlled_shutdown = next == BrokerState::kControlledShutdown;
  out.answer.should_shut_down = next == BrokerState::kShutdownNow;
  return out;
}

Decision<std::vector<int32_t>> fence_expired(const ControllerImage& image,
                                             const BrokerHeartbeatTracker& tracker,
                                             const ControllerConfig& config, MonoTime now) {
  Decision<std::vector<int32_t>> out;
  internal::Batch batch(image);
  for (int32_t id : tracker.expired(now)) {
    auto it = batch.image().brokers.find(id);
    if (it == batch.image().brokers.end() || it->second.fenced) continue;
    internal::fence_broker(batch, config, id);
    out.answer.push_back(id);
  }
  out.records = std::move(batch).take();
  return out;
}

// --- Producer ids --------------------------------------------------------------------------

Decision<ProducerIdBlock> allocate_producer_ids(const ControllerImage& image, int32_t broker_id,
                                                int64_t broker_epoch, int32_t block_size) {
  GREGOR_ASSERT(block_size >= 1 && block_size <= kProducerIdBlockSizeMax,
                "producer id block size {}", block_size);
  Decision<ProducerIdBlock> out;
  auto it = image.brokers.find(broker_id);
  if (it == image.brokers.end() || it->second.epoch != broker_epoch) {
    out.answer.error =
        refuse(ErrorCode::stale_broker_epoch,
               it == image.brokers.end()
                   ? fmt::format("no broker registration found for broker {}", broker_id)
                   : fmt::format("expected broker epoch {}, but got broker epoch {}",
                                 it->second.epoch, broker_epoch));
    return out;
  }
  int64_t start = image.next_producer_id;
  if (start > std::numeric_limits<int64_t>::max() - block_size) {
    out.answer.error = refuse(ErrorCode::unknown_server_error, "exhausted all producer ids");
    return out;
  }
  internal::Batch batch(image);
  batch.add(metadata::ProducerIdsRecord{.broker_id = broker_id,
                                        .broker_epoch = broker_epoch,
                                        .next_producer_id = start + block_size});
  out.records = std::move(batch).take();
  out.answer.start = start;
  out.answer.length = block_size;
  return out;
}

}  // namespace gregor::controller
