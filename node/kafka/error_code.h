// Kafka protocol error codes (the numbers are the wire values of Kafka's Errors enum). The log
// and the broker report client-visible failures with these, so a bad batch becomes exactly the
// error a real Kafka client expects.
#pragma once

#include <cstdint>
#include <string_view>

namespace gregor::kafka {

enum class ErrorCode : int16_t {
  unknown_server_error = -1,
  none = 0,
  offset_out_of_range = 1,
  corrupt_message = 2,
  unknown_topic_or_partition = 3,
  invalid_fetch_size = 4,
  leader_not_available = 5,
  not_leader_or_follower = 6,
  request_timed_out = 7,
  message_too_large = 10,
  coordinator_load_in_progress = 14,
  coordinator_not_available = 15,
  not_coordinator = 16,
  invalid_topic_exception = 17,
  record_list_too_large = 18,
  not_enough_replicas = 19,
  not_enough_replicas_after_append = 20,
  invalid_required_acks = 21,
  illegal_generation = 22,
  inconsistent_group_protocol = 23,
  unknown_member_id = 25,
  invalid_session_timeout = 26,
  rebalance_in_progress = 27,
  invalid_commit_offset_size = 28,
  invalid_timestamp = 32,
  unsupported_version = 35,
  topic_already_exists = 36,
  invalid_partitions = 37,
  invalid_replication_factor = 38,
  invalid_config = 40,
  not_controller = 41,
  invalid_request = 42,
  out_of_order_sequence_number = 45,
  duplicate_sequence_number = 46,
  invalid_producer_epoch = 47,
  invalid_producer_id_mapping = 49,
  unsupported_compression_type = 76,
  fenced_leader_epoch = 74,
  unknown_leader_epoch = 75,
  stale_broker_epoch = 77,
  member_id_required = 79,
  preferred_leader_not_available = 80,
  group_max_size_reached = 81,
  fenced_instance_id = 82,
  invalid_record = 87,
  unknown_producer_id = 59,
  producer_fenced = 90,
  broker_not_available = 8,
  replica_not_available = 9,
  offset_metadata_too_large = 12,
  invalid_group_id = 24,
  invalid_replica_assignment = 39,
  policy_violation = 44,
  invalid_txn_state = 48,
  transactional_id_authorization_failed = 53,
  kafka_storage_error = 56,
  non_empty_group = 68,
  group_id_not_found = 69,
  fetch_session_id_not_found = 70,
  invalid_fetch_session_epoch = 71,
  topic_deletion_disabled = 73,
  unknown_topic_id = 100,
  // The controller's answers (KRaft).
  invalid_update_version = 95,
  duplicate_broker_registration = 101,
  broker_id_not_registered = 102,
  ineligible_replica = 107,
};

std::string_view error_name(ErrorCode code);

// The wire value: what a response's int16 error_code field carries.
constexpr int16_t code(ErrorCode e) {
  return static_cast<int16_t>(e);
}

}  // namespace gregor::kafka
